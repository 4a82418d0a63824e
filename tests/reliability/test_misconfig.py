"""Misconfiguration fails loudly, when the judge (or the graph) is built.

Not at the first call, where the critic's fail-open policy would turn it into a warning
and let every proposal through. And every error the library raises is a ``ToolRMError``
(that also subclasses the builtin it replaced, so old ``except ValueError`` still works).
"""

from __future__ import annotations

import ast
import builtins
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tests.fakes import TOOLS, ScriptedChatModel, ScriptedJudge
from toolrm_agent.core import errors
from toolrm_agent.core.errors import (
    CheckpointError,
    ConfigurationError,
    ConfigurationTypeError,
    JudgeBackendError,
    ToolRMError,
)
from toolrm_agent.critic.node import CriticBudget, CriticOptions, ToolRMCritic, build_agent_graph
from toolrm_agent.judges.generative.generative import GenerativeJudge
from toolrm_agent.judges.loader import load_judge, parse_judge_spec
from toolrm_agent.judges.trained.discriminative import DiscriminativeJudge

PACKAGE = Path(__file__).resolve().parents[2] / "toolrm_agent"

# (file, builtin exception) pairs that may stay, and why
ALLOWED_BUILTIN_RAISES: dict[tuple[str, str], str] = {
    ("core/_lazy.py", "AttributeError"): "a package's module __getattr__ must raise AttributeError",
    ("cli.py", "KeyboardInterrupt"): "re-raises the user's Ctrl-C",
    ("cli.py", "SystemExit"): "the command line's exit status 1 after it printed a library error in one box",
    ("prompting/_calling.py", "TimeoutError"): (
        "internal: the critic's judge deadline; the engine catches it and records a "
        "judge_error verdict, it never reaches the caller"
    ),
}
# exception classes defined outside errors.py that need not derive from ToolRMError
ALLOWED_FOREIGN_CLASSES: dict[str, str] = {
    "JudgeCancelledError": (
        "internal (prompting/_calling.py): stops a judge call abandoned after its "
        "deadline, inside the abandoned thread; never reaches the caller"
    ),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----------------------------------------------------------------- missing checkpoints


def test_missing_or_broken_checkpoints_fail_when_the_judge_is_built(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_judge(f"disc:{tmp_path / 'nope'}")
    three_labels = tmp_path / "three_labels"  # one label is the reward, two its log-odds
    three_labels.mkdir()
    (three_labels / "config.json").write_text(json.dumps({"id2label": {"0": "bad", "1": "ok", "2": "good"}}))
    with pytest.raises(CheckpointError, match="num_labels=3"):
        load_judge(f"disc:{three_labels}")
    broken = tmp_path / "broken_critic"
    broken.mkdir()
    (broken / "critic.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not a critic manifest"):
        load_judge(f"disc:{broken}")
    for spec in (f"gen:{tmp_path / 'no_model'}", "gen:./no/such/dir", f"lik:{tmp_path / 'none'}"):
        with pytest.raises(CheckpointError, match="no such model directory"):
            load_judge(spec)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CheckpointError, match="no config.json"):
        load_judge(f"gen:{empty}")
    # all of them are also FileNotFoundError, and ToolRMError
    assert issubclass(CheckpointError, FileNotFoundError) and issubclass(CheckpointError, ToolRMError)


def test_a_reward_model_that_is_not_there_fails_its_check(tmp_path: Path) -> None:
    judge = DiscriminativeJudge(tmp_path / "missing")  # lazy: nothing is read yet
    with pytest.raises(CheckpointError, match="not a directory"):
        judge.check()


# ---------------------------------------------------------------------- unknown options


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("schema?colour=red", r"unknown option\(s\) \['colour'\] for schema"),
        ("gen:default?thinkng=1", r"unknown option\(s\) \['thinkng'\] for gen"),
        ("openai:m@http://127.0.0.1:9/v1?model.max_tokenz=5", r"unknown model option\(s\) \['model.max_tokenz'\]"),
        ("gen:default?model.max_new_tokenz=5", r"unknown model option\(s\) \['model.max_new_tokenz'\]"),
        ("cascade:schema,gen:default?bogus=1", r"\['bogus'\]"),
    ],
)
def test_unknown_options_fail_before_anything_is_built(spec: str, match: str) -> None:
    with pytest.raises(ConfigurationTypeError, match=match) as info:
        load_judge(spec)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


