"""The fault matrix: faulty judge backends, a policy model, recording tools, a local
OpenAI-compatible HTTP server, one cell runner and the invariants every cell must keep.

Shared by ``tests/reliability/test_fault_matrix.py`` (a fast slice, in the default
suite) and ``toolrm bench reliability`` (every cell). A *cell* is one fault of
the judge's backend x one failure policy x one adapter (LangGraph node or
``create_agent`` middleware) x one critic setup (:data:`MODES`: retry, best-of-N,
resample on reject, escalation to a human answered by its timeout, shadow), always with
a parallel proposal in which one call is bad. :func:`run_cell` runs it and :func:`check` returns
one boolean per invariant (:data:`INVARIANTS`).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import InjectedToolCallId, tool
from pydantic import ConfigDict, Field

from eval.bench.scripted import ScriptedChatModel
from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.verdicts import CallVerdict, Critique, TokenUsage
from toolrm_agent.judges.base import BaseJudge

# ------------------------------------------------------------------------ the axes

FAULTS: tuple[str, ...] = (
    "healthy",  # control: a backend that judges right
    "flaky",  # the first backend call raises, then healthy
    "raises",  # every backend call raises
    "timeout",  # slower than the judge's own timeout_s
    "hang",  # hangs past the critic's judge_timeout_s (the judge has no timeout)
    "empty",  # ""
    "no_tag",  # text without a verdict or choice tag
    "both_choices",  # "<choice>1</choice> ... <choice>2</choice>" / both verdicts
    "wrong_count",  # a judge whose per-call verdicts do not match the calls (contradicting)
    "megabyte",  # a megabyte of text
    "control_chars",  # control characters and a lone surrogate
    "surrogate",  # only a lone surrogate ("\ud800")
    "http_5xx",  # a real local OpenAI server answering 500
    "http_close",  # ... closing the connection in the middle of the body
    "http_stall",  # ... never answering within the client timeout
)
SLOW_FAULTS = frozenset({"timeout", "hang", "http_stall"})
PERSISTENT_FAULTS = frozenset(FAULTS) - {"healthy", "flaky", "wrong_count"}
"""Faults that break every judgement: the judge never produces a real verdict."""

POLICIES: tuple[str, ...] = ("fail_open", "fail_closed", "execute", "reject", "halt")
"""``fail_open`` / ``fail_closed``: the judge's own policy (errors become verdicts).
``execute`` / ``reject`` / ``halt``: the judge raises, the critic's ``on_judge_error``."""
BLOCKING_POLICIES = frozenset({"fail_closed", "reject", "halt"})
ADAPTERS: tuple[str, ...] = ("node", "middleware")
MODES: tuple[str, ...] = ("retry", "best_of_n", "resample", "ask", "shadow")
"""The critic's setup: ``retry``, ``best_of_n`` and ``resample`` are its modes;
``ask`` is retry with :data:`ASK_BANDS` (the uncertain calls go to a human through
``interrupt``; every escalation is answered ``Command(resume="timeout")``, so the bands'
``on_ask_timeout`` decides, as in an unattended run); ``shadow`` is retry with
``shadow=True`` (judged and recorded, the run untouched: every call runs as proposed)."""
SAMPLING: frozenset[str] = frozenset({"best_of_n", "resample"})
MAX_RESUMES = 20
"""An ``ask`` cell answers at most this many interrupts (a run that asks more fails)."""

INVARIANTS: tuple[str, ...] = (
    "ends_within_budget",
    "every_call_answered_once",
    "no_rejected_call_runs",
    "no_approved_call_runs_twice",
    "transcript_valid",
    "post_mortem_in_state",
    "policy_honoured",
)

MAX_RETRIES = 1
MAX_CRITIC_CALLS = 12
MAX_CRITIC_STEPS = 6
N = 2
JUDGE_TIMEOUT_S = 0.25  # the critic's deadline (hang)
BACKEND_TIMEOUT_S = 0.15  # the judge's / HTTP client's own timeout (timeout, http_*)
CELL_SECONDS = 20.0
"""A run that takes longer than this did not end within its budget."""

