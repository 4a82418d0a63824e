"""BFCL questions as agent tasks: stub tools, the prompt, one run of a graph, the checker.

The demo (``toolrm demo``) and the live self-correction benchmark (``toolrm eval
selfcorrect``) share this runner, so both measure the same thing:

1. :meth:`AgentTask.from_question` turns a BFCL question into the messages the agent
   sees (a short system message plus BFCL's own turn) and the functions it is offered.
2. :meth:`AgentTask.toolbox` builds fresh stub tools for one run: LangChain
   ``StructuredTool``\\ s with the BFCL function's JSON schema, each of which records the
   call and answers with a short JSON acknowledgement. Function names with dots (``math.
   factorial``) are not valid tool names for most APIs, so the tools are called
   ``math_factorial``; :meth:`StubToolbox.original_name` maps them back for checking.
3. :func:`run_task` streams the graph (model node → critic → ToolNode → model) and stops
   after the first executed tool round (BFCL single-turn: the executed calls are the
   answer), when the model answers in text, when the critic halts, or at the step bound.
   It reads the stream into :class:`Event`\\ s (proposal, critique, best-of-N pick,
   executed calls) and checks the executed proposal with the task's checker
   (:meth:`AgentTask.check`: BFCL's AST checker; ACEBench tasks bring their own).
4. :func:`summarize` turns the runs of one arm into accuracy, calls, tokens and seconds;
   :func:`lift_report` compares a baseline arm with a critic arm.

Policy calls and tokens are counted by a :class:`UsageMeter` attached to the policy
model (and to the best-of-N proposer): every call of those models counts, wherever in
the graph it happens. Critic calls and tokens come from the critic's own bookkeeping in
graph state (``toolrm_usage``).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import LLMResult
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ConfigDict, Field

from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.parsing import proposal_from_message
from toolrm_agent.core.specs import ToolSpec

__all__ = [
    "SYSTEM_PROMPT",
    "AgentTask",
    "Arm",
    "ArmSummary",
    "Event",
    "GraphFactory",
    "StubToolbox",
    "TaskRun",
    "UsageMeter",
    "agent_arm",
    "agent_step",
    "lift_report",
    "load_policy",
    "load_tasks",
    "max_steps_for",
    "run_arms",
    "run_task",
    "safe_tool_names",
    "sampling_proposer",
    "summarize",
    "text_digest",
]

SYSTEM_PROMPT = (
    "You are a function-calling assistant. Answer the user's request by calling the "
    "offered functions, with argument values taken from the request. When the request "
    "needs several calls, make all of them in one answer. Call only the offered "
    "functions, and do not answer in prose."
)
"""The agent's system message (ours); BFCL's own turn follows it unchanged."""

ACK = "ok"
"""Status each stub tool reports (in its JSON acknowledgement)."""

GraphFactory = Callable[[Sequence[BaseTool]], Any]
"""Builds a compiled LangGraph graph for one run from that run's stub tools."""

