"""Many concurrent agent runs through one critic: isolation, a judge cap, overhead, memory.

::

    toolrm bench concurrency --runs 200 --out bench_concurrency.json
        [--limit 8] [--judge-latency 0.02] [--seed 0]

One compiled graph (``build_agent_graph``, one ``InMemorySaver``) and one critic serve
``--runs`` concurrent ``ainvoke`` runs, each on its own thread. Every run has the same
script (a scripted policy that answers from the transcript): two parallel tool calls,
then one more call, then a final answer, so 2 critic steps per run. The judge accepts
every call after a random latency (0 to ``--judge-latency`` s, seeded), counts the calls
in flight, and records which run's context it saw. Reported:

* ``load``: the runs with the critic (``max_concurrent_judge_calls=--limit``), the same
  runs without the critic, and with a zero-latency judge: wall time, throughput (runs/s,
  steps/s), per-step latency p50/p99 (a run's wall time over its steps), and the critic
  overhead per step (with minus without, p50/p99);
* ``isolation``: every thread's verdicts are its own tool_call_ids only, every judge
  call saw its own run's request, every tool result belongs to its run (must be 0
  violations);
* ``cap``: the largest number of judge calls in flight, which must be <= the limit;
* ``node_overhead``: the critic node's own cost with the judge's time excluded, measured
  sequentially (``critic.acall`` on a realistic state, a judge that answers at once,
  its own time subtracted): mean/p50/p99 in microseconds; it should stay under 1 ms;
* ``memory``: ``tracemalloc`` peak of the critic arm (a separate pass, as tracing slows
  the run) and the process's peak RSS.
"""

from __future__ import annotations

import asyncio
import random
import resource
import statistics
import threading
import time
import tracemalloc
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from eval.bench.report import ReportPath, run_environment, write_report
from eval.bench.scripted import ScriptedChatModel
from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.verdicts import CallVerdict, Critique, TokenUsage
from toolrm_agent.critic.node import ToolRMCritic, ToolRMState, build_agent_graph
from toolrm_agent.judges.base import BaseJudge, JudgeCapabilities

STEPS_PER_RUN = 2


def run_id_of(messages: Sequence[BaseMessage]) -> str:
    """The run a transcript belongs to: its first human message is ``run <id>``."""
    for m in messages:
        if isinstance(m, HumanMessage):
            return str(m.content).split()[-1]
    return "?"


class RunScriptModel(ScriptedChatModel):
    """Proposal k of run r is a function of the transcript: ``r<r>-k<k>-<j>`` ids, the
    run id in every argument; after :data:`STEPS_PER_RUN` proposals, a final answer."""

    @property
    def _llm_type(self) -> str:
        return "run-script"

    def reply(self, messages: list[BaseMessage]) -> AIMessage:
        run = run_id_of(messages)
        k = sum(1 for m in messages if isinstance(m, AIMessage) and m.tool_calls)
        if k >= STEPS_PER_RUN:
            return AIMessage(content=f"done {run}", id=f"r{run}-final")
        width = 2 if k == 0 else 1
        calls = [
            {"name": "lookup", "args": {"key": f"{run}:{k}:{j}"}, "id": f"r{run}-k{k}-{j}", "type": "tool_call"}
            for j in range(width)
        ]
        return AIMessage(content="", tool_calls=calls, id=f"r{run}-ai{k}")


@tool
def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


class LatencyJudge(BaseJudge):
    """Accepts every call after a random latency; counts calls in flight; records the
    (run of the context, ids of the proposal) of every call, and its own time."""

    name = "latency-judge"
    capabilities = JudgeCapabilities(async_native=True)  # acritique is its own coroutine

    def __init__(self, max_latency_s: float = 0.0, seed: int = 0) -> None:
        self.max_latency_s = max_latency_s
        self.rng = random.Random(seed)
        self._in_flight = 0  # underscore attributes: a judge is frozen once built
        self._max_in_flight = 0
        self.seen: list[tuple[str, tuple[str, ...]]] = []
        self.seconds: list[float] = []
        self._lock = threading.Lock()

    @property
    def max_in_flight(self) -> int:
        return self._max_in_flight

    def _enter(self) -> float:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            return self.rng.uniform(0.0, self.max_latency_s) if self.max_latency_s else 0.0

    def _leave(self, context: JudgeContext, proposal: Proposal, start: float) -> Critique:
        with self._lock:
            self._in_flight -= 1
            self.seen.append((context.user_request.split()[-1], tuple(proposal.ids)))
        critique = Critique(
            accepted=True,
            score=1.0,
            judge=self.name,
            calls=tuple(CallVerdict(tool_call_id=i, ok=True, score=1.0) for i in proposal.ids),
            usage=TokenUsage(input_tokens=10, output_tokens=1),
        )
        self.seconds.append(time.perf_counter() - start)
        return critique

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        start = time.perf_counter()
        delay = self._enter()
        if delay:
            time.sleep(delay)
        return self._leave(context, proposal, start)

    async def acritique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        start = time.perf_counter()
        delay = self._enter()
        if delay:
            await asyncio.sleep(delay)
        return self._leave(context, proposal, start)


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def run_arm(runs: int, *, critic: ToolRMCritic | None, prefix: str = "") -> dict[str, Any]:
    """``runs`` concurrent runs on one graph; wall time, per-step latencies, the graph."""
    graph = build_agent_graph(RunScriptModel(), [lookup], critic, checkpointer=InMemorySaver())
    per_step: list[float] = []

    async def one(i: int) -> None:
        cfg = {"configurable": {"thread_id": f"{prefix}t{i}"}}
        start = time.perf_counter()
        await graph.ainvoke({"messages": [HumanMessage(f"run {i}")]}, cfg)
        per_step.append((time.perf_counter() - start) / STEPS_PER_RUN)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(runs)))
    wall = time.perf_counter() - start
    return {
        "graph": graph,
        "wall_s": wall,
        "runs_per_s": runs / wall,
        "steps_per_s": runs * STEPS_PER_RUN / wall,
        "step_p50_ms": _pct(per_step, 0.5) * 1e3,
        "step_p99_ms": _pct(per_step, 0.99) * 1e3,
    }


