"""Fuzz the tool-call parsers, the answer parsers, the prompt renderer and the schema judge.

::

    toolrm bench fuzz --examples 100000 --out bench_fuzz.json [--seed 0]
    toolrm bench fuzz --examples 100000 --through-critic --out bench_fuzz_critic.json

Each *target* is a function that must never raise on any input (the parsers turn what
they cannot read into a :class:`~toolrm_agent.core.calls.ParseFailure` or ``None``; the
judge and the prompt renderer always answer). Inputs come from hypothesis strategies:
arbitrary text (lone surrogates, NUL, every line break), text stitched from the tokens
these parsers look for (``<tool_call>``, fences, ``<choice>``, ``<think>``, brackets),
JSON values (NaN and infinities, integers of thousands of digits, strings of ten thousand
characters, duplicate keys, nesting thousands deep), call lists of every shape (Hermes,
bare or fenced JSON, xLAM, OpenAI ``tool_calls`` with non-dict items and non-string ids,
BFCL strings and FC lists) and proposals with duplicate call ids. ``--examples`` is
split evenly over the targets; each target runs under hypothesis with that many
examples, every exception is caught and counted (the run never stops at the first).

The JSON report::

    {"examples": N, "inputs": total inputs run, "crashes": total,
     "targets": {name: {"inputs": .., "crashes": .., "seconds": .., "examples": [...]}},
     "seconds": .., "command": ..}

``--through-critic`` runs the *critic targets* instead (:data:`CRITIC_TARGETS`): each
input is a whole agent run, end to end through :class:`~toolrm_agent.ToolRMCritic` (in
``build_agent_graph``) or :class:`~toolrm_agent.ToolRMMiddleware` (in ``create_agent``),
sync and async. The policy proposes a generated ``AIMessage`` (built with
``model_construct``, as a provider adapter or a ``model_copy`` may build it): tool names,
argument keys and values, call ids and the raw text of malformed calls drawn from every
code point (lone surrogates included), arguments as dicts, JSON text, ``None`` or
anything else, entries that are no dicts; the user's message is generated text too; the
judge is the schema judge, one that accepts everything (so the calls reach the tools) or
one that rejects everything, in retry or best-of-N mode. A run that raises is a crash *in
the critic* when a frame of ``toolrm_agent`` is on its traceback, or when the same input
runs without the critic (same graph, no critic) without raising.

``tests/reliability/test_fuzz.py`` runs the same targets with a few dozen examples each.
"""

from __future__ import annotations

import json
import math
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.parsing import (
    parse_bfcl_fc,
    parse_bfcl_string,
    parse_hermes,
    parse_json_calls,
    parse_text,
    proposal_from_message,
    proposal_from_openai,
    to_bfcl_fc,
    to_bfcl_string,
    to_hermes,
    to_openai,
)
from toolrm_agent.core.specs import ToolSpec
from toolrm_agent.core.thinking import strip_thinking
from toolrm_agent.integrations.vllm_tool_parser import (
    extract_tool_calls_lenient,
    offered_tool_names,
)
from toolrm_agent.judges.generative.answers import parse_choice, parse_verdict
from toolrm_agent.judges.generative.templates import pairwise_messages, pointwise_messages
from toolrm_agent.judges.schema import SchemaJudge
from toolrm_agent.prompting.prompt_text import neutralize

app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0] if __doc__ else None)

# --------------------------------------------------------------------------- strategies

# every code point, lone surrogates included (hypothesis leaves them out by default)
ANY_CHAR = st.characters(codec=None, categories=None)
SMALL_TEXT = st.text(ANY_CHAR, max_size=40)

