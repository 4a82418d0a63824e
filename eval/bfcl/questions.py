"""BFCL v4 questions, possible answers and checkers, from the installed ``bfcl-eval``.

The data ship inside the PyPI package ``bfcl-eval`` (``bfcl_eval/data/BFCL_v4_<category>.json``
and ``bfcl_eval/data/possible_answer/...``), so nothing here reads the network or ``../shared``.

- :func:`load_questions` / :func:`load_answers`: one category at a time, cached.
- :func:`check`: BFCL's own AST checker (``ast_checker``; imported behind a stub of BFCL's
  model registry, see :mod:`eval.bfcl.stub`), the irrelevance rule of the v4 runner
  (correct iff no call), and BFCL's multi-turn checker, which executes the calls against
  BFCL's simulated APIs (file system, trading bot, ...) and compares the state reached
  with the one the ground truth reaches.
- :func:`ground_truth_proposal`: the reference answer as a :class:`Proposal`.

Example::

    q = load_questions("simple_python")["simple_python_0"]
    gt = ground_truth_proposal(q, load_answers("simple_python")[q.id])
    assert check(q, gt).valid
"""

from __future__ import annotations

import ast
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.pycalls import PythonSyntax, read_value
from toolrm_agent.core.specs import ToolSpec

__all__ = [
    "AST_CATEGORIES",
    "BROKEN_ANSWERS",
    "CATEGORIES",
    "IRRELEVANCE_CATEGORIES",
    "MULTI_TURN_CATEGORIES",
    "BfclQuestion",
    "CheckResult",
    "category_of",
    "check",
    "check_decoded",
    "data_dir",
    "execution_strings",
    "ground_truth_proposal",
    "ground_truth_turns",
    "load_answers",
    "load_questions",
    "to_decoded",
]

#: The BFCL v4 categories this package supports, in report order.
CATEGORIES: tuple[str, ...] = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_irrelevance",
    "multi_turn_base",
)
#: Categories scored by the AST checker against possible answers.
AST_CATEGORIES: frozenset[str] = frozenset(
    {
        "simple_python",
        "multiple",
        "parallel",
        "parallel_multiple",
        "live_simple",
        "live_multiple",
        "live_parallel",
        "live_parallel_multiple",
    }
)
#: Categories where the right answer is no call at all.
IRRELEVANCE_CATEGORIES: frozenset[str] = frozenset({"irrelevance", "live_irrelevance"})
#: Categories where at least one call is the right answer (no possible answers exist).
RELEVANCE_CATEGORIES: frozenset[str] = frozenset({"live_relevance"})
#: Categories scored by executing the calls against BFCL's simulated APIs.
MULTI_TURN_CATEGORIES: frozenset[str] = frozenset({"multi_turn_base"})

#: v4 questions whose possible answer fails BFCL's own checker: it names a parameter
#: that the function doc lacks, lacks one the doc requires, or allows no value at all
#: (``[]``) for a required one.
BROKEN_ANSWERS: frozenset[str] = frozenset(
    {
        "live_simple_106-63-0",
        "live_simple_112-68-0",
        "live_multiple_862-181-3",
        "live_multiple_964-207-0",
    }
)

# BFCL v1 category prefixes (as in the 2024 result files) → v4 category.
_V1_PREFIXES: dict[str, str] = {
    "simple": "simple_python",
    "multiple_function": "multiple",
    "parallel_function": "parallel",
    "parallel_multiple_function": "parallel_multiple",
    "relevance": "irrelevance",
}

_SAFE_NAME = re.compile(r"^[A-Za-z_][\w.]*$")
#: How ground-truth call strings are read: BFCL's values, a bare name a variable.
_GROUND_TRUTH = PythonSyntax(bare_names="variable", dialect="bfcl")


# --------------------------------------------------------------------------- data


def data_dir() -> Path:
    """The ``data`` folder of the installed ``bfcl_eval`` package."""
    return Path(str(resources.files("bfcl_eval") / "data"))


def category_of(id: str) -> str:  # noqa: A002 - BFCL's own field name
    """The v4 category of a BFCL id: ``live_simple_3-2-0`` → ``live_simple``.

    v1 ids such as ``parallel_function_4`` are mapped to their v4 category too.
    """
    head = id.rsplit("_", 1)[0] if "_" in id else id
    return _V1_PREFIXES.get(head, head)