async def check_isolation(graph: Any, judge: LatencyJudge, runs: int, prefix: str = "") -> dict[str, Any]:
    """Count cross-thread leaks: verdicts, judge contexts and tool results of other runs."""
    violations: list[str] = []
    for i in range(runs):
        values = (await graph.aget_state({"configurable": {"thread_id": f"{prefix}t{i}"}})).values
        ids = set(values.get("toolrm_verdicts", {}))
        mine = {f"r{i}-k0-0", f"r{i}-k0-1", f"r{i}-k1-0"}
        if ids != mine:
            violations.append(f"thread {i}: verdicts {sorted(ids)}")
        for m in values.get("messages", []):
            if isinstance(m, ToolMessage) and not m.tool_call_id.startswith(f"r{i}-"):
                violations.append(f"thread {i}: foreign tool message {m.tool_call_id}")
            if isinstance(m, ToolMessage) and f"value of {i}:" not in str(m.content):
                violations.append(f"thread {i}: foreign tool result {m.content!r}")
        if values["messages"][-1].content != f"done {i}":
            violations.append(f"thread {i}: final {values['messages'][-1].content!r}")
    for run, call_ids in judge.seen:
        if any(not cid.startswith(f"r{run}-") for cid in call_ids):
            violations.append(f"judge saw run {run}'s request with calls {call_ids}")
    return {"threads": runs, "judge_calls": len(judge.seen), "violations": len(violations),
            "examples": violations[:5]}


async def load_test(runs: int, *, limit: int, judge_latency_s: float, seed: int) -> dict[str, Any]:
    """The critic arm under load, with isolation and cap checks."""
    judge = LatencyJudge(judge_latency_s, seed)
    critic = ToolRMCritic(judge).override(max_concurrent_judge_calls=limit)
    arm = await run_arm(runs, critic=critic)
    isolation = await check_isolation(arm.pop("graph"), judge, runs)
    cap = {"limit": limit, "max_in_flight": judge.max_in_flight, "ok": judge.max_in_flight <= limit}
    return {"arm": arm, "isolation": isolation, "cap": cap, "judge_mean_ms": statistics.fmean(judge.seconds) * 1e3}


async def sequential_step_latency(runs: int, critic: ToolRMCritic | None) -> list[float]:
    """Per-step latency of ``runs`` runs one after the other (no contention)."""
    graph = build_agent_graph(RunScriptModel(), [lookup], critic, checkpointer=InMemorySaver())
    out = []
    for i in range(runs):
        start = time.perf_counter()
        await graph.ainvoke({"messages": [HumanMessage(f"run {i}")]}, {"configurable": {"thread_id": f"s{i}"}})
        out.append((time.perf_counter() - start) / STEPS_PER_RUN)
    return out


async def node_overhead(repeats: int = 2000) -> dict[str, float]:
    """The critic node's own cost per step, the judge's time excluded (sequential)."""
    judge = LatencyJudge(0.0)
    critic = ToolRMCritic(judge, tools=[lookup])
    ai = RunScriptModel().reply([HumanMessage("run 0")])
    state: ToolRMState = {"messages": [HumanMessage("run 0"), ai], "toolrm_verdicts": {}, "toolrm_run_usage": {}}
    samples: list[float] = []
    for _ in range(50):  # warm up
        await critic.acall(state, {})
    judge.seconds.clear()
    for _ in range(repeats):
        before = len(judge.seconds)
        start = time.perf_counter()
        await critic.acall(state, {})
        total = time.perf_counter() - start
        samples.append(total - sum(judge.seconds[before:]))
    return {
        "repeats": repeats,
        "mean_us": statistics.fmean(samples) * 1e6,
        "p50_us": _pct(samples, 0.5) * 1e6,
        "p99_us": _pct(samples, 0.99) * 1e6,
        "judge_mean_us": statistics.fmean(judge.seconds) * 1e6,
        "under_1ms": _pct(samples, 0.5) < 1e-3,
    }