TOKENS = (
    "<tool_call>", "</tool_call>", "<tool_call>\n", "\n</tool_call>", "```", "```json\n",
    "```python\n", "{", "}", "[", "]", "(", ")", '"name"', '"arguments"', '"parameters"',
    '"function"', '"tool_calls"', '"id"', ":", ",", '"', "\\", "\\u", "\\ud800", "null",
    "true", "NaN", "Infinity", "-Infinity", "1e999", "0", "-1", "1" * 5000, '"get_weather"',
    '"x"', "f(", "a=1", "b='x'", "**k", "*a", "lambda: 0", "1+", "2**64", "(-8)**0.5",
    "[TOOL_CALLS]", "functools", "<|tool_call|>", "<choice>", "</choice>", "1", "2",
    "<verdict>", "</verdict>", "correct", "incorrect", "<score>", "</score>", "7/10",
    "<critique>", "</critique>", "<think>", "</think>", "Response 1 is better", "\\boxed{2}",
    "## Response 1", "[user]", "<|im_start|>", "|>", "\n", "\r", "\r\n", "\u2028", "\x85",
    " ", "\t", " " * 3000, "\n" * 2000, "\x00", "\ud83d", "é", "😀", "[" * 3000, "]" * 3000,
    "{" * 3000, '{"a":' * 1500, "(" * 300,
)  # fmt: skip

TOKEN_TEXT = st.lists(st.sampled_from(TOKENS) | SMALL_TEXT, max_size=30).map("".join)
"""Text stitched from the tokens the parsers look for, and noise."""

BIG_TEXT = st.builds(
    lambda s, n: (s * n)[:1_200_000], st.sampled_from(TOKENS) | SMALL_TEXT, st.integers(1, 20_000)
)
"""One token or snippet repeated up to 20,000 times, at most 1.2 MB (megabyte inputs)."""

LEAF = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(10**5000), 10**5000)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([math.nan, math.inf, -math.inf, -(2**70)])
    | st.integers(4300, 4500).map(lambda n: 10**n)  # past Python's printing limit
    | SMALL_TEXT
    | st.builds(lambda n: "n" * n, st.integers(0, 10_000))
)
NAMES = SMALL_TEXT | st.sampled_from(
    ["", " ", "get_weather", "a.b", "x" * 10_000, "\ud800", "f\n## x"]
)
JSON_VALUES = st.recursive(
    LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=20,
)


def _deep(n: int, kind: str) -> Any:
    value: Any = "leaf"
    for _ in range(n):
        value = (
            [value]
            if kind == "list"
            else {"a": value}
            if kind == "dict"
            else {"tool_calls": [value]}
        )
    return value


DEEP = st.builds(_deep, st.integers(0, 3000), st.sampled_from(["list", "dict", "tool_calls"]))
VALUES = JSON_VALUES | DEEP

IDS = (
    st.none()
    | st.integers()
    | st.floats()
    | st.booleans()
    | SMALL_TEXT
    | st.lists(st.integers(), max_size=2)
)
ARGS = (
    VALUES
    | st.builds(lambda v: _json_text(v), VALUES)
    | st.dictionaries(st.integers() | st.tuples(st.integers()) | NAMES, VALUES, max_size=3)
)


def _json_text(value: Any) -> str:
    try:
        return json.dumps(value)
    except (ValueError, RecursionError, TypeError):
        return "{}"


CALL_DICTS = st.fixed_dictionaries(
    {},
    optional={
        "id": IDS,
        "name": NAMES | VALUES,
        "arguments": ARGS,
        "parameters": ARGS,
        "args": ARGS,
        "type": st.just("function"),
        "function": st.fixed_dictionaries({}, optional={"name": NAMES | VALUES, "arguments": ARGS})
        | VALUES,
        "tool_calls": st.lists(VALUES, max_size=3),
    },
)
CALL_ITEMS = CALL_DICTS | VALUES
CALL_LISTS = st.none() | VALUES | st.lists(CALL_ITEMS, max_size=5)


def _dup_keys(name: str, value: str) -> str:
    return f'{{"name": {json.dumps(name)}, "name": "x", "arguments": {value}, "arguments": {{}}}}'


def _hermes(items: list[str]) -> str:
    return "".join(f"<tool_call>\n{item}\n</tool_call>\n" for item in items)


JSON_CALL_TEXT = st.builds(lambda v: _json_text(v), CALL_LISTS | CALL_ITEMS) | st.builds(
    _dup_keys, NAMES, st.builds(lambda v: _json_text(v), VALUES)
)
CALL_TEXT = (
    JSON_CALL_TEXT
    | st.lists(JSON_CALL_TEXT | TOKEN_TEXT, max_size=4).map(_hermes)
    | st.builds(lambda t: f"```json\n{t}\n```", JSON_CALL_TEXT)
    | st.builds(lambda n, a: f"[{n}({a})]", NAMES, TOKEN_TEXT)
)
TEXT = st.text(ANY_CHAR) | TOKEN_TEXT | BIG_TEXT | CALL_TEXT
"""Every kind of text the parsers are fed."""