GOOD = ("get_weather", {"city": "Paris"})
BAD = ("get_weather", {"town": "Paris"})  # misses the required "city"
ALSO_GOOD = ("get_time", {"zone": "UTC"})
TOOL_NAMES = frozenset({"get_weather", "get_time"})


SHAPES: tuple[str, ...] = ("none_ids", "dup_ids", "padded", "same_msg_id")
"""Malformed proposals (see :class:`PolicyModel`), crossed with a healthy and a raising judge."""
SHAPE_MODES: tuple[str, ...] = tuple(m for m in MODES if m != "shadow")
"""The setups crossed with :data:`SHAPES`: the malformed-proposal cells check the critic's
repair (ids given, names trimmed, every call answered), which a shadow critic by contract
does not do: it leaves every proposal as the model wrote it, as a run without a critic would."""


@dataclass(frozen=True)
class Cell:
    fault: str
    policy: str
    adapter: str
    mode: str
    how: str = "sync"
    shape: str = "normal"

    @property
    def id(self) -> str:
        shape = "" if self.shape == "normal" else f"-{self.shape}"
        return f"{self.fault}-{self.policy}-{self.adapter}-{self.mode}-{self.how}{shape}"


def all_cells(hows: tuple[str, ...] = ("sync", "async")) -> list[Cell]:
    """Every fault x policy x adapter x mode x path, then the malformed-proposal cells."""
    cells = [
        Cell(f, p, a, m, h)
        for f in FAULTS
        for p in POLICIES
        for a in ADAPTERS
        for m in MODES
        for h in hows
    ]
    cells += [
        Cell(f, p, a, m, h, shape)
        for shape in SHAPES
        for f in ("healthy", "raises")
        for p in ("fail_open", "reject")
        for a in ADAPTERS
        for m in SHAPE_MODES
        for h in hows
    ]
    return cells


# ------------------------------------------------------------------------- tools