StopReason = Literal["executed", "text", "halted", "step_limit", "error"]
EventKind = Literal["proposal", "critique", "accepted", "best_of_n", "ask", "executed", "text", "halt"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


# ------------------------------------------------------------------------- tool names


def safe_tool_names(names: Iterable[str]) -> dict[str, str]:
    """Original function name → a tool name APIs accept (``[A-Za-z0-9_-]{1,64}``).

    Dots and other characters become ``_`` (``math.factorial`` → ``math_factorial``);
    a name that would collide with another gets a numeric suffix, so the mapping is
    one-to-one and can be reversed.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    names = list(dict.fromkeys(names))
    # names that are already safe keep themselves, whatever order they come in
    for name in names:
        if not _UNSAFE.search(name) and 0 < len(name) <= 64:
            out[name] = name
            taken.add(name)
    for name in names:
        if name in out:
            continue
        base = (_UNSAFE.sub("_", name) or "tool")[:60]
        candidate, i = base, 2
        while candidate in taken:
            candidate, i = f"{base}_{i}", i + 1
        out[name] = candidate
        taken.add(candidate)
    return out


# -------------------------------------------------------------------------- stub tools


class StubToolbox:
    """Stub tools for one run: each records its call and returns a short JSON ack.

    ``calls`` holds what executed, in order, under the *original* function names.
    """

    def __init__(self, specs: Sequence[ToolSpec]) -> None:
        self.specs = tuple(specs)
        self.to_safe = safe_tool_names(s.name for s in self.specs)
        self.to_original = {safe: name for name, safe in self.to_safe.items()}
        self.calls: list[ToolCall] = []
        self.tools: list[BaseTool] = [self._stub(spec) for spec in self.specs]

    def _stub(self, spec: ToolSpec) -> BaseTool:
        original = spec.name

        def record(**arguments: Any) -> str:
            self.calls.append(ToolCall(name=original, arguments=arguments))
            return json.dumps({"status": ACK, "function": original}, ensure_ascii=False)

        return StructuredTool.from_function(
            func=record,
            name=self.to_safe[original],
            description=spec.description or original,
            # a dict schema: the model sees BFCL's own parameters, and the stub records
            # whatever arguments were passed without validating them (the checker judges)
            args_schema=dict(spec.parameters),
        )

    def original_name(self, name: str) -> str:
        """The BFCL name of a tool name (names the toolbox does not know stay as given)."""
        return self.to_original.get(name, name)

    def to_original_proposal(self, proposal: Proposal) -> Proposal:
        """``proposal`` with every tool name mapped back to its BFCL name."""
        return proposal.override(
            calls=tuple(c.override(name=self.original_name(c.name)) for c in proposal.calls),
            failures=tuple(
                f.model_copy(update={"name": self.original_name(f.name)}) if f.name else f
                for f in proposal.failures
            ),
        )


# ------------------------------------------------------------------------------ tasks


@dataclass(frozen=True)
class AgentTask:
    """One BFCL question as the agent sees it."""

    question: Any
    """The :class:`eval.bfcl.questions.BfclQuestion`."""
    messages: tuple[BaseMessage, ...]
    answer: Any = None
    """BFCL's possible answer; ``None``: looked up in ``bfcl_eval`` by id when checking."""

    @property
    def id(self) -> str:
        return str(self.question.id)

    @property
    def category(self) -> str:
        return str(self.question.category)

    @property
    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(self.question.specs)

    @property
    def request(self) -> str:
        """The last user message (for display)."""
        for m in reversed(self.messages):
            if isinstance(m, HumanMessage):
                return str(m.content)
        return ""

    @classmethod
    def from_question(
        cls, question: Any, *, answer: Any = None, system_prompt: str | None = SYSTEM_PROMPT
    ) -> AgentTask:
        """Messages of the question's first turn, after our system message.

        A system message of BFCL's own (some live questions have one) is kept and
        follows ours. Multi-turn questions are not agent tasks here. ``answer`` is BFCL's
        possible answer (default: looked up by id when the run is checked).
        """
        if not question.turns:
            raise ValueError(f"{question.id}: the question has no turns")
        if len(question.turns) > 1:
            raise ValueError(f"{question.id}: multi-turn questions are not supported")
        messages: list[BaseMessage] = []
        if system_prompt:
            messages.append(SystemMessage(content=system_prompt))
        for m in question.turns[0]:
            role, content = m.get("role", "user"), str(m.get("content") or "")
            if role == "system":
                messages.append(SystemMessage(content=content))
            elif role == "assistant":
                messages.append(AIMessage(content=content))
            else:
                messages.append(HumanMessage(content=content))
        return cls(question=question, messages=tuple(messages), answer=answer)

    def toolbox(self) -> StubToolbox:
        """Fresh stub tools for one run."""
        return StubToolbox(self.specs)

    def check(self, final: Proposal, text: str = "") -> Any:
        """The verdict on a run's answer: ``final`` (the executed calls, original names)
        and ``text`` (the model's last prose answer). Here BFCL's checker on the calls
        (:func:`eval.bfcl.questions.check`); other benchmarks' tasks override this and
        return any object with ``valid``, ``error_type`` and ``errors``."""
        from eval.bfcl.questions import check

        return check(self.question, final, answer=self.answer)


def agent_step(model: Any, task: AgentTask) -> tuple[Any, StubToolbox]:
    """One step of ``model`` on ``task`` outside any graph: the question's messages in, its stub
    tools bound. (The model's answer, the toolbox whose names map the answer back to BFCL's.)"""
    toolbox = task.toolbox()
    return model.bind_tools(toolbox.tools).invoke(list(task.messages)), toolbox


def load_tasks(
    category: str,
    ids: Sequence[str] | None = None,
    limit: int | None = None,
    *,
    seed: int | None = None,
    exclude: Collection[str] = (),
) -> list[AgentTask]:
    """Tasks of one BFCL category: the given ids (in that order) or the first ``limit``
    ids in BFCL's order (all when ``limit`` is None). With ``seed``, the ``limit`` ids are
    drawn with that seed instead of taken from the front, and kept in BFCL's order. Ids in
    ``exclude`` are left out before the draw (a second draw disjoint from a first)."""
    from eval.bfcl.questions import load_questions

    questions = load_questions(category)
    if ids is not None:
        missing = [i for i in ids if i not in questions]
        if missing:
            raise ValueError(f"unknown {category} ids: {', '.join(missing[:5])}")
        chosen = [questions[i] for i in ids if i not in exclude]
    else:
        chosen = [q for i, q in questions.items() if i not in exclude]
    if limit is not None and seed is not None and limit < len(chosen):
        keep = set(random.Random(f"{seed}:{category}").sample(range(len(chosen)), max(0, limit)))
        chosen = [q for i, q in enumerate(chosen) if i in keep]
    elif limit is not None:
        chosen = chosen[: max(0, limit)]
    return [AgentTask.from_question(q) for q in chosen]


# -------------------------------------------------------------------------- metering


class UsageMeter(BaseCallbackHandler):
    """Counts the calls and tokens of the chat models it is attached to.

    Attach it to a model with :meth:`attach` (it joins the model's own callbacks, so
    every call of that model counts, in whatever node of the graph it is made).
    """

    def __init__(self) -> None:
        self.calls = 0
        self.samples = 0
        self.input_tokens = 0
        self.output_tokens = 0

    def attach(self, model: Any) -> Any:
        """Add this meter to ``model``'s callbacks (once); returns the model."""
        callbacks = list(getattr(model, "callbacks", None) or [])
        if self not in callbacks:
            model.callbacks = [*callbacks, self]
        return model

    def reset(self) -> None:
        self.calls = self.samples = self.input_tokens = self.output_tokens = 0

    def snapshot(self) -> dict[str, int]:
        return {
            "calls": self.calls,
            "samples": self.samples,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.calls += 1

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            input_counted = False
            for gen in generations:
                self.samples += 1
                usage = getattr(getattr(gen, "message", None), "usage_metadata", None) or {}
                self.output_tokens += int(usage.get("output_tokens", 0) or 0)
                # n samples of one prompt share its input tokens: count them once
                if not input_counted:
                    self.input_tokens += int(usage.get("input_tokens", 0) or 0)
                    input_counted = True


# ------------------------------------------------------------------------------- runs


class Event(BaseModel):
    """One thing that happened in a run, for people to read."""

    model_config = ConfigDict(frozen=True)

    kind: EventKind
    text: str
    """``proposal``/``best_of_n``/``executed``: calls as ``[f(a=1)]`` with BFCL names;
    ``critique``/``halt``: the critic's words; ``ask``: the calls the critic escalated to a
    human, with their scores (an unattended run answers with the timeout decision);
    ``text``: the model's prose answer."""


class TaskRun(BaseModel):
    """One task run by one arm: what happened, what executed, what the task's checker said."""

    id: str
    category: str
    arm: str
    events: list[Event] = Field(default_factory=list)
    executed: list[dict[str, Any]] = Field(default_factory=list)
    """The answer, in BFCL's decoded format ``[{name: {arg: value}}]``."""
    stop: StopReason
    valid: bool
    error_type: str | None = None
    errors: list[str] = Field(default_factory=list)
    policy_calls: int = 0
    policy_input_tokens: int = 0
    policy_output_tokens: int = 0
    critic_calls: int = 0
    critic_input_tokens: int = 0
    critic_output_tokens: int = 0
    retries: int = 0
    """Proposals the critic sent back to the model."""
    seconds: float = 0.0
    error: str | None = None
    """An exception that ended the run (the run counts as wrong)."""
    texts_removed: bool = False
    """The benchmark's texts were taken out (:meth:`without_texts`): counts only."""

    @property
    def proposals(self) -> list[str]:
        return [e.text for e in self.events if e.kind == "proposal"]

    @property
    def critiques(self) -> list[str]:
        return [e.text for e in self.events if e.kind == "critique"]

    def retry_answers(self) -> tuple[int, int]:
        """(answers to a critique, those that differ from the rejected proposal)."""
        answers = changed = 0
        last: str | None = None
        critiqued = False
        for event in self.events:
            if event.kind == "critique":
                critiqued = True
            elif event.kind == "proposal":
                if critiqued and last is not None:
                    answers += 1
                    changed += event.text != last
                last, critiqued = event.text, False
        return answers, changed

    def without_texts(self) -> TaskRun:
        """This run with the benchmark's texts taken out, fit to publish or commit: each
        event's text becomes its digest (:func:`text_digest`: equal texts, equal digests, so
        :meth:`retry_answers` and every count stay the same), the executed calls and the
        checker's messages are dropped, and an exception keeps only its type. Idempotent."""
        return self.model_copy(update={
            "events": [Event(kind=e.kind, text=text_digest(e.text)) for e in self.events],
            "executed": [],
            "errors": [],
            "error": None if self.error is None else self.error.split(":", 1)[0],
            "texts_removed": True,
        })


DIGEST_PREFIX = "sha256:"


def text_digest(text: str) -> str:
    """``sha256:<16 hex digits>`` of ``text``; a digest is returned as it is."""
    if text.startswith(DIGEST_PREFIX):
        return text
    return DIGEST_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def calls_text(proposal: Proposal) -> str:
    """``[f(a=1), g(b='x')]`` (BFCL style), broken calls shown as ``<unparsed: reason>``."""
    parts = []
    for c in proposal.calls:
        args = ", ".join(f"{k}={v!r}" for k, v in c.arguments.items())
        parts.append(f"{c.name}({args})")
    parts += [f"<unparsed {f.name or '?'}: {f.reason}>" for f in proposal.failures]
    return "[" + ", ".join(parts) + "]"


def _messages_of(update: Any) -> list[BaseMessage]:
    if not isinstance(update, Mapping):
        return []
    value = update.get("messages")
    if value is None:
        return []
    if isinstance(value, BaseMessage):
        return [value]
    if isinstance(value, (list, tuple)):
        return [m for m in value if isinstance(m, BaseMessage)]
    return []


def _accept_text(records: Sequence[Mapping[str, Any]]) -> str:
    """Why the critic let a proposal run: ``accepted`` (by a judge that answered), or the
    budget or failure policy that decided (``budget:max_retries``, ``accepted
    (judge unparseable, fail-open)``)."""
    parts: list[str] = []
    for r in records:
        text = str(r.get("reason") or "accepted")
        status = r.get("status")
        if status not in (None, "ok", "skipped"):
            text += f" (judge {status}, let through by its failure policy)"
        if text not in parts:
            parts.append(text)
    return "; ".join(parts)


INTERRUPT = "__interrupt__"
"""The node name of LangGraph's ``interrupt`` in an ``updates`` stream."""


def _ask_text(update: Any) -> str:
    """``f(a=1) scored 0.62`` per escalated call of an ``interrupt`` (the critic's review request)."""
    parts: list[str] = []
    for item in update if isinstance(update, Sequence) else [update]:
        value = getattr(item, "value", item)
        actions = value.get("action_requests") if isinstance(value, Mapping) else None
        for action in actions or []:
            args = ", ".join(f"{k}={v!r}" for k, v in dict(action.get("args") or {}).items())
            score = action.get("score")
            scored = "" if score is None else f" scored {score:.2f}"
            parts.append(f"{action.get('name')}({args}){scored}")
    return "asked a human: " + ("; ".join(parts) or "(no call)")


def _critic_decision(message: ToolMessage) -> str | None:
    """The critic's decision when it wrote this ToolMessage (else ``None``)."""
    artifact = getattr(message, "artifact", None)
    if isinstance(artifact, Mapping) and isinstance(artifact.get("toolrm"), Mapping):
        return str(artifact["toolrm"].get("decision") or "retry")
    return None


@dataclass
class _Reader:
    """Reads a graph's ``updates`` stream into events; knows when to stop.

    The policy speaks in ``model_node``, the tools run in ``tools_node``; anything else
    that writes messages is the critic (its ToolMessages carry a ``toolrm`` artifact).
    """

    toolbox: StubToolbox
    model_node: str = "agent"
    tools_node: str = "tools"
    events: list[Event] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    last_ai: AIMessage | None = None
    executed_message: AIMessage | None = None
    stop: StopReason | None = None
    critic_usage: dict[str, int] = field(default_factory=dict)

    def _calls(self, message: AIMessage) -> str:
        return calls_text(self.toolbox.to_original_proposal(proposal_from_message(message)))

    def feed(self, node: str, update: Any) -> None:
        if node == INTERRUPT:
            self.events.append(Event(kind="ask", text=_ask_text(update)))
            return
        if isinstance(update, Mapping):
            usage = update.get("toolrm_usage")
            if isinstance(usage, Mapping):
                for key, value in usage.items():
                    self.critic_usage[key] = self.critic_usage.get(key, 0) + int(value or 0)
        messages = _messages_of(update)
        if node == self.tools_node:
            if messages and self.last_ai is not None:
                self.executed_message = self.last_ai
                self.events.append(Event(kind="executed", text=self._calls(self.last_ai)))
                self.stop = "executed"
            return
        verdicts = update.get("toolrm_verdicts") if isinstance(update, Mapping) else None
        critiques: list[str] = []  # one event per proposal: each call's distinct text
        for message in messages:
            if isinstance(message, AIMessage):
                self._ai(node, message)
            elif isinstance(message, ToolMessage) and _critic_decision(message) == "retry":
                if (text := str(message.content)) not in critiques:
                    critiques.append(text)
        if critiques:
            self.events.append(Event(kind="critique", text="\n".join(critiques)))
        if isinstance(verdicts, Mapping) and verdicts:
            records = [v for v in verdicts.values() if isinstance(v, Mapping)]
            if records and all(r.get("decision") == "execute" for r in records):
                self.events.append(Event(kind="accepted", text=_accept_text(records)))

    def _ai(self, node: str, message: AIMessage) -> None:
        proposal = proposal_from_message(message)
        replaced = message.id is not None and message.id in self.seen_ids
        if message.id is not None:
            self.seen_ids.add(message.id)
        if node == self.model_node:
            if proposal.is_empty:
                self.events.append(Event(kind="text", text=str(message.content or "").strip()))
                self.stop = "text"
            else:
                self.events.append(Event(kind="proposal", text=self._calls(message)))
        elif replaced:  # the critic swapped in the best-of-N (or resampled) winner under the same id
            self.events.append(Event(kind="best_of_n", text=self._calls(message)))
        else:  # the critic's closing message
            self.events.append(Event(kind="halt", text=str(message.content or "").strip()))
            self.stop = "halted"
            return
        self.last_ai = message


def run_task(
    task: AgentTask,
    make_graph: GraphFactory,
    *,
    arm: str,
    meter: UsageMeter | None = None,
    max_steps: int = 12,
    model_node: str = "agent",
    tools_node: str = "tools",
) -> TaskRun:
    """Run one task with the graph ``make_graph`` builds over fresh stub tools; the
    task's own :meth:`AgentTask.check` judges the answer.

    Stops after the first executed tool round, a prose answer, a halt by the critic, or
    ``max_steps`` graph steps (``stop="step_limit"``). ``model_node`` and ``tools_node``
    name the graph's policy and ToolNode nodes (those of
    :func:`toolrm_agent.critic.node.build_agent_graph` by default). An exception in the graph ends the
    run (``stop="error"``, counted as wrong) instead of the whole benchmark.
    """
    from langgraph.errors import GraphRecursionError

    toolbox = task.toolbox()
    reader = _Reader(toolbox, model_node=model_node, tools_node=tools_node)
    if meter is not None:
        meter.reset()
    error: str | None = None
    started = time.perf_counter()
    try:
        graph = make_graph(toolbox.tools)
        for chunk in _stream(graph, task, max_steps):
            for node, update in chunk.items():
                reader.feed(node, update)
            if reader.stop is not None:
                break
    except GraphRecursionError:
        reader.stop = "step_limit"
    except Exception as exc:  # noqa: BLE001 - one broken run must not end the benchmark
        reader.stop = "error"
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started

    stop: StopReason = reader.stop or "text"
    if reader.stop is None and reader.last_ai is not None and reader.last_ai.tool_calls:
        stop = "step_limit"  # the stream ended with calls that never ran
    final = (
        toolbox.to_original_proposal(proposal_from_message(reader.executed_message))
        if reader.executed_message is not None
        else Proposal()
    )
    text = next((e.text for e in reversed(reader.events) if e.kind == "text"), "")
    if not text and reader.executed_message is None and reader.last_ai is not None:
        # prose the parser took for a broken call attempt: the answer is still that text
        text = str(reader.last_ai.content or "").strip()
    result = task.check(final, text)
    usage = meter.snapshot() if meter is not None else {}
    cu = reader.critic_usage
    return TaskRun(
        id=task.id,
        category=task.category,
        arm=arm,
        events=reader.events,
        executed=[{c.name: dict(c.arguments)} for c in final.calls],
        stop=stop,
        valid=result.valid,
        error_type=result.error_type,
        errors=list(result.errors),
        policy_calls=usage.get("calls", 0),
        policy_input_tokens=usage.get("input_tokens", 0),
        policy_output_tokens=usage.get("output_tokens", 0),
        critic_calls=int(cu.get("critic_calls", 0)),
        critic_input_tokens=int(cu.get("input_tokens", 0)),
        critic_output_tokens=int(cu.get("output_tokens", 0)),
        retries=int(cu.get("retries", 0)),
        seconds=round(seconds, 3),
        error=error,
    )


def _stream(graph: Any, task: AgentTask, max_steps: int) -> Iterator[dict[str, Any]]:
    """The graph's updates; an ``interrupt`` (the critic asking a human, ``--on-uncertain
    ask``) is answered ``Command(resume="timeout")``: nobody attends these runs, so each
    escalated call gets the bands' ``on_ask_timeout`` decision. At most ``max_steps`` resumes."""
    from langgraph.types import Command

    config = {"recursion_limit": max_steps, "configurable": {"thread_id": f"toolrm-{task.id}"}}
    payload: Any = {"messages": list(task.messages)}
    for _ in range(max_steps):
        interrupted = False
        for chunk in graph.stream(payload, config, stream_mode="updates"):
            if isinstance(chunk, Mapping):
                interrupted = interrupted or INTERRUPT in chunk
                yield dict(chunk)
        if not interrupted:
            return
        payload = Command(resume="timeout")


# ------------------------------------------------------------------------------ arms


@dataclass(frozen=True)
class Arm:
    """One way of running the agent over the task set: a name, a graph, a meter."""

    name: str
    make_graph: GraphFactory
    meter: UsageMeter | None = None
    """Attached to the policy (and proposer) models of this arm; see :class:`UsageMeter`."""


def load_policy(
    spec: str = "default", *, max_new_tokens: int = 256, temperature: float = 0.0, **options: Any
) -> Any:
    """The policy chat model a spec names: :func:`toolrm_agent.models.policy.load_chat_model`."""
    from toolrm_agent.models.policy import load_chat_model

    return load_chat_model(
        spec, max_new_tokens=max_new_tokens, temperature=temperature, **options
    )


def sampling_proposer(
    sampler: Any, tools: Sequence[BaseTool]
) -> Callable[[list[BaseMessage], int], list[AIMessage]]:
    """A best-of-N proposer: ``k`` samples of ``sampler`` (a chat model that samples,
    temperature > 0) on the transcript, with ``tools`` bound
    (:func:`toolrm_agent.models.policy.sample_messages`)."""
    from toolrm_agent.models.policy import sample_messages

    tools = list(tools)

    def propose(messages: list[BaseMessage], k: int) -> list[AIMessage]:
        return sample_messages(sampler, messages, tools, k)

    return propose


def agent_arm(
    name: str,
    policy: Any,
    critic: Any = None,
    *,
    sampler: Any = None,
    retry_model: Any = None,
    meter: UsageMeter | None = None,
) -> Arm:
    """An arm running :func:`toolrm_agent.critic.node.build_agent_graph` over ``policy``.

    ``critic`` (a :class:`~toolrm_agent.critic.node.ToolRMCritic`, ``None`` for the baseline)
    is copied per run with that run's tools; in best-of-N mode ``sampler`` (a sampling
    chat model, see :func:`sampling_proposer`) draws the extra candidates, else the
    critic samples the bound policy itself. ``retry_model`` (a sampling copy of the
    policy) answers the critiques (see :func:`toolrm_agent.critic.node.build_agent_graph`).
    ``meter`` (default: a new one) is attached to ``policy``, ``sampler`` and ``retry_model``.
    A critic whose bands ask a human gets an in-memory checkpointer per run (see :func:`_stream`).
    """
    from toolrm_agent.critic.node import build_agent_graph

    meter = meter or UsageMeter()
    meter.attach(policy)
    for extra in {id(m): m for m in (sampler, retry_model) if m is not None}.values():
        meter.attach(extra)

    def make_graph(tools: Sequence[BaseTool]) -> Any:
        run_critic = critic
        if run_critic is not None and sampler is not None and run_critic.options.draws_samples:
            run_critic = run_critic.override(proposer=sampling_proposer(sampler, tools))
        return build_agent_graph(policy, list(tools), critic=run_critic,
                                 retry_model=retry_model if critic is not None else None,
                                 checkpointer=_checkpointer_for(critic))

    return Arm(name=name, make_graph=make_graph, meter=meter)


def _checkpointer_for(critic: Any) -> Any:
    """An in-memory checkpointer for a critic that asks a human (LangGraph's ``interrupt``
    needs one), else ``None``."""
    options = getattr(critic, "options", None)
    bands = getattr(options, "bands", None)
    if options is None or bands is None or bands.on_uncertain != "ask" or options.shadow:
        return None
    from langgraph.checkpoint.memory import InMemorySaver

    return InMemorySaver()


def max_steps_for(max_retries: int) -> int:
    """Graph steps one task may take: (model, critic) per attempt, then the tools, + slack."""
    return 2 * (max_retries + 1) + 3


def run_arms(
    tasks: Sequence[AgentTask],
    arms: Sequence[Arm],
    *,
    max_steps: int = 12,
    on_run: Callable[[AgentTask, TaskRun], None] | None = None,
) -> list[TaskRun]:
    """Every task by every arm (task by task, arms in order); ``on_run`` after each run."""
    names = [a.name for a in arms]
    if len(set(names)) != len(names):
        raise ValueError(f"arm names must be unique, got {names}")
    runs: list[TaskRun] = []
    for task in tasks:
        for arm in arms:
            run = run_task(task, arm.make_graph, arm=arm.name, meter=arm.meter, max_steps=max_steps)
            runs.append(run)
            if on_run is not None:
                on_run(task, run)
    return runs


# --------------------------------------------------------------------------- reports


class ArmSummary(BaseModel):
    """Totals of one arm over a task set."""

    arm: str
    n: int
    correct: int
    accuracy: float | None
    policy_calls: int
    policy_tokens: dict[str, int]
    critic_calls: int
    critic_tokens: dict[str, int]
    retries: int
    retry_answers: int = 0
    """Proposals the policy made in answer to a critique."""
    retries_changed: int = 0
    """Of those, the ones that differ from the proposal the critic sent back."""
    seconds: float
    errors: int
    """Runs that ended in an exception."""
    stops: dict[str, int]
    accuracy_ci95: tuple[float, float] | None = None
    """Wilson 95% interval of the accuracy."""


def summarize(runs: Sequence[TaskRun], arm: str) -> ArmSummary:
    """Accuracy, calls, tokens and seconds of one arm's runs."""
    runs = [r for r in runs if r.arm == arm]
    n = len(runs)
    correct = sum(r.valid for r in runs)
    stops: dict[str, int] = {}
    for r in runs:
        stops[r.stop] = stops.get(r.stop, 0) + 1
    return ArmSummary(
        arm=arm,
        n=n,
        correct=correct,
        accuracy=correct / n if n else None,
        policy_calls=sum(r.policy_calls for r in runs),
        policy_tokens={
            "prompt": sum(r.policy_input_tokens for r in runs),
            "completion": sum(r.policy_output_tokens for r in runs),
        },
        critic_calls=sum(r.critic_calls for r in runs),
        critic_tokens={
            "prompt": sum(r.critic_input_tokens for r in runs),
            "completion": sum(r.critic_output_tokens for r in runs),
        },
        retries=sum(r.retries for r in runs),
        retry_answers=sum(r.retry_answers()[0] for r in runs),
        retries_changed=sum(r.retry_answers()[1] for r in runs),
        seconds=round(sum(r.seconds for r in runs), 3),
        errors=sum(r.error is not None for r in runs),
        stops=dict(sorted(stops.items())),
        accuracy_ci95=wilson_interval(correct, n) if n else None,
    )


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of ``successes / n`` (95% for the default ``z``)."""
    if n <= 0:
        raise ValueError("n must be positive")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3))


def lift_report(
    runs: Sequence[TaskRun], *, baseline: str = "baseline", critic: str = "critic"
) -> dict[str, Any]:
    """Baseline vs critic on the same tasks: accuracies, lift and the per-task flips.

    ``lift`` = critic accuracy − baseline accuracy (fractions). ``fixed``: tasks wrong
    without the critic and right with it; ``broken``: the reverse.
    """
    base, crit = summarize(runs, baseline), summarize(runs, critic)
    by_id: dict[str, dict[str, TaskRun]] = {}
    for r in runs:
        by_id.setdefault(r.id, {})[r.arm] = r
    fixed = sorted(
        i
        for i, arms in by_id.items()
        if baseline in arms and critic in arms and not arms[baseline].valid and arms[critic].valid
    )
    broken = sorted(
        i
        for i, arms in by_id.items()
        if baseline in arms and critic in arms and arms[baseline].valid and not arms[critic].valid
    )
    lift = (
        crit.accuracy - base.accuracy
        if crit.accuracy is not None and base.accuracy is not None
        else None
    )
    return {
        "n": base.n,
        "baseline_acc": base.accuracy,
        "critic_acc": crit.accuracy,
        "lift": lift,
        "fixed": fixed,
        "broken": broken,
        "baseline": base.model_dump(),
        "critic": crit.model_dump(),
    }