@dataclass
class FakeMessage:
    """Just the attributes :func:`proposal_from_message` reads from an ``AIMessage``."""

    content: Any = ""
    tool_calls: Any = None
    invalid_tool_calls: Any = None


MESSAGES = st.builds(
    FakeMessage,
    content=TEXT | st.lists(st.text() | st.dictionaries(st.sampled_from(["type", "text"]), VALUES)),
    tool_calls=CALL_LISTS,
    invalid_tool_calls=CALL_LISTS,
)


def _proposal(texts: list[str], dup: bool) -> Proposal:
    calls: list[ToolCall] = []
    failures: list[ParseFailure] = []
    for text in texts:
        parsed = parse_text(text)
        calls += parsed.calls
        failures += parsed.failures
    if dup:  # duplicate tool call ids
        calls = [c.override(id="call_dup") for c in calls]
        failures = [f.model_copy(update={"id": "call_dup"}) for f in failures]
    return Proposal(calls=tuple(calls), failures=tuple(failures), content="".join(texts)[:100])


PROPOSALS = st.builds(
    _proposal, st.lists(CALL_TEXT | TOKEN_TEXT, max_size=3), st.booleans()
) | st.builds(
    lambda name, args: Proposal(calls=(ToolCall(name=name or "f", arguments=args),) * 2),
    NAMES,
    st.dictionaries(NAMES, VALUES, max_size=4),
)

SCHEMAS = st.recursive(
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(
                ["string", "integer", "number", "boolean", "array", "object", "null", "dict", "x"]
            )
            | st.lists(st.sampled_from(["string", "null", "integer"]), max_size=3)
            | VALUES,
            "enum": st.lists(LEAF, max_size=4) | VALUES,
            "default": VALUES,
            "description": SMALL_TEXT | BIG_TEXT,
        },
    ),
    lambda inner: st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["object", "array"]),
            "properties": st.dictionaries(NAMES, inner, max_size=4) | VALUES,
            "required": st.lists(NAMES | LEAF, max_size=3) | VALUES,
            "items": inner | st.lists(inner, max_size=2) | VALUES,
            "anyOf": st.lists(inner, max_size=3) | VALUES,
            "oneOf": st.lists(inner, max_size=3),
            "allOf": st.lists(inner, max_size=2),
            "additionalProperties": st.booleans() | inner,
        },
    ),
    max_leaves=12,
)
TOOLS = st.lists(
    st.builds(
        lambda name, description, parameters: ToolSpec(
            name=name, description=description, parameters=parameters
        ),
        NAMES,
        SMALL_TEXT | BIG_TEXT,
        SCHEMAS.map(lambda s: s if isinstance(s, dict) else {}),
    ),
    max_size=4,
)
TURNS = st.lists(
    st.builds(
        lambda role, content, cid, calls: Turn(
            role=role,
            content=content,
            tool_call_id=cid,
            tool_calls=calls.calls if role == "assistant" else (),
        ),
        st.sampled_from(["system", "user", "assistant", "tool"]),
        TEXT,
        st.none() | SMALL_TEXT | BIG_TEXT,
        PROPOSALS,
    ),
    max_size=5,
)
CONTEXTS = st.builds(
    lambda turns, tools: JudgeContext(turns=tuple(turns), tools=tuple(tools)), TURNS, TOOLS
)

# ------------------------------------------------------------------------------ targets


def _round_trip(text: str) -> None:
    """Parse, then write back in every format (the writers must take whatever was parsed)."""
    proposal = parse_text(text)
    proposal.render()
    to_openai(proposal)
    to_hermes(proposal)
    to_bfcl_fc(proposal)
    to_bfcl_string(proposal)


def _lenient(text: str) -> None:
    extract_tool_calls_lenient(text, tool_names=["get_weather", "f", "x"])
    extract_tool_calls_lenient(text)