def recording_tools() -> tuple[list[Any], list[str]]:
    """The two tools; ``executed`` gets the tool_call_id of every run."""
    executed: list[str] = []
    lock = threading.Lock()

    @tool
    def get_weather(city: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> str:
        """Current weather of a city."""
        with lock:
            executed.append(tool_call_id)
        return f"sunny in {city}"

    @tool
    def get_time(zone: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> str:
        """Current time in a time zone."""
        with lock:
            executed.append(tool_call_id)
        return f"12:00 in {zone}"

    return [get_weather, get_time], executed


# ------------------------------------------------------------------ policy model


class PolicyModel(ScriptedChatModel):
    """The agent's model: a parallel proposal with one bad call (every other answer a
    fixed one), at most ``proposals`` of them, then ``"Done."``.

    ``shape`` breaks the proposal the way LangChain allows: ``none_ids`` (``id=None``),
    ``dup_ids`` (two calls, one id), ``padded`` (``" get_weather "``), ``same_msg_id``
    (every answer has message id ``"same"``).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    proposals: int = 8
    shape: str = "normal"
    prefix: str = "c"
    """Call ids are ``<prefix><answer>_<k>``: unique within a thread when every model has its own prefix."""
    calls: int = 0
    lock: Any = Field(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "policy-fake"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self.bind(tools=list(tools), **kwargs)

    def _answer(self) -> AIMessage:
        with self.lock:
            i = self.calls
            self.calls += 1
        msg_id = "same" if self.shape == "same_msg_id" else f"{self.prefix}-msg-{i}"
        usage = {"input_tokens": 3, "output_tokens": 3, "total_tokens": 6}
        if i >= self.proposals:
            return AIMessage("Done.", id=msg_id, usage_metadata=usage)
        second = ALSO_GOOD if i % 2 == 1 else BAD
        calls = [GOOD, second]
        ids: list[str | None] = [f"{self.prefix}{i}_0", f"{self.prefix}{i}_1"]
        if self.shape == "none_ids":
            ids = [None, None]
        elif self.shape == "dup_ids":
            ids = [f"{self.prefix}{i}", f"{self.prefix}{i}"]
        elif self.shape == "same_msg_id":
            ids = ["same_0", "same_1"]
        names = [name for name, _ in calls]
        if self.shape == "padded":
            names = [f" {n} " for n in names]
        return AIMessage(
            content="",
            id=msg_id,
            tool_calls=[
                {"name": n, "args": dict(args), "id": cid, "type": "tool_call"}
                for n, (_, args), cid in zip(names, calls, ids, strict=True)
            ],
            usage_metadata=usage,
        )

    def reply(self, messages: list[BaseMessage]) -> AIMessage:
        return self._answer()


# ----------------------------------------------------------------- judge backends


def healthy_answer(prompt: str) -> str:
    """What a correct judge says: a call without ``city`` is wrong; of two responses,
    the one without such a call is better."""
    if "## Response 1" in prompt and "## Response 2" in prompt:
        first = prompt.split("## Response 1", 1)[1].split("## Response 2", 1)[0]
        return "<choice>2</choice>" if '"town"' in first else "<choice>1</choice>"
    proposal = prompt.rsplit("## Proposed next turn", 1)[-1]
    if '"town"' in proposal:
        return "<verdict>incorrect</verdict><critique>get_weather needs city</critique>"
    return "<verdict>correct</verdict><critique>none</critique>"


FAULT_TEXT: dict[str, str] = {
    "empty": "",
    "no_tag": "I am not sure about this one.",
    "both_choices": "<choice>1</choice> <choice>2</choice> <verdict>maybe</verdict>",
    "megabyte": "x" * (1 << 20),
    "control_chars": "\x00\x01\x07\x1b[31m\x7f\u202e\ufeff\ud800 <verdict>\x00</verdict>",
    "surrogate": "\ud800",
}


class FaultyBackend(ScriptedChatModel):
    """The judge's chat model, broken in one way (``fault``); counts its calls."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    fault: str = "healthy"
    sleep_s: float = 0.0
    calls: int = 0
    lock: Any = Field(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "faulty-backend"

    def _count(self) -> int:
        with self.lock:
            self.calls += 1
            return self.calls

    def _text(self, n: int, messages: list[BaseMessage]) -> str:
        if self.fault == "raises" or (self.fault == "flaky" and n == 1):
            raise ConnectionError("judge backend refused the connection")
        if self.fault in FAULT_TEXT:
            return FAULT_TEXT[self.fault]
        return healthy_answer(str(messages[-1].content if messages else ""))

    def _message(self, text: str) -> AIMessage:
        return AIMessage(text, usage_metadata={"input_tokens": 11, "output_tokens": 2, "total_tokens": 13})

    def reply(self, messages: list[BaseMessage]) -> AIMessage:
        n = self._count()
        if self.sleep_s:
            time.sleep(self.sleep_s)
        return self._message(self._text(n, messages))

    async def areply(self, messages: list[BaseMessage]) -> AIMessage:
        n = self._count()
        if self.sleep_s:
            await asyncio.sleep(self.sleep_s)
        return self._message(self._text(n, messages))


class WrongCountJudge(BaseJudge):
    """Accepts every proposal overall, but its per-call verdicts are for the wrong number
    of calls: one for a call that does not exist, and a ``not ok`` for each bad call."""

    name = "wrong-count"

    def __init__(self) -> None:
        self._seen = 0  # an underscore attribute: a judge is frozen once built

    @property
    def seen(self) -> int:
        return self._seen

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        self._seen += 1
        verdicts = [
            CallVerdict(tool_call_id=c.id, name=c.name, ok=False, score=0.0)
            for c in proposal.calls
            if "town" in c.arguments
        ]
        verdicts.append(CallVerdict(tool_call_id="ghost", name="ghost", ok=True, score=1.0))
        return Critique(
            accepted=True,
            score=0.9,
            judge=self.name,
            calls=tuple(verdicts),
            usage=TokenUsage(input_tokens=5, output_tokens=1),
        )


# ------------------------------------------------------------------ HTTP server


class OpenAIStub:
    """An OpenAI chat-completions server on 127.0.0.1 whose answers depend on the path:
    ``/ok/v1`` answers like :func:`healthy_answer`, ``/5xx/v1`` with HTTP 500,
    ``/close/v1`` closes the connection in the middle of the body, ``/stall/v1`` waits
    ``stall_s`` before answering. Use as a context manager (a daemon thread)."""

    def __init__(self, stall_s: float = 1.0) -> None:
        self.stall_s = stall_s
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> OpenAIStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                stub.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                mode = self.path.strip("/").split("/", 1)[0]
                if mode == "5xx":
                    self._send(500, b'{"error": {"message": "boom", "type": "server_error"}}')
                elif mode == "close":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "4096")
                    self.end_headers()
                    self.wfile.write(b'{"id": "x", "choices": [{"message": {"content": "<verd')
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                else:
                    if mode == "stall":
                        time.sleep(stub.stall_s)
                    prompt = str((body.get("messages") or [{}])[-1].get("content", ""))
                    answer = {
                        "id": "chatcmpl-stub",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model", "stub"),
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": healthy_answer(prompt)},
                            }
                        ],
                        "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
                    }
                    try:
                        self._send(200, json.dumps(answer).encode())
                    except OSError:
                        pass  # the client gave up (timeout)

            def _send(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="openai-stub", daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def base_url(self, mode: str) -> str:
        assert self._server is not None, "use OpenAIStub as a context manager"
        return f"http://127.0.0.1:{self._server.server_address[1]}/{mode}/v1"


# ---------------------------------------------------------------- building a cell


def make_judge(cell: Cell, server: OpenAIStub | None) -> tuple[Any, Any]:
    """The cell's judge and its backend (``None`` for the wrong-count judge)."""
    from toolrm_agent.judges.generative.generative import FailurePolicy, GenerativeJudge

    if cell.fault == "wrong_count":
        return WrongCountJudge(), None
    backend: Any
    timeout_s: float | None = 5.0
    if cell.fault.startswith("http_"):
        from langchain_openai import ChatOpenAI

        if server is None:
            raise ValueError(f"cell {cell.id} needs the OpenAIStub server")
        mode = {"http_5xx": "5xx", "http_close": "close", "http_stall": "stall"}[cell.fault]
        backend = ChatOpenAI(
            model="stub",
            base_url=server.base_url(mode),
            api_key="-",  # type: ignore[arg-type]
            max_retries=0,
            timeout=BACKEND_TIMEOUT_S,
        )
    elif cell.fault == "timeout":
        backend, timeout_s = FaultyBackend(fault="healthy", sleep_s=0.5), BACKEND_TIMEOUT_S
    elif cell.fault == "hang":
        backend, timeout_s = FaultyBackend(fault="healthy", sleep_s=1.0), None
    else:
        backend = FaultyBackend(fault=cell.fault)
    own_policies: dict[str, FailurePolicy] = {"fail_open": "fail_open", "fail_closed": "fail_closed"}
    own = own_policies.get(cell.policy, "raise")
    judge = GenerativeJudge(
        backend,
        on_unparseable=own,
        max_attempts=2,
        timeout_s=timeout_s,
        backoff_s=0.0,
        thinking_via="none",
        name=f"gen:{cell.fault}",
    )
    return judge, backend


def ask_bands() -> Any:
    """The ``ask`` cells' bands: a judge's 1 runs, anything lower is asked about (a wrong
    call scores 0, a verdict filled in by the judge's failure policy 0.5); nobody answers,
    so ``on_ask_timeout="reject"`` sends those calls back."""
    from toolrm_agent import DecisionBands

    return DecisionBands(accept=0.9, uncertain=0.0, on_uncertain="ask", on_ask_timeout="reject")


def critic_options(cell: Cell) -> dict[str, Any]:
    on_judge_error = cell.policy if cell.policy in ("execute", "reject", "halt") else "execute"
    return {
        "mode": cell.mode if cell.mode in ("retry", *SAMPLING) else "retry",
        "bands": ask_bands() if cell.mode == "ask" else None,
        "shadow": cell.mode == "shadow",
        "n": N,
        "max_retries": MAX_RETRIES,
        "on_budget_exhausted": "halt",
        "on_judge_error": on_judge_error,
        "judge_timeout_s": JUDGE_TIMEOUT_S,
        "budget": None,
    }


@dataclass
class CellResult:
    cell: Cell
    seconds: float = 0.0
    error: str | None = None
    messages: list[BaseMessage] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    executed: list[str] = field(default_factory=list)
    model_calls: int = 0
    backend_calls: int = 0
    invariants: dict[str, bool] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)

    @property
    def survived(self) -> bool:
        return self.error is None and all(self.invariants.values())

    def summary(self) -> dict[str, Any]:
        usage = self.state.get("toolrm_usage") or {}
        return {
            "cell": self.cell.id,
            "fault": self.cell.fault,
            "policy": self.cell.policy,
            "adapter": self.cell.adapter,
            "mode": self.cell.mode,
            "how": self.cell.how,
            "shape": self.cell.shape,
            "survived": self.survived,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "invariants": dict(self.invariants),
            "why": dict(self.why),
            "executed": len(self.executed),
            "model_calls": self.model_calls,
            "backend_calls": self.backend_calls,
            "critic_calls": usage.get("critic_calls", 0),
            "critic_steps": usage.get("critic_steps", 0),
            "judge_errors": usage.get("judge_errors", 0),
            "halts": usage.get("halts", 0),
        }


