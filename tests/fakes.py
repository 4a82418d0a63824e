"""The shared fakes and builders of the test suite: offline, scripted, inspectable.

Tests import what they share from here (never from another test module or a conftest);
fixtures stay in the conftest files, which build them with these.

* ``ScriptedChatModel``, ``tool_call_message``: a chat model that plays back a script;
* the critic's world: ``get_weather`` / ``get_time`` (``TOOLS``; ``weather_tool`` as a
  tools entry), ``recording_tools``, ``ScriptedJudge`` (and ``AsyncOnlyJudge``,
  ``ModelBackedJudge``; ``FirstChoiceJudge`` pairwise), ``ASK`` / ``GOOD`` / ``BAD`` /
  ``malformed`` proposals, ``critic_messages``, ``assert_every_call_answered``,
  ``critic_app`` (the critic as a node or as middleware), ``run_graph`` and
  ``stream_messages`` (sync or async), ``BRACKET_ANSWER_TAGS`` (a template file's answer tags);
* the eval wing's inputs: recorded BFCL outputs (``BFCL_OUTPUTS``, ``fake_results``,
  ``recorded_results``, ``write_results_dir``), ``command_app`` (one eval command to invoke),
  BFCL function documents and tasks (``bfcl_doc``, ``bfcl_task``), the factorial task (``FACTORIAL_DOC``,
  ``factorial_task``) and the rectangle-area agent tasks (``area_tasks``, ``area_policy``,
  ``area_call``, ``area_width``);
* the train wing's inputs: ``WEATHER`` / ``STOCK`` tools, ``make_record``,
  ``write_dataset``.

Only ``langchain_core``, ``pydantic`` and the runtime are imported here; ``langchain.agents``,
``typer`` and the ``eval`` and ``train`` wings are imported inside the builders that need them
(``WEATHER`` and ``STOCK`` are built on first access), so a runtime test loads no wing.

``ScriptedChatModel`` answers each call with the next item of its script:

* an ``AIMessage`` (returned as is, usage metadata filled in when missing),
* a ``str`` (returned as an ``AIMessage`` with that text content),
* an ``Exception`` instance (raised),
* a ``float`` (sleep that many seconds, then answer with the following item; for
  timeouts), or
* a callable ``(messages) -> AIMessage | str`` for answers that depend on the prompt.

It records every prompt it saw in ``calls`` and every ``bind_tools`` in ``bound_tools``,
and supports ``bind_tools`` so it can stand in for a policy model in LangGraph graphs
and ``create_agent``. When the script runs out it repeats ``default`` (or raises).

``ScriptedJudge`` judges each call with a rule (``feedback_for(call) -> str | None``:
``None`` means the call is fine) and can instead raise, sleep, or answer as an
unparseable judge would (``behaviour``). It records every proposal it was asked about.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool
from pydantic import ConfigDict, Field

from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.errors import JudgeBackendError, JudgePostMortem
from toolrm_agent.core.verdicts import CallVerdict, Critique, Issue, IssueCode, Preference, TokenUsage
from toolrm_agent.judges.base import BaseJudge, JudgeCapabilities

if TYPE_CHECKING:
    from eval.bfcl.results import ModelResults
    from eval.tasks.runner import AgentTask
    from train.records import TrainRecord

# ------------------------------------------------------------------ scripted chat model

ScriptItem = AIMessage | str | Exception | float | Callable[[list[BaseMessage]], Any]


class ScriptedChatModel(BaseChatModel):
    """A chat model that plays back a script (see module docstring)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    script: list[Any] = Field(default_factory=list)
    default: Any = None
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    call_kwargs: list[dict[str, Any]] = Field(default_factory=list)
    bound_tools: list[Any] = Field(default_factory=list)
    position: int = 0
    id_prefix: str = "fake"
    """Answers get ids ``<id_prefix>-<call number>``; give two fakes in one graph different prefixes."""

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        self.bound_tools.append(list(tools))
        return self.bind(tools=list(tools), **kwargs)

    def _next(self) -> Any:
        if self.position < len(self.script):
            item = self.script[self.position]
            self.position += 1
            return item
        if self.default is None:
            raise RuntimeError(f"ScriptedChatModel script exhausted after {self.position} calls")
        return self.default

    def _answer(self, messages: list[BaseMessage]) -> AIMessage:
        item = self._next()
        while isinstance(item, float):
            time.sleep(item)
            item = self._next()
        if isinstance(item, Exception):
            raise item
        if callable(item) and not isinstance(item, AIMessage):
            item = item(messages)
        if isinstance(item, str):
            item = AIMessage(content=item)
        if not isinstance(item, AIMessage):
            raise TypeError(f"bad script item {item!r}")
        if item.usage_metadata is None:
            n_in = sum(len(str(m.content).split()) for m in messages)
            n_out = max(1, len(str(item.content).split()))
            item = item.model_copy(
                update={
                    "usage_metadata": {
                        "input_tokens": n_in,
                        "output_tokens": n_out,
                        "total_tokens": n_in + n_out,
                    }
                }
            )
        # a fresh id per answer, like a real model, unless the script fixed one
        return item if item.id else item.model_copy(update={"id": f"{self.id_prefix}-{len(self.calls)}"})

    def _record(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> None:
        self.calls.append(list(messages))
        self.call_kwargs.append(dict(kwargs))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        self._record(messages, kwargs)
        return ChatResult(generations=[ChatGeneration(message=self._answer(messages))])

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: AsyncCallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        self._record(messages, kwargs)
        item_preview = self.script[self.position] if self.position < len(self.script) else None
        if isinstance(item_preview, float):  # async sleep so timeouts can cancel it
            self.position += 1
            await asyncio.sleep(item_preview)
        return ChatResult(generations=[ChatGeneration(message=self._answer(messages))])


def tool_call_message(
    *calls: tuple[str, dict[str, Any]], content: str = "", ids: Sequence[str] | None = None
) -> AIMessage:
    """An ``AIMessage`` proposing ``calls`` (name, args) with deterministic ids."""
    ids = list(ids) if ids is not None else [f"call_{i}_{name}" for i, (name, _) in enumerate(calls)]
    return AIMessage(
        content=content,
        tool_calls=[
            {"name": name, "args": args, "id": cid, "type": "tool_call"}
            for (name, args), cid in zip(calls, ids, strict=True)
        ],
    )


# ------------------------------------------------------------ the critic's tools and judge

TOOL_NAMES = {"get_weather", "get_time"}


@tool
def get_weather(city: str) -> str:
    """Current weather of a city."""
    return f"sunny in {city}"


@tool
def get_time(zone: str) -> str:
    """Current time in a time zone."""
    return f"12:00 in {zone}"


TOOLS = [get_weather, get_time]


def weather_tool(**properties: dict[str, Any]) -> dict[str, Any]:
    """``get_weather`` as an OpenAI tools entry: a required string ``city`` and ``properties``."""
    parameters = {"type": "object", "properties": {"city": {"type": "string"}, **properties}, "required": ["city"]}
    return {
        "type": "function",
        "function": {"name": "get_weather", "description": "Current weather in a city.", "parameters": parameters},
    }


# the [answer] table of a made-up judge template file: "[[A]]" / "[[B]]" and "<ok>yes</ok>" / "<ok>no</ok>"
BRACKET_ANSWER_TAGS = """[answer]
choice = ["[[", "]]"]
choice_values = ["A", "B"]
verdict = ["<ok>", "</ok>"]
accept = ["yes"]
reject = ["no"]
"""

BAD = ("get_weather", {"town": "Paris"})  # misses the required "city"
GOOD = ("get_weather", {"city": "Paris"})
ASK = {"messages": [HumanMessage("What is the weather in Paris?")]}


async def run_graph(app: Any, how: str, inputs: Any = ASK, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a compiled graph or agent ``how="sync"`` (``invoke``) or ``"async"`` (``ainvoke``)."""
    return app.invoke(inputs, config) if how == "sync" else await app.ainvoke(inputs, config)


async def stream_messages(app: Any, how: str, inputs: Any = ASK) -> list[tuple[BaseMessage, dict[str, Any]]]:
    """The (message chunk, metadata) pairs ``app`` streams in ``"messages"`` mode, sync or async."""
    if how == "sync":
        return list(app.stream(inputs, stream_mode="messages"))
    return [chunk async for chunk in app.astream(inputs, stream_mode="messages")]


def critic_app(kind: str, model: Any, tools: Sequence[Any], judge: Any, **options: Any) -> Any:
    """The agent with the critic as a node (``kind="node"``: ``build_agent_graph``) or as
    middleware (``"middleware"``: ``create_agent``). ``checkpointer`` and ``interrupt_before``
    go to the graph, ``handle_tool_errors`` to the graph or the middleware, the other options
    to the critic."""
    from langchain.agents import create_agent

    from toolrm_agent.critic.middleware import ToolRMMiddleware
    from toolrm_agent.critic.node import ToolRMCritic, build_agent_graph

    graph_options = {k: options.pop(k) for k in ("checkpointer", "interrupt_before") if k in options}
    if kind == "node":
        handling = {k: options.pop(k) for k in ("handle_tool_errors",) if k in options}
        return build_agent_graph(model, tools, ToolRMCritic(judge, **options), **graph_options, **handling)
    return create_agent(model, tools, middleware=[ToolRMMiddleware(judge, **options)], **graph_options)


def weather_rule(call: ToolCall) -> str | None:
    """Reject unknown functions and calls that miss their one required argument."""
    if call.name not in TOOL_NAMES:
        return f"unknown function {call.name!r}; use one of {sorted(TOOL_NAMES)}"
    required = {"get_weather": "city", "get_time": "zone"}[call.name]
    if required not in call.arguments:
        return f"missing required argument {required!r}"
    return None


Behaviour = Literal["rule", "raise", "unparseable_open", "unparseable_closed", "sleep"]


class ScriptedJudge(BaseJudge):
    """A judge whose verdicts follow a rule, or which fails in a chosen way."""

    def __init__(
        self,
        feedback_for: Callable[[ToolCall], str | None] = weather_rule,
        *,
        behaviour: Behaviour = "rule",
        tokens: tuple[int, int] = (10, 5),
        sleep_s: float = 0.0,
        score_of: Callable[[Proposal], float] | None = None,
        name: str = "scripted",
    ) -> None:
        self.feedback_for = feedback_for
        self.behaviour = behaviour
        self.tokens = tokens
        self.sleep_s = sleep_s
        self.score_of = score_of
        self.name = name
        self.seen: list[Proposal] = []
        self.contexts: list[JudgeContext] = []

    @property
    def calls(self) -> int:
        return len(self.seen)

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        if self.behaviour == "sleep":  # a backend that hangs
            time.sleep(self.sleep_s)
        return self._verdict(context, proposal)

    async def acritique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        if self.behaviour == "sleep":  # an async backend that hangs: cancellable
            await asyncio.sleep(self.sleep_s)
        return self._verdict(context, proposal)

    def _verdict(self, context: JudgeContext, proposal: Proposal) -> Critique:
        self.seen.append(proposal)
        self.contexts.append(context)
        usage = TokenUsage(input_tokens=self.tokens[0], output_tokens=self.tokens[1])
        if self.behaviour == "raise":
            raise JudgeBackendError(
                "backend down",
                JudgePostMortem(judge=self.name, attempts=2, input_tokens=7, output_tokens=0),
            )
        if self.behaviour.startswith("unparseable"):
            accepted = self.behaviour == "unparseable_open"
            return Critique(
                accepted=accepted,
                score=0.5,
                text="" if accepted else "The critic could not read its own answer.",
                judge=self.name,
                usage=usage,
                status="unparseable",
                raw_output="<garbage>",
            )
        verdicts: list[CallVerdict] = []
        for call in proposal.calls:
            feedback = self.feedback_for(call)
            verdicts.append(
                CallVerdict(
                    tool_call_id=call.id,
                    name=call.name,
                    ok=feedback is None,
                    score=1.0 if feedback is None else 0.0,
                    issues=(Issue(code=IssueCode.JUDGE_REJECTED, message=feedback),) if feedback else (),
                    feedback=feedback or "",
                )
            )
        for failure in proposal.failures:
            malformed = Issue(code=IssueCode.MALFORMED_ARGUMENTS, message=failure.reason)
            verdicts.append(CallVerdict(tool_call_id=failure.id, name=failure.name, ok=False, score=0.0,
                                        issues=(malformed,)))
        accepted = all(v.ok for v in verdicts)
        score = sum(v.score for v in verdicts) / max(len(verdicts), 1)
        if self.score_of is not None:
            score = self.score_of(proposal)
        bad = [v for v in verdicts if not v.ok]
        return Critique(
            accepted=accepted,
            score=score,
            text="" if accepted else "; ".join(f"{v.name}: {v.feedback or 'malformed'}" for v in bad),
            judge=self.name,
            calls=tuple(verdicts),
            usage=usage,
        )


def assert_every_call_answered(messages: list[BaseMessage]) -> None:
    """Each AIMessage's tool_call_ids (valid and malformed) have a ToolMessage after it,
    before the next AIMessage."""
    for i, message in enumerate(messages):
        if not isinstance(message, AIMessage):
            continue
        ids = [c["id"] for c in message.tool_calls] + [c["id"] for c in message.invalid_tool_calls]
        answered = set()
        for later in messages[i + 1 :]:
            if isinstance(later, AIMessage):
                break
            if isinstance(later, ToolMessage):
                answered.add(later.tool_call_id)
        missing = [cid for cid in ids if cid not in answered]
        assert not missing, f"tool_call_ids without a ToolMessage after message {i}: {missing}"


def recording_tools() -> tuple[list[Any], list[tuple[str, dict[str, Any]]]]:
    """The two fake tools, recording every execution."""
    executed: list[tuple[str, dict[str, Any]]] = []

    @tool
    def get_weather(city: str) -> str:
        """Current weather of a city."""
        executed.append(("get_weather", {"city": city}))
        return f"sunny in {city}"

    @tool
    def get_time(zone: str) -> str:
        """Current time in a time zone."""
        executed.append(("get_time", {"zone": zone}))
        return f"12:00 in {zone}"

    return [get_weather, get_time], executed


def tool_messages(messages: list[Any]) -> list[ToolMessage]:
    """The ``ToolMessage``s of a transcript."""
    return [m for m in messages if isinstance(m, ToolMessage)]


def critic_messages(messages: list[Any]) -> list[ToolMessage]:
    """The ``ToolMessage``s the critic wrote (its artifact carries ``toolrm``)."""
    return [m for m in tool_messages(messages) if isinstance(m.artifact, dict) and "toolrm" in m.artifact]


def malformed(call_id: str = "broken", *, valid: tuple[str, dict[str, Any]] | None = None) -> AIMessage:
    """A proposal with one malformed ``get_weather`` call (and ``valid``, a well-formed one)."""
    return AIMessage(
        content="",
        tool_calls=[{"name": valid[0], "args": valid[1], "id": "valid", "type": "tool_call"}] if valid else [],
        invalid_tool_calls=[{"name": "get_weather", "args": '{"city": "Par', "id": call_id,
                             "error": "unterminated JSON", "type": "invalid_tool_call"}],
    )


class ModelBackedJudge(BaseJudge):
    """A judge that asks a chat model, without passing any config itself."""

    name = "model-backed"

    def __init__(self, model: ScriptedChatModel) -> None:
        self.model = model

    def critique(self, context: Any, proposal: Any) -> Critique:
        answer = self.model.invoke([HumanMessage(proposal.render())])
        return Critique(accepted="OK" in answer.content, score=1.0, judge=self.name)

    async def acritique(self, context: Any, proposal: Any) -> Critique:
        answer = await self.model.ainvoke([HumanMessage(proposal.render())])
        return Critique(accepted="OK" in answer.content, score=1.0, judge=self.name)


class FirstChoiceJudge(BaseJudge):
    """A pairwise judge with total position bias: always answers 1, one order per call
    (counted in ``calls``); never asked pointwise."""

    name = "always-1"
    capabilities = JudgeCapabilities(pairwise=True)

    def __init__(self) -> None:
        self._calls = 0

    @property
    def calls(self) -> int:
        return self._calls

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        raise AssertionError("a pairwise judge is not asked pointwise")

    def compare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        self._calls += 1
        return Preference(choice=1, judge=self.name, usage=TokenUsage(input_tokens=10, output_tokens=2))


class AsyncOnlyJudge(ScriptedJudge):
    """Fails loudly if the sync path is used: proves ``ainvoke`` runs the async twin."""

    def critique(self, context: Any, proposal: Any) -> Critique:
        raise AssertionError("sync critique called under ainvoke")


# ------------------------------------------------------- eval: recorded BFCL outputs

# Recorded outputs of five fake models on four questions, in BFCL's prompting style,
# one FC-list model among them.
BFCL_OUTPUTS: dict[str, dict[str, Any]] = {
    "simple_python_0": {
        "good": "[calculate_triangle_area(base=10, height=5)]",
        "unit": "[calculate_triangle_area(base=10, height=5, unit='cm')]",
        "unit_too": "[calculate_triangle_area(base=10, height=5, unit='cm')]",
        "prose": "The area is 25 square units.",
        "broken": "[calculate_triangle_area(base=10,",
        "fc": [{"calculate_triangle_area": '{"base": 10}'}],
    },
    "simple_python_1": {
        "good": "[math.factorial(number=5)]",
        "unit": "[math.factorial(number=6)]",
        "unit_too": "[math.factorial(number=5)]",
        "prose": "[math.factorial(number='5')]",
        "broken": "[math.factorial(n=5)]",
        "fc": [{"math_factorial": '{"number": 5}'}],
    },
    "irrelevance_0": {
        "good": "I cannot compute that with the body mass index function.",
        "unit": "[determine_body_mass_index(weight=10, height=5)]",
        "unit_too": "[determine_body_mass_index(weight=10, height=5)]",
        "prose": "[determine_body_mass_index(weight=10.0, height=5.0)]",
        "broken": "No.",
        "fc": [],
    },
    "parallel_0": {
        "good": "[spotify.play(artist='Taylor Swift', duration=20), spotify.play(artist='Maroon 5', duration=15)]",
        "unit": "[spotify.play(artist='Maroon 5', duration=15), spotify.play(artist='Taylor Swift', duration=20)]",
        "unit_too": "[spotify.play(artist='Taylor Swift', duration=20)]",
        "prose": "[spotify.play(artist='Taylor Swift', duration=15), spotify.play(artist='Maroon 5', duration=20)]",
        "broken": "[spotify.play(artist='Taylor Swift', duration=20), spotify.play(artist='Maroon 5')]",
        "fc": [
            {"spotify_play": '{"artist": "Taylor Swift", "duration": 20}'},
            {"spotify_play": '{"artist": "Maroon 5", "duration": "15"}'},
        ],
    },
}


def recorded_results(outputs: dict[str, dict[str, Any]], style: Callable[[str], str]) -> list[ModelResults]:
    """Models' outputs (``{question id: {model: raw output}}``) as eval.bfcl.results reads
    them, each model's decoding style ``style(model)``."""
    from eval.bfcl.questions import category_of
    from eval.bfcl.results import ModelResults, RecordedOutput

    models: dict[str, dict[str, RecordedOutput]] = {}
    for qid, by_model in outputs.items():
        for model, raw in by_model.items():
            models.setdefault(model, {})[qid] = RecordedOutput(id=qid, category=category_of(qid), raw=raw)
    return [ModelResults(model=m, style=style(m), entries=e) for m, e in sorted(models.items())]


def fake_results() -> list[ModelResults]:
    """Six fake models' outputs on four questions, as eval.bfcl.results reads them."""
    return recorded_results(BFCL_OUTPUTS, lambda model: "fc_list" if model == "fc" else "prompt_string")


def write_results_dir(folder: Path) -> Path:
    """The same outputs as a results directory (gzip JSONL per model + manifest.json)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"models": []}
    for res in fake_results():
        name = f"{res.model}.jsonl.gz"
        with gzip.open(folder / name, "wt", encoding="utf-8") as fh:
            for entry in res.entries.values():
                fh.write(json.dumps({"id": entry.id, "result": entry.raw}) + "\n")
        manifest["models"].append({"model": res.model, "file": name, "style": res.style})
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def command_app(command: Callable[..., Any]) -> Any:
    """A typer app of the one ``command`` (an eval command's function), for ``CliRunner``."""
    import typer

    app = typer.Typer()
    app.command()(command)
    return app


# ------------------------------------------------- eval: factorial and rectangle-area agent tasks

def bfcl_doc(name: str, description: str, properties: dict[str, Any], required: Sequence[str]) -> dict[str, Any]:
    """A function document as BFCL writes it (parameters of ``"type": "dict"``)."""
    parameters = {"type": "dict", "properties": properties, "required": list(required)}
    return {"name": name, "description": description, "parameters": parameters}


FACTORIAL_DOC = bfcl_doc(
    "math.factorial", "Calculate the factorial of a given number.",
    {"number": {"type": "integer", "description": "The number."}}, ["number"],
)


def bfcl_task(question_id: str, request: str, doc: dict[str, Any], answer: list[dict[str, Any]]) -> AgentTask:
    """An agent task of a one-turn BFCL question (its category read from the id) offering the
    one function ``doc``, with its possible ``answer``."""
    from eval.bfcl.questions import BfclQuestion, category_of
    from eval.tasks.runner import AgentTask

    question = BfclQuestion(id=question_id, category=category_of(question_id),
                            turns=[[{"role": "user", "content": request}]], functions=[doc])
    return AgentTask.from_question(question, answer=answer)


def factorial_task(number: int) -> AgentTask:
    """The question ``simple_python_{9000 + number}``, "Factorial of {number}?", with its
    answer ``math.factorial(number=number)``."""
    answer = [{"math.factorial": {"number": [number]}}]
    return bfcl_task(f"simple_python_{9000 + number}", f"Factorial of {number}?", FACTORIAL_DOC, answer)


AREA_DOC = bfcl_doc(
    "geometry.area", "Area of a rectangle.",
    {"width": {"type": "integer", "description": "Width."}, "height": {"type": "integer", "description": "Height."}},
    ["width", "height"],
)
_AREA_IDS = itertools.count(1)


def area_tasks(n: int) -> list[AgentTask]:
    """``n`` BFCL-style questions: the area of an ``i`` by 3 rectangle, with their answers."""
    return [
        bfcl_task(f"simple_python_{8000 + i}", f"Area of a {i} by 3 rectangle", AREA_DOC,
                  [{"geometry.area": {"width": [i], "height": [3]}}])
        for i in range(1, n + 1)
    ]


def area_call(args: dict) -> AIMessage:
    """A ``geometry_area`` call with ``args``, its call and message ids fresh (``c<n>``, ``m<n>``)."""
    n = next(_AREA_IDS)
    return tool_call_message(("geometry_area", args), ids=[f"c{n}"]).model_copy(
        update={"id": f"m{n}"}
    )


def area_width(messages: list[BaseMessage]) -> int:
    """The width the user asked about (``Area of a <width> by 3 rectangle``)."""
    request = next(str(m.content) for m in messages if m.type == "human")
    return int(request.split()[3])


def area_policy() -> ScriptedChatModel:
    """Even widths: right at once. Odd widths: forgets ``height``, fixes it after a critique."""

    def answer(messages: list[BaseMessage]) -> AIMessage:
        width = area_width(messages)
        critiqued = isinstance(messages[-1], ToolMessage) and messages[-1].status == "error"
        if width % 2 == 0 or critiqued:
            return area_call({"width": width, "height": 3})
        return area_call({"width": width})

    return ScriptedChatModel(default=answer)


# -------------------------------------------------------- train: records and datasets

def _train_tools() -> dict[str, dict[str, Any]]:
    """``WEATHER`` and ``STOCK``, built once with the train wing's ``openai_tool``."""
    if not _TRAIN_TOOLS:
        from train.records import openai_tool

        _TRAIN_TOOLS["WEATHER"] = openai_tool(
            "get_weather",
            "Current weather of a city",
            {"city": {"type": "string", "description": "City name"},
             "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
             "days": {"type": "integer", "description": "Forecast days"}},
            ["city"],
        )
        _TRAIN_TOOLS["STOCK"] = openai_tool(
            "get_stock_price",
            "Latest price of a stock",
            {"symbol": {"type": "string", "description": "Ticker symbol"}},
            ["symbol"],
        )
    return _TRAIN_TOOLS


_TRAIN_TOOLS: dict[str, dict[str, Any]] = {}


def __getattr__(name: str) -> Any:
    """``WEATHER`` and ``STOCK`` (OpenAI tools entries) are built on first access."""
    if name in ("WEATHER", "STOCK"):
        return _train_tools()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_record(id: str = "t/s/0/0", *, calls: list[tuple[str, dict]] | None = None,
                text: str = "What is the weather in Paris and in Berlin, in fahrenheit?",
                tools: list | None = None, no_call: bool = False, source: str = "t") -> TrainRecord:
    """A training record (by default two ``get_weather`` calls, tools ``WEATHER`` and ``STOCK``)."""
    from train.records import GroundTruthCall, TrainRecord

    calls = [] if no_call else (calls if calls is not None else [
        ("get_weather", {"city": "Paris", "unit": "fahrenheit"}),
        ("get_weather", {"city": "Berlin", "unit": "fahrenheit"}),
    ])
    weather, stock = _train_tools()["WEATHER"], _train_tools()["STOCK"]
    return TrainRecord(
        id=id, source=source, subset="s", tools=tools or [weather, stock],
        messages=[{"role": "user", "content": text}],
        calls=[GroundTruthCall(name=n, arguments=a) for n, a in calls], no_call=no_call,
    )


def write_dataset(folder: Path, n: int = 12) -> Path:
    """A user dataset in the OpenAI tools format (one conversation per line)."""
    folder.mkdir(parents=True, exist_ok=True)
    weather, stock = _train_tools()["WEATHER"], _train_tools()["STOCK"]
    cities = ["Paris", "Berlin", "Rome", "Madrid", "Lisbon", "Vienna", "Prague", "Oslo",
              "Dublin", "Athens", "Warsaw", "Zurich"]
    with (folder / "chats.jsonl").open("w") as fh:
        for i in range(n):
            a, b = cities[i % len(cities)], cities[(i + 3) % len(cities)]
            calls = [{"id": f"c{i}", "type": "function",
                      "function": {"name": "get_weather", "arguments": json.dumps({"city": a, "days": i + 1})}}]
            if i % 3 == 0:
                calls.append({"id": f"d{i}", "type": "function",
                              "function": {"name": "get_weather", "arguments": json.dumps({"city": b, "days": i + 1})}})
            fh.write(json.dumps({
                "tools": [weather, stock],
                "messages": [{"role": "user", "content": f"Forecast for {a}" + (f" and {b}" if i % 3 == 0 else "")
                              + f" for {i + 1} days please"},
                             {"role": "assistant", "content": "", "tool_calls": calls}],
            }) + "\n")
    return folder


# ------------------------------------------------ a local OpenAI-compatible policy server


class PolicyStubServer:
    """A local OpenAI-compatible server (``/v1/models``, ``/v1/chat/completions``) whose
    assistant message is ``answer(request_body) -> {"content": ..., "tool_calls": ...}``:
    stands in for ``toolrm serve`` (calls as JSON text, no ``tool_calls``) or vLLM (parsed
    ``tool_calls``). Offline by construction: it binds 127.0.0.1. A context manager (a
    daemon thread); ``requests`` keeps every request body."""

    def __init__(self, answer: Callable[[dict[str, Any]], dict[str, Any]], model: str = "default") -> None:
        self.answer = answer
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self._server: Any = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> PolicyStubServer:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._send({"object": "list", "data": [{"id": stub.model, "object": "model"}]})

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                stub.requests.append(body)
                message = {"role": "assistant", "content": None, **stub.answer(body)}
                self._send({
                    "id": f"chatcmpl-{len(stub.requests)}", "object": "chat.completion", "created": 0,
                    "model": body.get("model", stub.model),
                    "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                })

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()


def text_call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """An answer as llama.cpp gives it for a small Qwen: the call as fenced JSON text."""
    return {"content": "```json\n" + json.dumps({"name": name, "arguments": arguments}) + "\n```"}


def converter_policy(body: dict[str, Any]) -> dict[str, Any]:
    """The scripted policy of ``examples/your_own_agent.py``'s test, by the tool answers so
    far: wrong argument names (the critic rejects), an unknown currency (the tool raises),
    the right call, then the answer."""
    tool_answers = [m for m in body.get("messages", []) if m.get("role") == "tool"]
    if not tool_answers:
        return text_call("convert", {"amount": 250, "from": "USD", "to": "EUR"})
    if len(tool_answers) == 1:
        return text_call("convert", {"amount": 250, "from_currency": "Dollars", "to_currency": "EUR"})
    if len(tool_answers) == 2:
        return text_call("convert", {"amount": 250, "from_currency": "USD", "to_currency": "EUR"})
    return {"content": f"That is {tool_answers[-1]['content'].split('= ')[-1]}."}


# ------------------------------------------------- LM readings: two tools, mixed proposals


def _lm_fixtures() -> tuple[Any, list[Any]]:
    from toolrm_agent.core.calls import Proposal, ToolCall
    from toolrm_agent.core.context import JudgeContext, Turn
    from toolrm_agent.core.specs import ToolSpec

    city = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    context = JudgeContext(
        turns=(Turn(role="user", content="What is the weather in Paris?"),),
        tools=(ToolSpec(name="get_weather", description="Weather of a city", parameters=city),
               ToolSpec(name="get_time", description="Local time of a city", parameters=city)),
    )
    proposals = [
        Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Paris"}),)),
        Proposal(calls=(ToolCall(name="get_time", arguments={"city": "Paris"}),)),
        Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Paris, France"}),)),
        Proposal(),
    ]
    return context, proposals


LM_TWO_TOOLS, LM_MIXED = _lm_fixtures()
"""A context with two tools and proposals that call one, the other, or nothing."""


def tiny_qwen2_config(vocab_size: int, **extra: Any) -> Any:
    """The one tiny Qwen2 shape of the tests (2 layers, hidden 32; ``extra`` overrides or adds
    fields): a causal LM's or, with ``num_labels``, a reward model's config. Imports
    transformers when called."""
    import transformers

    shape: dict[str, Any] = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "max_position_embeddings": 4096,
    }
    return transformers.Qwen2Config(vocab_size=vocab_size, **{**shape, **extra})