def _answers(text: str) -> None:
    parse_choice(text)
    parse_verdict(text)
    strip_thinking(text)


def _schema(args: tuple[JudgeContext, Proposal]) -> None:
    context, proposal = args
    SchemaJudge().critique(context, proposal)
    SchemaJudge(check_grounding=False, strict_integers=False).rank(context, [proposal, Proposal()])


def _prompts(args: tuple[JudgeContext, Proposal]) -> None:
    context, proposal = args
    pointwise_messages(context, proposal)
    pairwise_messages(context, proposal, Proposal(), thinking=True)
    neutralize(proposal.content)


TARGETS: dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], Any]]] = {
    "parse_text": (TEXT, _round_trip),
    "parse_hermes": (TEXT, parse_hermes),
    "parse_json_calls": (TEXT, parse_json_calls),
    "parse_bfcl_string": (TEXT, parse_bfcl_string),
    "parse_bfcl_fc": (CALL_LISTS | TEXT, parse_bfcl_fc),
    "proposal_from_openai": (CALL_LISTS, proposal_from_openai),
    "proposal_from_message": (MESSAGES, proposal_from_message),
    "vllm_lenient": (TEXT, _lenient),
    "offered_tool_names": (CALL_LISTS, offered_tool_names),
    "answer_parsers": (TEXT, _answers),
    "schema_judge": (st.tuples(CONTEXTS, PROPOSALS), _schema),
    "prompts": (st.tuples(CONTEXTS, PROPOSALS), _prompts),
}
"""Every fuzz target: (inputs, a function that must not raise on any of them)."""

# ------------------------------------------------------------ through the critic

CRITIC_NAMES = NAMES | st.sampled_from(["get_weather", "get.weather", "a.b", "a_b", " get_time "])
CRITIC_ARGS = (
    ARGS
    | st.none()
    | st.dictionaries(CRITIC_NAMES, JSON_VALUES, max_size=3)
    | st.sampled_from(['{"city": "Paris"}', '{"city": "Par\ud800', "[1, 2]", "", "null"])
)
CRITIC_CALL_DICTS = st.fixed_dictionaries(
    {"name": CRITIC_NAMES | LEAF, "args": CRITIC_ARGS, "id": IDS},
    optional={"type": st.just("tool_call")},
)
CRITIC_CALLS = st.lists(CRITIC_CALL_DICTS, min_size=1, max_size=3) | st.lists(
    CRITIC_CALL_DICTS | LEAF, min_size=1, max_size=3
)
"""Mostly call dicts; one draw in two may hold entries that are no dict at all."""
CRITIC_INVALID = st.fixed_dictionaries(
    {"name": st.none() | CRITIC_NAMES, "args": st.none() | TOKEN_TEXT | SMALL_TEXT, "id": IDS},
    optional={"error": st.none() | SMALL_TEXT, "type": st.just("invalid_tool_call")},
)


@dataclass(frozen=True)
class CriticCase:
    """One generated agent run: what the user says, what the model proposes, the judge."""

    user: str
    content: Any
    tool_calls: list[Any]
    invalid_tool_calls: list[Any]
    judge: str
    mode: str

    def proposal(self) -> Any:
        from langchain_core.messages import AIMessage

        return AIMessage.model_construct(
            content=self.content,
            tool_calls=self.tool_calls,
            invalid_tool_calls=self.invalid_tool_calls,
            id=None,
            additional_kwargs={},
            response_metadata={},
            usage_metadata=None,
            type="ai",
            name=None,
        )


CRITIC_CASES = st.builds(
    CriticCase,
    user=SMALL_TEXT | TOKEN_TEXT | st.sampled_from(["What is the weather in Paris?", "\ud800 Paris"]),
    content=SMALL_TEXT | st.just(""),
    tool_calls=CRITIC_CALLS,
    invalid_tool_calls=st.lists(CRITIC_INVALID, max_size=2),
    judge=st.sampled_from(["schema", "accept", "reject"]),
    mode=st.sampled_from(["retry", "retry", "best_of_n"]),
)


class CriticCrash(RuntimeError):
    """A generated run crashed because of the critic (see :func:`run_through_critic`)."""