def build(cell: Cell, judge: Any, tools: list[Any], policy: PolicyModel) -> Any:
    from toolrm_agent import CriticBudget

    checkpointer = None
    if cell.mode == "ask":  # LangGraph's interrupt needs one
        from langgraph.checkpoint.memory import InMemorySaver

        checkpointer = InMemorySaver()

    options = critic_options(cell)
    options["budget"] = CriticBudget(
        max_retries=MAX_RETRIES,
        max_critic_calls=MAX_CRITIC_CALLS,
        max_critic_steps=MAX_CRITIC_STEPS,
    )
    options.pop("max_retries")
    if cell.adapter == "node":
        from toolrm_agent.critic.node import ToolRMCritic, build_agent_graph

        # the proposer starts one answer ahead, so its samples differ from the proposal
        sampler = PolicyModel(proposals=10_000, calls=1, prefix="s")
        proposer = sampler.bind_tools(tools) if cell.mode in SAMPLING else None
        return build_agent_graph(policy, tools, ToolRMCritic(judge, proposer=proposer, **options),
                                 checkpointer=checkpointer)
    from langchain.agents import create_agent

    from toolrm_agent.critic.middleware import ToolRMMiddleware

    return create_agent(policy, tools, middleware=[ToolRMMiddleware(judge, **options)], checkpointer=checkpointer)


