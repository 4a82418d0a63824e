"""A critic agent run that a parent process kills with SIGKILL and resumes.

Run as ``python -m eval.bench.crash_worker --db DB --thread T --dir DIR`` (``toolrm bench
resume`` and ``tests/reliability/test_crash_resume.py`` start it so). The agent is fully
scripted and deterministic, so a resumed process continues the very same run:

* the policy answers from the transcript alone: proposal 0 is two parallel calls
  (``r0a``, ``r0b``), proposal 1 one bad call (``r1x``, no ``text``: the judge rejects
  it), proposal 2 two parallel calls again (``r2a``, ``r2b``), then a final answer;
* the judge rejects a call without ``text`` and sleeps ``--judge-sleep`` seconds;
* the tool ``append`` sleeps, appends ``exec <tool_call_id> <pid>`` to ``tools.log``
  (the side effect whose repetitions are counted), sleeps again.

Every stage appends a marker to ``events.log`` with one ``os.write`` on an ``O_APPEND``
descriptor (no Python buffering, so a line is visible to the parent the moment it is
written and survives the kill): ``proposed <round>``, ``judge_start <ids>``,
``judge_end <ids>``, ``tool_start <id>``, ``tool_exec <id>``, ``tool_end <id>``,
``done``. The parent waits for the n-th occurrence of one marker, sleeps a random
delay, and kills. Judge calls are logged to ``judge.log`` as ``judge <ids> <pid>``.

The checkpointer is a ``SqliteSaver`` (``AsyncSqliteSaver`` with ``--async``) on
``--db``; every invoke uses ``durability="sync"``. Without ``--resume`` the worker
starts the run; with it (or when the thread already has a checkpoint) it resumes the
thread with ``invoke(None)`` until the run is done. It prints one JSON line at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.tools import InjectedToolCallId, tool

from eval.bench.scripted import ScriptedChatModel
from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.verdicts import CallVerdict, Critique, TokenUsage
from toolrm_agent.critic.node import ToolRMCritic, build_agent_graph
from toolrm_agent.judges.base import BaseJudge

QUESTION = "Append the four notes, please."
ROUNDS: tuple[tuple[tuple[str, dict[str, Any]], ...], ...] = (
    (("r0a", {"text": "a0"}), ("r0b", {"text": "b0"})),
    (("r1x", {"note": "bad"}),),  # misses "text": rejected
    (("r2a", {"text": "c2"}), ("r2b", {"text": "d2"})),
)
APPROVED_IDS = ("r0a", "r0b", "r2a", "r2b")
REJECTED_IDS = ("r1x",)
FINAL = "All notes appended."


class Logs:
    """The worker's append-only files; every line is one ``os.write``."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, line: str) -> None:
        fd = os.open(self.dir / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{line}\n".encode())
        finally:
            os.close(fd)

    def event(self, text: str) -> None:
        self.write("events.log", f"{text} {os.getpid()}")

    def lines(self, name: str) -> list[str]:
        path = self.dir / name
        return path.read_text().splitlines() if path.exists() else []


def proposal_round(messages: Sequence[BaseMessage]) -> int:
    """How many proposals the transcript holds already (the next one's number)."""
    return sum(1 for m in messages if isinstance(m, AIMessage) and m.tool_calls)


class TranscriptPolicy(ScriptedChatModel):
    """A policy whose answer is a function of the transcript (so a resumed process
    answers exactly as the killed one would have)."""

    log_dir: str

    @property
    def _llm_type(self) -> str:
        return "transcript-policy"

    def reply(self, messages: list[BaseMessage]) -> AIMessage:
        n = proposal_round(messages)
        if n < len(ROUNDS):
            calls = [
                {"name": "append", "args": args, "id": cid, "type": "tool_call"}
                for cid, args in ROUNDS[n]
            ]
            message = AIMessage(content="", tool_calls=calls, id=f"ai-{n}")
        else:
            message = AIMessage(content=FINAL, id=f"ai-{n}")
        Logs(self.log_dir).event(f"proposed {n}")
        return message


class SlowJudge(BaseJudge):
    """Rejects a call without ``text``; sleeps ``sleep_s`` while judging."""

    name = "crash-judge"

    def __init__(self, log_dir: str | Path, sleep_s: float) -> None:
        self.logs = Logs(log_dir)
        self.sleep_s = sleep_s

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        ids = ",".join(proposal.ids)
        self.logs.write("judge.log", f"judge {ids} {os.getpid()}")
        self.logs.event(f"judge_start {ids}")
        time.sleep(self.sleep_s)
        verdicts = [
            CallVerdict(
                tool_call_id=c.id,
                name=c.name,
                ok="text" in c.arguments,
                score=1.0 if "text" in c.arguments else 0.0,
                feedback="" if "text" in c.arguments else "missing required argument 'text'",
            )
            for c in proposal.calls
        ]
        accepted = all(v.ok for v in verdicts)
        self.logs.event(f"judge_end {ids}")
        return Critique(
            accepted=accepted,
            score=1.0 if accepted else 0.0,
            text="" if accepted else "append needs 'text'",
            judge=self.name,
            calls=tuple(verdicts),
            usage=TokenUsage(input_tokens=10, output_tokens=2),
        )

    async def acritique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        return await asyncio.to_thread(self.critique, context, proposal)


def make_tool(log_dir: str | Path, sleep_s: float) -> Any:
    logs = Logs(log_dir)

    @tool
    def append(text: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> str:
        """Append a note to the notebook."""
        logs.event(f"tool_start {tool_call_id}")
        time.sleep(sleep_s / 2)
        logs.write("tools.log", f"exec {tool_call_id} {os.getpid()}")
        logs.event(f"tool_exec {tool_call_id}")
        time.sleep(sleep_s / 2)
        logs.event(f"tool_end {tool_call_id}")
        return f"appended {text!r}"

    return append


def build_graph(
    log_dir: str | Path, checkpointer: Any, *, judge_sleep: float, tool_sleep: float
) -> Any:
    """The scripted agent graph (also used by the parent to resume in-process)."""
    judge = SlowJudge(log_dir, judge_sleep)
    critic = ToolRMCritic(judge, max_retries=2)
    return build_agent_graph(
        TranscriptPolicy(log_dir=str(log_dir)),
        [make_tool(log_dir, tool_sleep)],
        critic,
        checkpointer=checkpointer,
    )


def unfinished(snapshot: Any) -> bool:
    """Whether a thread's run has steps left. ``snapshot.next`` alone is not enough after
    a crash: when every task of the interrupted step saved its writes before the kill,
    LangGraph's ``get_state`` applies those pending writes and reports ``next == ()``,
    yet the step's checkpoint was never written and ``invoke(None)`` still has to finish
    it. ``snapshot.tasks`` lists the tasks of that step (with their saved results)."""
    return bool(snapshot.next or snapshot.tasks)


def thread_config(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}, "recursion_limit": 50}


def drive(graph: Any, thread: str, log_dir: str | Path) -> dict[str, Any]:
    """Start or resume the run on ``thread`` until it is done (sync)."""
    cfg = thread_config(thread)
    for _ in range(5):
        snapshot = graph.get_state(cfg)
        if not snapshot.values:
            graph.invoke({"messages": [HumanMessage(QUESTION)]}, cfg, durability="sync")
        elif unfinished(snapshot):
            graph.invoke(None, cfg, durability="sync")
        else:
            break
    Logs(log_dir).event("done")
    return summary(graph.get_state(cfg).values)


async def adrive(graph: Any, thread: str, log_dir: str | Path) -> dict[str, Any]:
    """Async twin of :func:`drive`."""
    cfg = thread_config(thread)
    for _ in range(5):
        snapshot = await graph.aget_state(cfg)
        if not snapshot.values:
            await graph.ainvoke({"messages": [HumanMessage(QUESTION)]}, cfg, durability="sync")
        elif unfinished(snapshot):
            await graph.ainvoke(None, cfg, durability="sync")
        else:
            break
    Logs(log_dir).event("done")
    return summary((await graph.aget_state(cfg)).values)


def summary(values: dict[str, Any]) -> dict[str, Any]:
    messages = values.get("messages", [])
    return {
        "final": str(messages[-1].content) if messages else "",
        "messages": len(messages),
        "verdicts": sorted(values.get("toolrm_verdicts", {})),
        "critic_calls": int(values.get("toolrm_usage", {}).get("critic_calls", 0)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--thread", default="crash")
    parser.add_argument("--dir", required=True, help="where events.log, tools.log, judge.log go")
    parser.add_argument("--judge-sleep", type=float, default=0.05)
    parser.add_argument("--tool-sleep", type=float, default=0.05)
    parser.add_argument("--async", dest="use_async", action="store_true")
    args = parser.parse_args(argv)
    Logs(args.dir).event("start")
    if args.use_async:
        out = asyncio.run(_amain(args))
    else:
        from langgraph.checkpoint.sqlite import SqliteSaver

        conn = sqlite3.connect(args.db, check_same_thread=False)
        try:
            graph = build_graph(
                args.dir,
                SqliteSaver(conn),
                judge_sleep=args.judge_sleep,
                tool_sleep=args.tool_sleep,
            )
            out = drive(graph, args.thread, args.dir)
        finally:
            conn.close()
    print(json.dumps(out), flush=True)
    return 0


async def _amain(args: argparse.Namespace) -> dict[str, Any]:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with AsyncSqliteSaver.from_conn_string(args.db) as saver:
        graph = build_graph(
            args.dir, saver, judge_sleep=args.judge_sleep, tool_sleep=args.tool_sleep
        )
        return await adrive(graph, args.thread, args.dir)


if __name__ == "__main__":
    sys.exit(main())