class _Agents:
    """The graphs every critic target runs, built once: (adapter, judge, mode, critic?) →
    a compiled graph whose policy proposes the current case's message."""

    def __init__(self) -> None:
        self.case: CriticCase | None = None
        self._graphs: dict[tuple[str, str, str, bool], Any] = {}

    def answer(self, messages: list[Any]) -> Any:
        from langchain_core.messages import AIMessage

        assert self.case is not None
        if any(isinstance(m, AIMessage) for m in messages):
            return AIMessage(content="Done.")  # after the first proposal, a final answer
        return self.case.proposal()

    def graph(self, adapter: str, judge: str, mode: str, critic: bool) -> Any:
        key = (adapter, judge, mode if critic else "", critic)
        if key not in self._graphs:
            self._graphs[key] = self._build(adapter, judge, mode, critic)
        return self._graphs[key]

    def _build(self, adapter: str, judge_kind: str, mode: str, critic: bool) -> Any:
        from langchain_core.tools import tool

        from toolrm_agent.critic.node import ToolRMCritic, build_agent_graph

        @tool
        def get_weather(city: str) -> str:
            """Current weather of a city."""
            return f"sunny in {city}"

        @tool
        def get_time(zone: str) -> str:
            """Current time in a time zone."""
            return f"12:00 in {zone}"

        @tool
        def a_b(x: Any = None) -> str:
            """Takes anything."""
            return "ok"

        tools = [get_weather, get_time, a_b]
        model = _policy(self)
        judge = _fuzz_judge(judge_kind)
        options: dict[str, Any] = {"mode": mode, "n": 2, "max_retries": 1}
        if adapter == "node":
            return build_agent_graph(model, tools, ToolRMCritic(judge, **options) if critic else None)
        from langchain.agents import create_agent

        from toolrm_agent.critic.middleware import ToolRMMiddleware

        middleware = [ToolRMMiddleware(judge, **options)] if critic else []
        return create_agent(model, tools, middleware=middleware)


def _policy(agents: _Agents) -> Any:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.outputs import ChatGeneration, ChatResult

    class Policy(BaseChatModel):
        """Proposes the current case's message, then answers ``Done.``."""

        @property
        def _llm_type(self) -> str:
            return "fuzz-policy"

        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            return self

        def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
            return ChatResult(generations=[ChatGeneration(message=agents.answer(messages))])

    return Policy()


def _fuzz_judge(kind: str) -> Any:
    from toolrm_agent.core.verdicts import Critique
    from toolrm_agent.judges.base import BaseJudge

    if kind == "schema":
        return SchemaJudge()

    class Fixed(BaseJudge):
        name = f"fuzz-{kind}"

        def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
            accepted = kind == "accept"
            return Critique(accepted=accepted, score=1.0 if accepted else 0.0, judge=self.name,
                            text="" if accepted else "rejected by the fuzz judge")

    return Fixed()


_AGENTS = _Agents()
OUTCOMES: Counter[str] = Counter()
"""Critic-target runs that ``ran`` through, and that raised but ``fails_without_critic_too``
(the same input breaks the graph without the critic: no critic crash)."""


def run_through_critic(case: CriticCase, adapter: str, how: str) -> None:
    """One generated run through the critic; raises :class:`CriticCrash` when the critic
    crashed it (a ``toolrm_agent`` frame on the traceback, or the same input runs
    without the critic). A run that fails without the critic too is no critic crash."""
    import asyncio

    from langchain_core.messages import HumanMessage

    inputs = {"messages": [HumanMessage(case.user)]}

    def invoke(critic: bool) -> None:
        _AGENTS.case = case
        graph = _AGENTS.graph(adapter, case.judge, case.mode, critic)
        if how == "sync":
            graph.invoke(inputs)
        else:
            asyncio.run(graph.ainvoke(inputs))

    try:
        invoke(True)
    except Exception as exc:  # noqa: BLE001 - classified below
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if "/toolrm_agent/" in f.filename.replace("\\", "/")]
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        if ours:
            where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}"
            raise CriticCrash(f"in the critic ({where}): {type(exc).__name__}: {str(exc)[:300]}") from exc
        try:
            invoke(False)
        except Exception:  # noqa: BLE001 - fails without the critic too: not the critic's crash
            OUTCOMES["fails_without_critic_too"] += 1
            return
        raise CriticCrash(f"only with the critic ({where}): {type(exc).__name__}: {str(exc)[:300]}") from exc
    OUTCOMES["ran"] += 1