def run_cell(cell: Cell, server: OpenAIStub | None = None) -> CellResult:
    """Run one cell and check every invariant."""
    result = CellResult(cell)
    tools, executed = recording_tools()
    policy = PolicyModel(proposals=8, shape=cell.shape)
    judge, backend = make_judge(cell, server)
    graph = build(cell, judge, tools, policy)
    inputs = {"messages": [HumanMessage("What is the weather and the time in Paris?")]}
    config = {"recursion_limit": 200, "configurable": {"thread_id": cell.id}}
    start = time.perf_counter()
    try:
        if cell.how == "sync":
            out = _invoke(graph, inputs, config)
        else:
            out = asyncio.run(_ainvoke(graph, inputs, config))
    except Exception as exc:  # noqa: BLE001 - a crashed run is a failed cell
        out = {}
        result.error = f"{type(exc).__name__}: {exc}"[:500]
    result.seconds = time.perf_counter() - start
    result.state = dict(out)
    result.messages = list(out.get("messages") or [])
    result.executed = list(executed)
    result.model_calls = policy.calls
    result.backend_calls = (
        getattr(backend, "calls", 0) if backend is not None else getattr(judge, "seen", 0)
    )
    result.invariants, result.why = check(result)
    return result


def _invoke(graph: Any, inputs: Any, config: Any) -> dict[str, Any]:
    """Run to the end; each ``interrupt`` (an ``ask`` cell) answered as a timeout."""
    from langgraph.types import Command

    out = graph.invoke(inputs, config)
    for _ in range(MAX_RESUMES):
        if not _interrupted(graph.get_state(config) if graph.checkpointer else None):
            return dict(out)
        out = graph.invoke(Command(resume="timeout"), config)
    raise RuntimeError(f"still interrupted after {MAX_RESUMES} resumes")