class BfclQuestion(BaseModel):
    """One BFCL question: the conversation turns and the functions offered.

    ``turns`` is BFCL's ``question`` field: a list of turns, each a list of
    ``{"role", "content"}`` messages (single-turn categories have one turn).
    ``functions`` are BFCL function docs (``parameters.type == "dict"``). Multi-turn
    questions also carry ``initial_config`` and ``involved_classes`` for the simulator.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    category: str
    turns: list[list[dict[str, Any]]]
    functions: list[dict[str, Any]] = Field(default_factory=list)
    initial_config: dict[str, Any] = Field(default_factory=dict)
    involved_classes: list[str] = Field(default_factory=list)

    @cached_property
    def specs(self) -> tuple[ToolSpec, ...]:
        """The offered functions as :class:`ToolSpec` (JSON-schema types)."""
        return tuple(ToolSpec.from_bfcl(doc) for doc in self.functions)

    @property
    def function_names(self) -> list[str]:
        return [str(doc.get("name")) for doc in self.functions]

    def context(self, turn: int = 0) -> JudgeContext:
        """A :class:`JudgeContext` holding the messages of turn ``turn`` (default: the first)."""
        messages = self.turns[turn] if self.turns else []
        return JudgeContext(
            turns=tuple(
                Turn(role=_role(m.get("role", "user")), content=str(m.get("content") or ""))
                for m in messages
            ),
            tools=self.specs,
        )


def _role(role: str) -> Any:
    return role if role in ("system", "user", "assistant", "tool") else "user"


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@cache
def _multi_turn_docs(class_name: str) -> tuple[dict[str, Any], ...]:
    from bfcl_eval.constants.executable_backend_config import MULTI_TURN_FUNC_DOC_FILE_MAPPING

    path = data_dir() / "multi_turn_func_doc" / MULTI_TURN_FUNC_DOC_FILE_MAPPING[class_name]
    return tuple(_read_jsonl(path))


@cache
def _questions(category: str) -> dict[str, BfclQuestion]:
    path = data_dir() / f"BFCL_v4_{category}.json"
    if not path.exists():
        raise ValueError(f"unknown BFCL v4 category {category!r} (no file {path.name})")
    out: dict[str, BfclQuestion] = {}
    for entry in _read_jsonl(path):
        functions = entry.get("function")
        if functions is None and entry.get("involved_classes"):
            functions = [doc for cls in entry["involved_classes"] for doc in _multi_turn_docs(cls)]
        out[entry["id"]] = BfclQuestion(
            id=entry["id"],
            category=category,
            turns=entry.get("question") or [],
            functions=list(functions or []),
            initial_config=entry.get("initial_config") or {},
            involved_classes=entry.get("involved_classes") or [],
        )
    return out


def load_questions(category: str) -> dict[str, BfclQuestion]:
    """All questions of a v4 category by id (a copy of a cached dict)."""
    return dict(_questions(category))


@cache
def _answers(category: str) -> dict[str, Any]:
    path = data_dir() / "possible_answer" / f"BFCL_v4_{category}.json"
    if not path.exists():  # irrelevance / relevance categories have none
        if (data_dir() / f"BFCL_v4_{category}.json").exists():
            return {}
        raise ValueError(f"unknown BFCL v4 category {category!r}")
    return {e["id"]: e["ground_truth"] for e in _read_jsonl(path)}


def load_answers(category: str) -> dict[str, list[Any]]:
    """Possible answers by id: ``[{name: {arg: [acceptable values]}}]`` per question.

    Multi-turn categories give one list of call strings per turn. Irrelevance has none
    (an empty dict).
    """
    return dict(_answers(category))


# ------------------------------------------------------------------------- checking


class CheckResult(BaseModel):
    """The checker's verdict: valid or not, BFCL's error type and messages."""

    model_config = ConfigDict(frozen=True)

    valid: bool
    error_type: str | None = None
    errors: list[str] = Field(default_factory=list)


def to_decoded(calls: Proposal | Sequence[Mapping[str, Any]] | Sequence[ToolCall]) -> list[dict[str, Any]]:
    """Calls in BFCL's decoded format ``[{name: {arg: value}}]``."""
    if isinstance(calls, Proposal):
        return [{c.name: dict(c.arguments)} for c in calls.calls]
    out: list[dict[str, Any]] = []
    for item in calls:
        if isinstance(item, ToolCall):
            out.append({item.name: dict(item.arguments)})
        else:
            out.append(dict(item))
    return out


