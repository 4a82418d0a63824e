"""Kill a critic agent with SIGKILL at random points and resume it: what runs twice?

::

    toolrm bench resume --kills 50 --out bench_resume.json [--seed 0]
        [--resume subprocess|inprocess] [--mode sync|async|mixed]

Each kill point is a fresh run of :mod:`eval.bench.crash_worker` (scripted policy,
a judge that sleeps, a tool that appends to a log; a ``SqliteSaver`` checkpoint,
``durability="sync"``) in its own process. The parent waits for the n-th occurrence of
one stage marker, sleeps a random delay (0 to ``--max-delay`` s), sends SIGKILL, reads
what the checkpoint holds at that moment (verdicts and tool results in the last
checkpoint or in its pending writes), then resumes the same thread (in a new process,
or in this one) until the run is done. Phases, taken in turn so every phase is hit:

``after_proposal``   the n-th ``proposed`` marker (the agent node returned)
``during_judging``   ``judge_start`` (the judge sleeps ``--judge-sleep`` s)
``after_approval``   ``judge_end`` (the judge answered, the critic is writing)
``during_tool``      ``tool_start`` or ``tool_exec`` (before / right after the side effect)
``after_tool``       ``tool_end`` (the tool returned, its write is being saved)

Counted per kill point, from the logs and the checkpoint snapshot:

* ``tool_reexec_stored``: executions of a call whose result was in the checkpoint at the
  kill: **must be 0**;
* ``tool_reexec_inflight``: executions repeated for a call whose result was *not* stored
  (killed inside the call, or before its write was saved): what LangGraph's
  at-least-once node semantics allow;
* ``rejudge_stored``: judge calls after the kill for a proposal whose verdict was stored:
  **must be 0**;
* ``rejudge_unstored``: a proposal judged again because its verdict was not stored yet;
* ``incomplete``: a resumed run that did not finish correctly (final answer, every
  approved call executed, the rejected call never): must be 0.

The JSON report holds the totals, the counts per phase, and every kill point.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from eval.bench.report import ReportPath, run_environment, write_report

ROOT = Path(__file__).resolve().parents[2]
"""Where the ``eval`` package lives: the worker starts there, so ``python -m`` finds the same one."""

PHASES: dict[str, tuple[tuple[str, int], ...]] = {
    # phase -> (marker, how many times it occurs in one clean run)
    "after_proposal": (("proposed", 4),),
    "during_judging": (("judge_start", 3),),
    "after_approval": (("judge_end", 3),),
    "during_tool": (("tool_start", 4), ("tool_exec", 4)),
    "after_tool": (("tool_end", 4),),
}


@dataclass
class KillPoint:
    """One kill and its resume, and what ran twice."""

    phase: str
    marker: str
    occurrence: int
    delay_s: float
    mode: str
    killed: bool = False
    stored_verdicts: list[str] = field(default_factory=list)
    stored_results: list[str] = field(default_factory=list)
    tool_reexec_stored: int = 0
    tool_reexec_inflight: int = 0
    rejudge_stored: int = 0
    rejudge_unstored: int = 0
    complete: bool = False
    seconds: float = 0.0
    problem: str = ""


def worker_command(db: Path, log_dir: Path, thread: str, mode: str, judge_sleep: float, tool_sleep: float) -> list[str]:
    cmd = [
        sys.executable, "-m", "eval.bench.crash_worker", "--db", str(db), "--dir", str(log_dir),
        "--thread", thread, "--judge-sleep", str(judge_sleep), "--tool-sleep", str(tool_sleep),
    ]
    return [*cmd, "--async"] if mode == "async" else cmd


def _count(lines: list[str], marker: str) -> int:
    return sum(1 for line in lines if line.split(" ", 1)[0] == marker)


def snapshot(db: Path, thread: str) -> tuple[set[str], set[str]]:
    """(tool_call_ids with a stored verdict, tool_call_ids with a stored tool result):
    the last checkpoint of ``thread`` plus its pending writes."""
    from langchain_core.messages import ToolMessage
    from langgraph.checkpoint.sqlite import SqliteSaver

    from toolrm_agent.critic.graph import critic_marker

    if not db.exists():
        return set(), set()
    conn = sqlite3.connect(str(db), check_same_thread=False)
    try:
        try:
            tup = SqliteSaver(conn).get_tuple({"configurable": {"thread_id": thread}})
        except sqlite3.OperationalError:  # the killed worker never created the tables
            return set(), set()
    finally:
        conn.close()
    if tup is None:
        return set(), set()
    values = tup.checkpoint.get("channel_values", {})
    verdicts = set(values.get("toolrm_verdicts") or {})
    messages = list(values.get("messages") or [])
    for _task, channel, value in tup.pending_writes or ():
        if channel == "toolrm_verdicts" and isinstance(value, dict):
            verdicts |= set(value)
        elif channel == "messages":
            messages.extend(value if isinstance(value, list) else [value])
    results = {
        m.tool_call_id for m in messages if isinstance(m, ToolMessage) and critic_marker(m) is None
    }
    return verdicts, results


def run_kill_point(
    point: KillPoint,
    work: Path,
    *,
    resume: str = "subprocess",
    judge_sleep: float = 0.05,
    tool_sleep: float = 0.05,
    timeout_s: float = 60.0,
) -> KillPoint:
    """Start a worker, kill it at ``point``, snapshot the checkpoint, resume, count."""
    from eval.bench import crash_worker as cw

    start = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    db, thread = work / "checkpoints.sqlite", "crash"
    logs = cw.Logs(work)
    cmd = worker_command(db, work, thread, point.mode, judge_sleep, tool_sleep)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _count(logs.lines("events.log"), point.marker) >= point.occurrence:
            time.sleep(point.delay_s)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                point.killed = True
            break
        if proc.poll() is not None:
            break
        time.sleep(0.002)
    else:
        os.kill(proc.pid, signal.SIGKILL)
        point.problem = "marker never seen"
    _, err = proc.communicate()
    if not point.killed and proc.returncode not in (0, -signal.SIGKILL):
        point.problem = f"worker failed: {err.decode(errors='replace')[-500:]}"
    verdicts, results = snapshot(db, thread)
    point.stored_verdicts, point.stored_results = sorted(verdicts), sorted(results)
    judged_before = len(logs.lines("judge.log"))

    if resume == "subprocess":
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=timeout_s)
        if done.returncode != 0:
            point.problem = f"resume failed: {done.stderr.decode(errors='replace')[-500:]}"
    else:
        _resume_here(point.mode, db, work, thread, judge_sleep, tool_sleep)

    _tally(point, logs, judged_before, verdicts, results, db, thread)
    point.seconds = round(time.perf_counter() - start, 3)
    return point


def _resume_here(mode: str, db: Path, work: Path, thread: str, judge_sleep: float, tool_sleep: float) -> None:
    import asyncio

    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    from eval.bench import crash_worker as cw

    if mode == "async":

        async def go() -> None:
            async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
                graph = cw.build_graph(work, saver, judge_sleep=judge_sleep, tool_sleep=tool_sleep)
                await cw.adrive(graph, thread, work)

        asyncio.run(go())
        return
    conn = sqlite3.connect(str(db), check_same_thread=False)
    try:
        graph = cw.build_graph(work, SqliteSaver(conn), judge_sleep=judge_sleep, tool_sleep=tool_sleep)
        cw.drive(graph, thread, work)
    finally:
        conn.close()


def _tally(
    point: KillPoint, logs: Any, judged_before: int, verdicts: set[str], results: set[str], db: Path, thread: str
) -> None:
    from eval.bench import crash_worker as cw

    execs = Counter(line.split()[1] for line in logs.lines("tools.log"))
    for call_id, n in execs.items():
        if n > 1:
            if call_id in results:
                point.tool_reexec_stored += n - 1
            else:
                point.tool_reexec_inflight += n - 1
    judge_lines = [line.split()[1] for line in logs.lines("judge.log")]
    before, after = judge_lines[:judged_before], judge_lines[judged_before:]
    for ids in after:
        if set(ids.split(",")) <= verdicts:
            point.rejudge_stored += 1
        elif ids in before:
            point.rejudge_unstored += 1
    final_verdicts, _ = snapshot(db, thread)
    final = _final_answer(db, thread)
    point.complete = (
        final == cw.FINAL
        and all(execs.get(c, 0) >= 1 for c in cw.APPROVED_IDS)
        and not any(execs.get(c, 0) for c in cw.REJECTED_IDS)
        and set(cw.APPROVED_IDS + cw.REJECTED_IDS) <= final_verdicts
    )
    if not point.complete and not point.problem:
        point.problem = f"incomplete run: final={final!r}, execs={dict(execs)}"


def _final_answer(db: Path, thread: str) -> str:
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(str(db), check_same_thread=False)
    try:
        tup = SqliteSaver(conn).get_tuple({"configurable": {"thread_id": thread}})
    finally:
        conn.close()
    messages = (tup.checkpoint.get("channel_values", {}).get("messages") or []) if tup else []
    return str(messages[-1].content) if messages else ""


def make_point(rng: random.Random, phase: str, *, max_delay_s: float = 0.06, mode: str = "mixed") -> KillPoint:
    """A kill point in ``phase``: the marker, its occurrence and the delay drawn from ``rng``."""
    marker, count = rng.choice(PHASES[phase])
    run_mode = mode if mode != "mixed" else ("sync", "async")[rng.random() < 0.5]
    return KillPoint(
        phase=phase,
        marker=marker,
        occurrence=rng.randint(1, count),
        delay_s=round(rng.uniform(0.0, max_delay_s), 4),
        mode=run_mode,
    )


def run_kills(
    kills: int,
    *,
    seed: int = 0,
    resume: str = "subprocess",
    mode: str = "mixed",
    max_delay_s: float = 0.06,
    judge_sleep: float = 0.05,
    tool_sleep: float = 0.05,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """Run ``kills`` kill points, the phases in turn; a report with totals, per-phase
    counts and the points. A point whose run ended before the kill landed is replaced
    by a fresh one (and counted as missed)."""
    base = Path(work_dir or tempfile.mkdtemp(prefix="toolrm-resume-"))
    rng = random.Random(seed)
    phases = list(PHASES)
    done: list[KillPoint] = []
    missed = attempt = 0
    while len(done) < kills and attempt < kills * 3:
        point = make_point(rng, phases[len(done) % len(phases)], max_delay_s=max_delay_s, mode=mode)
        attempt += 1
        run_kill_point(
            point, base / f"k{attempt:03d}", resume=resume, judge_sleep=judge_sleep, tool_sleep=tool_sleep
        )
        if point.killed:
            done.append(point)
        else:
            missed += 1
    return report(done, missed=missed, resume=resume, seed=seed)


def report(points: list[KillPoint], *, missed: int, resume: str, seed: int) -> dict[str, Any]:
    keys = ("tool_reexec_stored", "tool_reexec_inflight", "rejudge_stored", "rejudge_unstored")
    totals: dict[str, Any] = {k: sum(getattr(p, k) for p in points) for k in keys}
    totals["kill_points"] = len(points)
    totals["missed_kills"] = missed
    totals["incomplete"] = sum(1 for p in points if not p.complete)
    per_phase: dict[str, dict[str, int]] = {}
    for p in points:
        row = per_phase.setdefault(p.phase, {"kills": 0, **{k: 0 for k in keys}})
        row["kills"] += 1
        for k in keys:
            row[k] += getattr(p, k)
    return {
        "totals": totals,
        "per_phase": per_phase,
        "resume": resume,
        "seed": seed,
        "points": [asdict(p) for p in points],
        **run_environment(),
    }


app = typer.Typer(add_completion=False, help=__doc__.splitlines()[0] if __doc__ else None)


@app.command()
def main(
    kills: Annotated[int, typer.Option(help="kill points")] = 50,
    out_path: ReportPath = None,
    seed: Annotated[int, typer.Option()] = 0,
    resume: Annotated[str, typer.Option(help="subprocess or inprocess")] = "subprocess",
    mode: Annotated[str, typer.Option(help="sync, async or mixed")] = "mixed",
    max_delay: Annotated[float, typer.Option(help="max random delay before the kill (s)")] = 0.06,
    judge_sleep: Annotated[float, typer.Option(help="seconds the judge sleeps")] = 0.05,
    tool_sleep: Annotated[float, typer.Option(help="seconds the tool sleeps")] = 0.05,
) -> None:
    """Kill and resume at ``--kills`` points; exit 1 when anything stored ran twice."""
    if resume not in ("subprocess", "inprocess"):
        raise typer.BadParameter("use subprocess or inprocess", param_hint="--resume")
    if mode not in ("sync", "async", "mixed"):
        raise typer.BadParameter("use sync, async or mixed", param_hint="--mode")
    start = time.perf_counter()
    out = run_kills(
        kills, seed=seed, resume=resume, mode=mode, max_delay_s=max_delay,
        judge_sleep=judge_sleep, tool_sleep=tool_sleep,
    )
    out["seconds"] = round(time.perf_counter() - start, 1)
    write_report(out, out_path)
    t = out["totals"]
    print(
        f"kill points {t['kill_points']} (missed {t['missed_kills']}), incomplete {t['incomplete']}; "
        f"tool re-executions of stored results {t['tool_reexec_stored']}, in-flight re-runs "
        f"{t['tool_reexec_inflight']}; re-judgements of stored verdicts {t['rejudge_stored']}, "
        f"of unstored ones {t['rejudge_unstored']}; {out['seconds']} s"
    )
    for phase, row in out["per_phase"].items():
        print(f"  {phase:15s} {row}")
    problems = [p for p in out["points"] if p["problem"]]
    for p in problems[:5]:
        print(f"  problem at {p['phase']}/{p['marker']}#{p['occurrence']}: {p['problem']}")
    bad = t["tool_reexec_stored"] or t["rejudge_stored"] or t["incomplete"]
    if bad:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