async def _ainvoke(graph: Any, inputs: Any, config: Any) -> dict[str, Any]:
    """Async twin of :func:`_invoke`."""
    from langgraph.types import Command

    out = await graph.ainvoke(inputs, config)
    for _ in range(MAX_RESUMES):
        if not _interrupted(await graph.aget_state(config) if graph.checkpointer else None):
            return dict(out)
        out = await graph.ainvoke(Command(resume="timeout"), config)
    raise RuntimeError(f"still interrupted after {MAX_RESUMES} resumes")


def _interrupted(snapshot: Any) -> bool:
    return snapshot is not None and bool(getattr(snapshot, "interrupts", ()))


# -------------------------------------------------------------------- invariants


def transcript_problems(messages: list[BaseMessage]) -> list[str]:
    """OpenAI/Anthropic message rules: every assistant tool call answered exactly once
    before the next assistant turn, no orphan or duplicate tool message, call ids
    non-empty and unique within their message."""
    problems: list[str] = []
    open_ids: dict[str, int] = {}
    current: AIMessage | None = None
    for i, message in enumerate(messages):
        if isinstance(message, AIMessage):
            missing = [cid for cid, n in open_ids.items() if n == 0]
            if missing:
                problems.append(f"message {i}: assistant turn before answers to {missing}")
            current, open_ids = message, {}
            ids = [c.get("id") for c in message.tool_calls] + [
                c.get("id") for c in message.invalid_tool_calls
            ]
            if any(not isinstance(cid, str) or not cid for cid in ids):
                problems.append(f"message {i}: a tool call without an id")
            if len(set(ids)) != len(ids):
                problems.append(f"message {i}: duplicate tool call ids {ids}")
            open_ids = {cid: 0 for cid in ids if isinstance(cid, str)}
        elif isinstance(message, ToolMessage):
            if current is None or message.tool_call_id not in open_ids:
                problems.append(f"message {i}: orphan tool message for {message.tool_call_id!r}")
            else:
                open_ids[message.tool_call_id] += 1
                if open_ids[message.tool_call_id] > 1:
                    problems.append(f"message {i}: second answer to {message.tool_call_id!r}")
        elif isinstance(message, HumanMessage):
            missing = [cid for cid, n in open_ids.items() if n == 0]
            if missing:
                problems.append(f"message {i}: user turn before answers to {missing}")
    missing = [cid for cid, n in open_ids.items() if n == 0]
    if missing:
        problems.append(f"end: unanswered tool calls {missing}")
    return problems