def _messages(errors: Any) -> list[str]:
    if errors is None:
        return []
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, list):
        return [e if isinstance(e, str) else json.dumps(e, default=str) for e in errors]
    return [json.dumps(errors, default=str)]


def _checker_result(result: dict[str, Any], *, errors_key: str, unclear: str) -> CheckResult:
    """A BFCL checker's answer (``valid``, ``error_type``, the errors under ``errors_key``)
    as a :class:`CheckResult`; ``unclear``: the error type when it names none."""
    if result.get("valid"):
        return CheckResult(valid=True)
    return CheckResult(
        valid=False,
        error_type=str(result.get("error_type") or unclear),
        errors=_messages(result.get(errors_key)),
    )


def _language(language: str) -> Any:
    from bfcl_eval.constants.enums import Language

    key = language.strip().upper().replace(" ", "")
    try:
        return Language[key]
    except KeyError:
        raise ValueError(f"unknown language {language!r}; use Python, Java or JavaScript") from None


def _has_call(decoded: list[dict[str, Any]]) -> bool:
    """BFCL's ``is_empty_output`` negated: a non-empty list of ``{name: {args}}``."""
    if not decoded:
        return False
    if len(decoded) == 1 and not decoded[0]:
        return False
    return all(
        isinstance(item, dict) and len(item) == 1 and isinstance(next(iter(item.values())), dict)
        for item in decoded
    )


def check_decoded(
    question: BfclQuestion,
    decoded: list[dict[str, Any]],
    *,
    category: str | None = None,
    answer: Any = None,
    language: str = "Python",
) -> CheckResult:
    """Check calls already in BFCL's decoded format (see :func:`check`)."""
    category = category or question.category
    if category in IRRELEVANCE_CATEGORIES:
        if _has_call(decoded):
            return CheckResult(
                valid=False,
                error_type="irrelevance_error:decoder_success",
                errors=["Valid syntax. Successfully decode AST when it should not."],
            )
        return CheckResult(valid=True)
    if category in RELEVANCE_CATEGORIES:
        if _has_call(decoded):
            return CheckResult(valid=True)
        return CheckResult(
            valid=False,
            error_type="relevance_error:decoder_failed",
            errors=["No function call when one was expected."],
        )
    if category in MULTI_TURN_CATEGORIES:
        raise ValueError("multi-turn questions are checked turn by turn: use check()")
    if answer is None:
        answer = _answers(category).get(question.id)
        if answer is None:
            raise ValueError(f"no possible answer for {question.id!r} in {category!r}")

    from eval.bfcl.stub import ast_checker_module

    checker = ast_checker_module()
    try:
        result = checker.ast_checker(
            question.functions, decoded, answer, _language(language), category, "toolrm"
        )
    except Exception as exc:  # noqa: BLE001 - BFCL's checker trips on odd values
        return CheckResult(
            valid=False,
            error_type="checker:exception",
            errors=[f"{type(exc).__name__}: {exc}"],
        )
    return _checker_result(result, errors_key="error", unclear="ast_checker:unclear")


def check(
    question: BfclQuestion,
    calls: Any,
    *,
    category: str | None = None,
    language: str = "Python",
    answer: Any = None,
) -> CheckResult:
    """Check proposed calls with BFCL's rules for the question's category.

    ``calls`` is a :class:`Proposal`, a list of :class:`ToolCall`, or BFCL's decoded
    format ``[{name: {arg: value}}]``. Function names are compared exactly: decode FC
    outputs with :func:`eval.bfcl.decode.decode` (which maps ``a_b`` back to ``a.b``).

    - AST categories: a proposal holding a call that could not be parsed is invalid
      (``ast_decoder:decoder_failed``, as when BFCL cannot decode an output); otherwise
      BFCL's ``ast_checker`` decides.
    - Irrelevance: correct iff there is no (parsed) call.
    - ``multi_turn_base``: ``calls`` holds one entry per turn; each turn is a list of
      steps and each step a Proposal, a list of call strings, or decoded calls. A turn may
      also be a single Proposal. BFCL's multi-turn checker executes the calls.

    ``answer`` overrides the possible answer from ``bfcl_eval`` (else looked up by id).
    """
    category = category or question.category
    if category in MULTI_TURN_CATEGORIES:
        return _check_multi_turn(question, calls, answer=answer)
    if isinstance(calls, Proposal):
        if calls.failures and category not in IRRELEVANCE_CATEGORIES | RELEVANCE_CATEGORIES:
            return CheckResult(
                valid=False,
                error_type="ast_decoder:decoder_failed",
                errors=[f"Failed to decode: {f.reason}" for f in calls.failures],
            )
    return check_decoded(
        question, to_decoded(calls), category=category, answer=answer, language=language
    )