def _through_critic(adapter: str, how: str) -> Callable[[Any], Any]:
    return lambda case: run_through_critic(case, adapter, how)


CRITIC_TARGETS: dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], Any]]] = {
    f"critic_{adapter}_{how}": (CRITIC_CASES, _through_critic(adapter, how))
    for adapter in ("node", "middleware")
    for how in ("sync", "async")
}
"""Generated agent runs through the node and the middleware, sync and async
(``--through-critic``)."""

FUZZ_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "database": None,
    "suppress_health_check": list(HealthCheck),
    "phases": [Phase.generate],
}


def run_target(name: str, examples: int, seed_value: int = 0) -> dict[str, Any]:
    """Run one target on ``examples`` inputs; count inputs and crashes (never stop)."""
    strategy, function = {**TARGETS, **CRITIC_TARGETS}[name]
    inputs = 0
    crashes: list[str] = []

    @seed(seed_value)
    @settings(max_examples=examples, **FUZZ_SETTINGS)
    @given(strategy)
    def check(value: Any) -> None:
        nonlocal inputs
        inputs += 1
        try:
            function(value)
        except Exception as exc:  # noqa: BLE001 - counted, the run goes on
            if len(crashes) < 200:
                where = traceback.extract_tb(exc.__traceback__)[-1]
                crashes.append(
                    f"{type(exc).__name__}: {str(exc)[:160]} at {Path(where.filename).name}:"
                    f"{where.lineno} for {_shown(value)}"
                )
            else:
                crashes.append("")

    start = time.perf_counter()
    OUTCOMES.clear()
    check()
    result: dict[str, Any] = {
        "inputs": inputs,
        "crashes": len(crashes),
        "seconds": round(time.perf_counter() - start, 2),
        "examples": [c for c in crashes if c][:10],
    }
    if name in CRITIC_TARGETS:
        result.update(OUTCOMES)
    return result


def _shown(value: Any) -> str:
    """The input of a crash, for the report (an integer past Python's printing limit
    would make ``ascii`` itself raise)."""
    try:
        return ascii(value)[:200]
    except (ValueError, RecursionError):
        return f"<unprintable {type(value).__name__}>"


@app.command()
def main(
    examples: Annotated[
        int, typer.Option(min=1, help="Inputs in total, split over the targets.")
    ] = 100_000,
    out: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = Path(
        "bench_fuzz.json"
    ),
    seed_value: Annotated[int, typer.Option("--seed", help="Hypothesis seed.")] = 0,
    target: Annotated[
        list[str] | None, typer.Option(help="Only these targets (repeatable).")
    ] = None,
    through_critic: Annotated[
        bool,
        typer.Option(
            "--through-critic",
            help="Run generated agent runs end to end through ToolRMCritic and ToolRMMiddleware "
            "(sync and async) instead of the parser targets.",
        ),
    ] = False,
) -> None:
    """Fuzz every target; write the inputs and crashes per target as JSON."""
    known = CRITIC_TARGETS if through_critic else TARGETS
    names = target or list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise typer.BadParameter(f"unknown targets {unknown}; known: {list(known)}")
    per_target = max(1, examples // len(names))
    start = time.perf_counter()
    report: dict[str, Any] = {"examples": examples, "targets": {}}
    for name in names:
        result = run_target(name, per_target, seed_value)
        report["targets"][name] = result
        print(
            f"{name}: {result['inputs']} inputs, {result['crashes']} crashes, {result['seconds']} s",
            flush=True,
        )
    report["inputs"] = sum(r["inputs"] for r in report["targets"].values())
    report["crashes"] = sum(r["crashes"] for r in report["targets"].values())
    report["seconds"] = round(time.perf_counter() - start, 2)
    report["command"] = "toolrm " + " ".join(sys.argv[1:])
    print(f"total: {report['inputs']} inputs, {report['crashes']} crashes, {report['seconds']} s")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    app()