def _answers(messages: list[BaseMessage]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in messages:
        if isinstance(m, ToolMessage):
            counts[m.tool_call_id] = counts.get(m.tool_call_id, 0) + 1
    return counts


def _proposed_ids(messages: list[BaseMessage]) -> list[str]:
    ids: list[str] = []
    for m in messages:
        if isinstance(m, AIMessage):
            ids += [str(c.get("id")) for c in m.tool_calls] + [
                str(c.get("id")) for c in m.invalid_tool_calls
            ]
    return ids


def check(result: CellResult) -> tuple[dict[str, bool], dict[str, str]]:
    """One boolean per invariant of :data:`INVARIANTS`, and why each failed one failed."""
    messages, state, cell = result.messages, result.state, result.cell
    verdicts: dict[str, dict[str, Any]] = state.get("toolrm_verdicts") or {}
    usage: dict[str, int] = state.get("toolrm_usage") or {}
    why: dict[str, str] = {}
    ok: dict[str, bool] = {}

    def record(name: str, passed: bool, reason: str) -> None:
        ok[name] = bool(passed)
        if not passed:
            why[name] = reason[:400]

    if result.error is not None:
        for name in INVARIANTS:
            record(name, False, f"the run crashed: {result.error}")
        return ok, why

    calls_bound = MAX_CRITIC_CALLS + 2 * N * 2  # the last step may overshoot by its own cost
    shadow = cell.mode == "shadow"
    answers_with_calls = sum(1 for m in messages if isinstance(m, AIMessage) and m.tool_calls)
    # a shadow critic never ends the run: its step budget bounds what it judges, not the run
    steps_bound = answers_with_calls if shadow else MAX_CRITIC_STEPS + 1  # + the step that ends the run
    within = (
        result.seconds < CELL_SECONDS
        and usage.get("critic_steps", 0) <= steps_bound
        and usage.get("critic_calls", 0) <= calls_bound
        and result.model_calls <= (MAX_CRITIC_STEPS + 1) * N
    )
    record(
        "ends_within_budget",
        within,
        f"seconds={result.seconds:.2f} usage={usage} model_calls={result.model_calls}",
    )

    answers = _answers(messages)
    proposed = _proposed_ids(messages)
    unanswered = [cid for cid in proposed if answers.get(cid, 0) != 1]
    record(
        "every_call_answered_once",
        not unanswered and len(set(proposed)) == len(proposed),
        f"ids without exactly one answer: {unanswered}; proposed={proposed}",
    )

    ran = set(result.executed)
    if shadow:  # the run is untouched: every well-formed call runs, the critic writes nothing
        valid = [cid for cid in proposed if not _is_bad(messages, cid)]
        not_run = [cid for cid in valid if cid not in ran]
        written = [m.tool_call_id for m in messages if isinstance(m, ToolMessage) and _by_critic(m)]
        record(
            "no_rejected_call_runs",
            not not_run and not written,
            f"shadow changed the run: calls that did not run {not_run}; critic answers {written}",
        )
    else:
        not_approved = [cid for cid in ran if (verdicts.get(cid) or {}).get("decision") != "execute"]
        record(
            "no_rejected_call_runs", not not_approved, f"ran without an execute verdict: {not_approved}"
        )

    twice = sorted({cid for cid in result.executed if result.executed.count(cid) > 1})
    record("no_approved_call_runs_twice", not twice, f"ran twice: {twice}")

    problems = transcript_problems(messages)
    record("transcript_valid", not problems, "; ".join(problems))

    judged = [v for v in verdicts.values() if v.get("status") != "skipped"]
    keys = {"attempts", "errors", "input_tokens", "output_tokens", "seconds"}
    missing_pm = [v["tool_call_id"] for v in judged if not keys <= set(v.get("post_mortem") or {})]
    failed_silently = [
        v["tool_call_id"]
        for v in judged
        if v.get("status") not in ("ok", None) and not (v.get("post_mortem") or {}).get("errors")
    ]
    usage_ok = (
        "critic_calls" in usage
        and "critic_steps" in usage
        and (
            not judged
            or usage.get("input_tokens", 0) + usage.get("output_tokens", 0) > 0
            or cell.fault in ("http_5xx", "http_close", "http_stall", "raises", "timeout", "hang")
            # every judged step failed (a healthy judge can still miss its deadline on a loaded
            # machine): no answer came back, so there are no tokens to count
            or usage.get("judge_errors", 0) >= usage.get("critic_steps", 0) > 0
        )
    )
    record(
        "post_mortem_in_state",
        not missing_pm and not failed_silently and usage_ok,
        f"records without post-mortem: {missing_pm}; failures without errors: {failed_silently}; usage={usage}",
    )

    if shadow:
        record("policy_honoured", *_shadow_recorded(messages, verdicts, cell))
        return ok, why
    policy_ok, reason = True, ""
    bad_ran = [
        cid for cid in ran if (verdicts.get(cid) or {}).get("name") and _is_bad(messages, cid)
    ]
    if bad_ran and cell.fault in ("healthy", "flaky", "wrong_count"):
        policy_ok, reason = False, f"a bad call ran although the judge could tell: {bad_ran}"
    if cell.fault in PERSISTENT_FAULTS and cell.policy in BLOCKING_POLICIES and ran:
        policy_ok, reason = (
            False,
            f"{cell.policy}: calls ran although the judge never decided: {sorted(ran)}",
        )
    if cell.fault in PERSISTENT_FAULTS and cell.policy in ("fail_open", "execute") and not ran:
        policy_ok, reason = False, f"{cell.policy}: nothing ran although the critic fails open"
    pending = sorted(cid for cid, v in verdicts.items() if v.get("decision") == "ask")
    if pending:
        policy_ok, reason = False, f"escalations never decided: {pending}"
    if cell.mode == "ask" and cell.fault in ("healthy", "flaky") and not usage.get("escalations"):
        policy_ok, reason = False, "the judge put a call in the uncertain band, but nobody was asked"
    record("policy_honoured", policy_ok, reason)
    return ok, why


def _by_critic(message: ToolMessage) -> bool:
    artifact = getattr(message, "artifact", None)
    return isinstance(artifact, dict) and "toolrm" in artifact


def _shadow_recorded(
    messages: list[BaseMessage], verdicts: dict[str, dict[str, Any]], cell: Cell
) -> tuple[bool, str]:
    """Shadow: every proposed call has a shadow record (what the critic would have done),
    and a judge that could tell would have stopped every bad call."""
    proposed = _proposed_ids(messages)
    unrecorded = [cid for cid in proposed if not (verdicts.get(cid) or {}).get("shadow")]
    if unrecorded:
        return False, f"calls without a shadow record: {unrecorded}"
    if cell.fault in ("healthy", "flaky", "wrong_count"):
        judged = [  # bad calls the judge itself answered on (not a budget, not a failure policy)
            cid for cid in proposed
            if _is_bad(messages, cid) and verdicts[cid].get("status") in ("ok", None)
            and not str(verdicts[cid].get("reason") or "").startswith("budget")
        ]
        passed = [cid for cid in judged if verdicts[cid].get("decision") == "execute"]
        if passed:
            return False, f"the shadow record lets a bad call run although the judge could tell: {passed}"
    return True, ""


def _is_bad(messages: list[BaseMessage], call_id: str) -> bool:
    for m in messages:
        if isinstance(m, AIMessage):
            for c in m.tool_calls:
                if c.get("id") == call_id:
                    return "town" in (c.get("args") or {})
    return False


def summarize(results: list[CellResult]) -> dict[str, Any]:
    per_invariant = {name: sum(1 for r in results if r.invariants.get(name)) for name in INVARIANTS}
    return {
        "cells": len(results),
        "survived": sum(1 for r in results if r.survived),
        "failed": [r.cell.id for r in results if not r.survived],
        "per_invariant_passed": per_invariant,
        "seconds": round(sum(r.seconds for r in results), 2),
    }