async def bench(runs: int, *, limit: int, judge_latency_s: float, seed: int) -> dict[str, Any]:
    loaded = await load_test(runs, limit=limit, judge_latency_s=judge_latency_s, seed=seed)
    without = await run_arm(runs, critic=None, prefix="b")
    without.pop("graph")
    instant = await run_arm(runs, critic=ToolRMCritic(LatencyJudge(0.0)).override(max_concurrent_judge_calls=limit),
                            prefix="z")
    instant.pop("graph")
    seq_runs = min(runs, 100)
    seq_with = await sequential_step_latency(seq_runs, ToolRMCritic(LatencyJudge(0.0)))
    seq_without = await sequential_step_latency(seq_runs, None)
    overhead = {
        "sequential_runs": seq_runs,
        "with_p50_ms": _pct(seq_with, 0.5) * 1e3,
        "with_p99_ms": _pct(seq_with, 0.99) * 1e3,
        "without_p50_ms": _pct(seq_without, 0.5) * 1e3,
        "without_p99_ms": _pct(seq_without, 0.99) * 1e3,
        "critic_p50_ms": (_pct(seq_with, 0.5) - _pct(seq_without, 0.5)) * 1e3,
        "critic_p99_ms": (_pct(seq_with, 0.99) - _pct(seq_without, 0.99)) * 1e3,
        "concurrent_critic_p50_ms": instant["step_p50_ms"] - without["step_p50_ms"],
        "concurrent_critic_p99_ms": instant["step_p99_ms"] - without["step_p99_ms"],
    }
    node = await node_overhead()
    tracemalloc.start()
    await load_test(runs, limit=limit, judge_latency_s=judge_latency_s, seed=seed + 1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "runs": runs,
        "steps_per_run": STEPS_PER_RUN,
        "judge_latency_s": judge_latency_s,
        "load": {"with_critic": loaded["arm"], "without_critic": without, "with_instant_judge": instant},
        "overhead_per_step": overhead,
        "isolation": loaded["isolation"],
        "cap": loaded["cap"],
        "judge_mean_ms": loaded["judge_mean_ms"],
        "node_overhead": node,
        "memory": {"tracemalloc_peak_mb": peak / 2**20, "peak_rss_mb": rss_kb / 1024},
        **run_environment(),
    }


app = typer.Typer(add_completion=False, help=__doc__.splitlines()[0] if __doc__ else None)


@app.command()
def main(
    runs: Annotated[int, typer.Option(help="concurrent agent runs")] = 200,
    limit: Annotated[int, typer.Option(help="max_concurrent_judge_calls")] = 8,
    judge_latency: Annotated[float, typer.Option(help="max random judge latency (s)")] = 0.02,
    seed: Annotated[int, typer.Option()] = 0,
    out_path: ReportPath = None,
) -> None:
    """Run the load, isolation, cap, overhead and memory checks; exit 1 on a violation."""
    out = asyncio.run(bench(runs, limit=limit, judge_latency_s=judge_latency, seed=seed))
    write_report(out, out_path)
    w, wo, z = (out["load"][k] for k in ("with_critic", "without_critic", "with_instant_judge"))
    o, n, m = out["overhead_per_step"], out["node_overhead"], out["memory"]
    print(f"runs {out['runs']} x {STEPS_PER_RUN} steps, judge latency U(0, {judge_latency}s), cap {limit}")
    for name, arm in (("with critic", w), ("without critic", wo), ("instant judge", z)):
        print(f"  {name:15s} wall {arm['wall_s']:.2f}s  {arm['runs_per_s']:.1f} runs/s  "
              f"{arm['steps_per_s']:.1f} steps/s  step p50 {arm['step_p50_ms']:.1f} ms  "
              f"p99 {arm['step_p99_ms']:.1f} ms")
    print(f"  sequential per step: with {o['with_p50_ms']:.2f}/{o['with_p99_ms']:.2f} ms, without "
          f"{o['without_p50_ms']:.2f}/{o['without_p99_ms']:.2f} ms (p50/p99); critic overhead "
          f"{o['critic_p50_ms']:.2f}/{o['critic_p99_ms']:.2f} ms")
    print(f"  critic node overhead (judge excluded): mean {n['mean_us']:.0f} us, p50 {n['p50_us']:.0f} us, "
          f"p99 {n['p99_us']:.0f} us")
    print(f"  isolation violations {out['isolation']['violations']} over {out['isolation']['threads']} threads; "
          f"judge in flight max {out['cap']['max_in_flight']} <= {limit}: {out['cap']['ok']}")
    print(f"  memory: tracemalloc peak {m['tracemalloc_peak_mb']:.1f} MB, peak RSS {m['peak_rss_mb']:.1f} MB")
    ok = out["cap"]["ok"] and out["isolation"]["violations"] == 0
    if not ok:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