# ------------------------------------------------------------------------ multi-turn


def execution_strings(calls: Proposal | Sequence[Any]) -> list[str]:
    """Calls as BFCL's executable strings ``f(a=1, b='x')`` (values as Python literals).

    Raises ``ValueError`` on a function name that is not a dotted identifier: these
    strings are passed to ``eval`` by BFCL's simulator.
    """
    if isinstance(calls, Proposal):
        items: list[tuple[str, Mapping[str, Any] | None]] = [(c.name, c.arguments) for c in calls.calls]
    else:
        items = []
        for item in calls:
            if isinstance(item, str):
                items.append((item, None))
            elif isinstance(item, ToolCall):
                items.append((item.name, item.arguments))
            else:
                for name, args in dict(item).items():
                    items.append((name, args))
    out: list[str] = []
    for name, args in items:
        if args is None:  # already a call string
            tree = ast.parse(name, mode="eval")
            if not isinstance(tree.body, ast.Call) or not _SAFE_NAME.match(
                ast.unparse(tree.body.func)
            ):
                raise ValueError(f"not a plain function call: {name!r}")
            out.append(name)
            continue
        if not _SAFE_NAME.match(name):
            raise ValueError(f"not a function name: {name!r}")
        rendered = ", ".join(f"{k}={v!r}" for k, v in args.items())
        out.append(f"{name}({rendered})")
    return out


def _steps(turn: Any) -> list[list[str]]:
    if isinstance(turn, Proposal):
        turn = [turn]
    steps: list[list[str]] = []
    for step in turn:
        if isinstance(step, str):
            step = [step]
        strings = execution_strings(step)
        if strings:  # BFCL drops empty steps
            steps.append(strings)
    return steps


def _check_multi_turn(question: BfclQuestion, calls: Any, *, answer: Any) -> CheckResult:
    if answer is None:
        answer = _answers(question.category).get(question.id)
        if answer is None:
            raise ValueError(f"no ground truth for {question.id!r}")
    if not isinstance(calls, Sequence) or len(calls) != len(answer):
        got = len(calls) if isinstance(calls, Sequence) else type(calls).__name__
        return CheckResult(
            valid=False,
            error_type="multi_turn:force_terminated",
            errors=[f"{got} turns given, the question has {len(answer)}"],
        )
    try:
        decoded = [_steps(turn) for turn in calls]
    except (ValueError, SyntaxError) as exc:
        return CheckResult(valid=False, error_type="multi_turn:decoder_failed", errors=[str(exc)])
    from eval.bfcl.stub import multi_turn_modules

    checker, utils = multi_turn_modules()
    # BFCL keeps simulator instances in its module globals, keyed by model name and id:
    # a fresh name per check keeps runs independent, and we drop them afterwards.
    run_name = f"toolrm_{uuid.uuid4().hex}"
    entry = {
        "id": question.id,
        "initial_config": question.initial_config,
        "involved_classes": question.involved_classes,
    }
    try:
        result = checker.multi_turn_irrelevance_checker(decoded, answer)
        if result.get("valid"):
            result = checker.multi_turn_checker(decoded, answer, entry, question.category, run_name)
    except Exception as exc:  # noqa: BLE001 - simulator errors must not kill a run
        result = {
            "valid": False,
            "error_type": "checker:exception",
            "error_message": f"{type(exc).__name__}: {exc}",
        }
    finally:
        for key in [k for k in vars(utils) if k.startswith(run_name)]:
            del vars(utils)[key]
    return _checker_result(result, errors_key="error_message", unclear="multi_turn:unclear")


# ---------------------------------------------------------------------- ground truth


