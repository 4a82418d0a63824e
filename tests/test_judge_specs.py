"""Judge spec strings: parsing, errors, and wiring to the judge constructors."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from toolrm_agent.judges.loader import JudgeSpec, load_judge, parse_judge_spec


def test_simple_kinds() -> None:
    assert parse_judge_spec("schema") == JudgeSpec(kind="schema", text="schema")
    gen = parse_judge_spec("gen:default")
    assert (gen.kind, gen.target, gen.options) == ("gen", "default", {})
    disc = parse_judge_spec("disc:/ckpt/bt-critic")
    assert (disc.kind, disc.target) == ("disc", "/ckpt/bt-critic")
    local_dir = parse_judge_spec("gen:/models/Qwen2.5-0.5B")
    assert local_dir.target == "/models/Qwen2.5-0.5B"


def test_openai_model_and_url() -> None:
    spec = parse_judge_spec("openai:Qwen/Qwen3-8B@http://127.0.0.1:8000/v1")
    assert (spec.kind, spec.target, spec.base_url) == (
        "openai",
        "Qwen/Qwen3-8B",
        "http://127.0.0.1:8000/v1",
    )
    # the '@' that starts the URL wins over one inside the URL (credentials)
    creds = parse_judge_spec("openai:m@https://user:pw@host:8000/v1")
    assert (creds.target, creds.base_url) == ("m", "https://user:pw@host:8000/v1")


def test_options_are_typed_and_routed() -> None:
    spec = parse_judge_spec(
        "gen:default?thinking=1&both_orders=false&on_unparseable=fail_closed"
        "&model.max_new_tokens=256&model.temperature=0.5"
    )
    assert spec.target == "default"
    assert spec.options == {"thinking": True, "both_orders": False, "on_unparseable": "fail_closed"}
    assert spec.model_options == {"max_new_tokens": 256, "temperature": 0.5}
    assert parse_judge_spec("disc:ckpt?threshold=0.7").options == {"threshold": 0.7}
    assert parse_judge_spec("schema?ungrounded=false").options == {"ungrounded": False}


def test_cascade_splits_at_the_comma_that_starts_a_spec() -> None:
    spec = parse_judge_spec("cascade:schema,openai:Qwen/Qwen3-8B@http://h:8000/v1")
    first, second = spec.parts
    assert first.kind == "schema"
    assert (second.kind, second.target, second.base_url) == (
        "openai",
        "Qwen/Qwen3-8B",
        "http://h:8000/v1",
    )
    # commas inside an inner spec that do not start a judge kind stay there
    odd = parse_judge_spec("cascade:disc:/runs/a,b,gen:default?thinking=1")
    assert odd.parts[0].target == "/runs/a,b"
    assert (odd.parts[1].target, odd.parts[1].options) == ("default", {"thinking": True})
    nested = parse_judge_spec("cascade:schema,cascade:disc:ckpt,gen:default")
    assert nested.parts[0].kind == "schema"
    assert [p.kind for p in nested.parts[1].parts] == ["disc", "gen"]
    # a cascade on the left: the first split that parses on both sides wins
    left = parse_judge_spec("cascade:cascade:schema,disc:x,gen:default")
    assert [p.kind for p in left.parts] == ["cascade", "gen"]
    assert [p.kind for p in left.parts[0].parts] == ["schema", "disc"]


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("", "empty spec"),
        ("llm:foo", "unknown judge kind 'llm'"),
        ("schemax", "unknown judge kind"),
        ("gen:", "needs a model"),
        ("disc:", "needs a checkpoint dir"),
        ("openai:qwen", "openai:<model>@<base_url>"),
        ("openai:@http://h/v1", "openai:<model>@<base_url>"),
        ("cascade:schema", "two specs"),
        ("cascade:schema,llm:x", "two specs"),
        ("gen:default?thinking", "key=value"),
        ("disc:ckpt?model.x=1", "no model"),
    ],
)
def test_bad_specs_list_the_valid_forms(spec: str, why: str) -> None:
    with pytest.raises(ValueError, match="Valid forms") as info:
        parse_judge_spec(spec)
    message = str(info.value)
    assert why in message
    for form in (
        "schema",
        "gen:<model>",
        "openai:<model>@<base_url>",
        "disc:<checkpoint dir>",
        "cascade:<spec>,<spec>",
    ):
        assert form in message


# -- load_judge wiring, with the backends replaced by recording fakes ----------------------


class _Recorder:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs


@pytest.fixture()
def fake_backends(monkeypatch: pytest.MonkeyPatch) -> dict[str, type]:
    classes = {
        name: type(name, (_Recorder,), {})
        for name in (
            "SchemaJudge",
            "GenerativeJudge",
            "CascadeJudge",
            "LocalChatModel",
            "ChatOpenAI",
        )
    }
    for module, names in {
        "toolrm_agent.judges.schema": ["SchemaJudge"],
        "toolrm_agent.judges.generative.generative": ["GenerativeJudge"],
        "toolrm_agent.judges.cascade": ["CascadeJudge"],
        "toolrm_agent.models": ["LocalChatModel"],
        "langchain_openai": ["ChatOpenAI"],
    }.items():
        fake = types.ModuleType(module)
        for name in names:
            setattr(fake, name, classes[name])
        monkeypatch.setitem(sys.modules, module, fake)
    return classes


def test_load_judge_builds_each_kind(fake_backends: dict[str, type]) -> None:
    schema = load_judge("schema")
    assert type(schema).__name__ == "SchemaJudge" and schema.kwargs == {}

    gen = load_judge("gen:default?thinking=1&model.max_new_tokens=64")
    assert type(gen).__name__ == "GenerativeJudge" and gen.kwargs == {"thinking": True}
    (model,) = gen.args
    assert type(model).__name__ == "LocalChatModel"
    assert model.kwargs == {"model_path": "default", "max_new_tokens": 64}

    remote = load_judge("openai:Qwen/Qwen3-8B@http://127.0.0.1:8000/v1", both_orders=False)
    assert remote.kwargs == {"both_orders": False}  # overrides reach the outer judge
    (client,) = remote.args
    assert client.kwargs == {
        "model": "Qwen/Qwen3-8B",
        "base_url": "http://127.0.0.1:8000/v1",
        "api_key": "EMPTY",
    }

    cascade = load_judge("cascade:schema,gen:default")
    first, second = cascade.args
    assert type(first).__name__ == "SchemaJudge" and type(second).__name__ == "GenerativeJudge"


def test_load_judge_turns_bad_options_into_value_errors(fake_backends: dict[str, type]) -> None:
    def strict(self: Any, **kwargs: Any) -> None:
        raise TypeError(f"unexpected keyword argument {next(iter(kwargs))!r}")

    fake_backends["SchemaJudge"].__init__ = strict  # type: ignore[method-assign]
    with pytest.raises(ValueError, match="bad option .*'colour'"):
        load_judge("schema?colour=red")


def test_parsing_imports_no_backend() -> None:
    before = set(sys.modules)
    parse_judge_spec("cascade:schema,gen:default")
    assert not {m for m in set(sys.modules) - before if m.startswith(("torch", "transformers"))}