def test_bad_specs_and_values_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="unknown judge kind 'bogus'"):
        parse_judge_spec("bogus:x")
    with pytest.raises(ConfigurationError, match="on_unparseable"):
        load_judge("gen:default?on_unparseable=maybe")
    with pytest.raises(ConfigurationError, match="on_unparseable"):
        GenerativeJudge(ScriptedChatModel(), on_unparseable="maybe")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="mode"):
        CriticOptions(mode="vote")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="max_retries"):
        CriticBudget(max_retries=-1)
    with pytest.raises(ConfigurationTypeError, match="CriticBudget"):
        CriticOptions(budget={"max_retries": 1})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="threshold"):
        DiscriminativeJudge("ckpt", threshold=2.0)


# ------------------------------------------------------------------ unreachable servers


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, bytes]] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        code, body = self.routes.get(self.path, (404, b"not found"))
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[str]:
    _Handler.routes = {"/v1/models": (200, b'{"object": "list", "data": [{"id": "judge"}]}')}
    httpd = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_unreachable_server_fails_the_startup_check(server: str) -> None:
    dead = f"openai:judge@http://127.0.0.1:{free_port()}/v1"
    judge = load_judge(dead)  # building needs no I/O ...
    with pytest.raises(JudgeBackendError, match="unreachable"):
        judge.check()  # ... the explicit check does
    with pytest.raises(JudgeBackendError, match="unreachable"):
        load_judge(dead, check=True)
    with pytest.raises(JudgeBackendError, match="no OpenAI-compatible API"):
        load_judge(f"openai:judge@{server}", check=True)  # no /v1: GET /models is a 404
    assert load_judge(f"openai:judge@{server}/v1", check=True).name  # a live server passes
    # a cascade checks both of its judges
    with pytest.raises(JudgeBackendError, match="unreachable"):
        load_judge(f"cascade:schema,{dead}", check=True)


def test_build_agent_graph_can_check_the_judge_at_build_time() -> None:
    judge = load_judge(f"openai:judge@http://127.0.0.1:{free_port()}/v1")
    model = ScriptedChatModel(script=["hi"])
    with pytest.raises(JudgeBackendError, match="unreachable"):
        build_agent_graph(model, TOOLS, ToolRMCritic(judge), check_judge=True)
    build_agent_graph(model, TOOLS, ToolRMCritic(ScriptedJudge()), check_judge=True)  # nothing to check


# ------------------------------------------------------------------- the hierarchy


def _raises_of_builtins(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name):
                obj = getattr(builtins, exc.id, None)
                if isinstance(obj, type) and issubclass(obj, BaseException):
                    found.append((node.lineno, exc.id))
    return found


def test_no_builtin_exception_is_raised_outside_the_documented_ones() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for line, name in _raises_of_builtins(path):
            if (rel, name) not in ALLOWED_BUILTIN_RAISES:
                offenders.append(f"toolrm_agent/{rel}:{line}: raise {name}")
    assert not offenders, (
        "raise a ToolRMError subclass instead (e.g. ConfigurationError, which is also a "
        "ValueError):\n" + "\n".join(offenders)
    )


def test_every_exception_class_of_the_package_is_a_toolrm_error() -> None:
    known = {name for name, obj in vars(errors).items() if isinstance(obj, type) and issubclass(obj, ToolRMError)}
    foreign = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef) or node.name.startswith("_") or node.name == "ToolRMError":
                continue
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
            builtin_exc = {b for b in bases if isinstance(getattr(builtins, b, None), type)
                           and issubclass(getattr(builtins, b), BaseException)}
            if (builtin_exc or node.name.endswith("Error")) and not bases & known:
                if node.name not in ALLOWED_FOREIGN_CLASSES:
                    foreign.append(f"{path.relative_to(PACKAGE.parent)}: class {node.name}({', '.join(sorted(bases))})")
    assert not foreign, "\n".join(foreign)


def test_the_hierarchy_is_documented() -> None:
    doc = errors.__doc__ or ""
    for name, obj in vars(errors).items():
        if isinstance(obj, type) and issubclass(obj, ToolRMError) and obj is not ToolRMError:
            assert name in doc, f"{name} is missing from the tree in toolrm_agent/core/errors.py"