def _first_value(values: Any, schema: Mapping[str, Any] | None) -> Any:
    """The first acceptable value, resolving nested possible answers of dict params."""
    value = values[0]
    ptype = (schema or {}).get("type")
    if ptype == "dict" and isinstance(value, dict):
        return _resolve_dict(value, (schema or {}).get("properties"))
    if ptype in ("array", "tuple") and isinstance(value, list):
        items = (schema or {}).get("items") or {}
        if items.get("type") == "dict":
            return [
                _resolve_dict(v, items.get("properties")) if isinstance(v, dict) else v
                for v in value
            ]
    return value


def _resolve_dict(possible: Mapping[str, Any], properties: Any) -> dict[str, Any]:
    """A dict possible answer ``{key: [acceptable values]}`` → one concrete dict."""
    props = properties if isinstance(properties, Mapping) else {}
    out: dict[str, Any] = {}
    for key, values in possible.items():
        if not isinstance(values, list) or not values:
            out[key] = values
            continue
        if "" in values:
            continue
        out[key] = _first_value(values, props.get(key))
    return out


def _ground_truth_call(question: BfclQuestion, name: str, params: Mapping[str, Any]) -> ToolCall:
    doc = next((d for d in question.functions if d.get("name") == name), None)
    schema = (doc or {}).get("parameters") or {}
    props = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    args: dict[str, Any] = {}
    for arg, values in params.items():
        if not isinstance(values, list) or not values:
            continue
        if "" in values:  # BFCL marks optional arguments with the empty value
            # ... but its checker insists on arguments the function doc requires; for
            # those, the first non-empty value (or "" itself when nothing else is allowed).
            if arg not in required:
                continue
            values = [v for v in values if v != ""] or [""]
        args[arg] = _first_value(values, props.get(arg))
    return ToolCall(id=f"gt_{question.id}_{len(args)}_{name}", name=name, arguments=args)


def ground_truth_proposal(question: BfclQuestion, answer: Any = None) -> Proposal:
    """The BFCL reference answer as a Proposal.

    Each argument takes its first acceptable value; an argument is left out only where
    the empty value ``""`` is among the acceptable ones (BFCL's mark of an optional
    argument). Exception: BFCL's checker demands every argument the function doc lists
    as required, even where the possible answer marks it optional, so a required
    argument keeps its first non-empty acceptable value (``""`` when that is the only
    one). Four v4 questions have possible answers that no output can pass (see
    :data:`BROKEN_ANSWERS`). Irrelevance questions give the empty proposal. For multi-turn questions
    this is the first turn (see :func:`ground_truth_turns`).
    """
    if answer is None:
        answer = _answers(question.category).get(question.id, [])
    if question.category in MULTI_TURN_CATEGORIES:
        turns = ground_truth_turns(question, answer)
        return turns[0] if turns else Proposal()
    calls = []
    for i, item in enumerate(answer or []):
        for name, params in item.items():
            call = _ground_truth_call(question, name, params)
            calls.append(call.override(id=f"gt_{question.id}_{i}"))
    return Proposal(calls=tuple(calls))


def ground_truth_turns(question: BfclQuestion, answer: Any = None) -> list[Proposal]:
    """Multi-turn ground truth: one Proposal per turn, parsed from BFCL's call strings.

    Positional arguments (``sort('a.txt')``) are named after the function doc's
    parameter order. Values are read by the project's one Python-call reader, as BFCL
    reads them (a bare name is a variable: the call is unparsable).
    """
    if answer is None:
        answer = _answers(question.category).get(question.id, [])
    docs = {d.get("name"): d for d in question.functions}
    out: list[Proposal] = []
    for t, turn in enumerate(answer):
        calls: list[ToolCall] = []
        failures: list[ParseFailure] = []
        for s, text in enumerate(turn):
            try:
                node = ast.parse(text, mode="eval").body
                if not isinstance(node, ast.Call):
                    raise ValueError("not a call")
                name = ast.unparse(node.func)
                order = list(
                    ((docs.get(name) or {}).get("parameters") or {}).get("properties") or {}
                )
                args = {order[i]: read_value(a, _GROUND_TRUTH) for i, a in enumerate(node.args)}
                args.update(
                    {k.arg: read_value(k.value, _GROUND_TRUTH) for k in node.keywords if k.arg}
                )
                calls.append(ToolCall(id=f"gt_{question.id}_{t}_{s}", name=name, arguments=args))
            except (ValueError, SyntaxError, IndexError) as exc:
                failures.append(ParseFailure(raw=text, reason=f"ground truth unparsable: {exc}"))
        out.append(Proposal(calls=tuple(calls), failures=tuple(failures)))
    return out
