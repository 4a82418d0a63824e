"""``toolrm eval cost``: what each judge costs per context and per proposal, next to the policy's own step.

The contexts are the seeded TRBench pairs of ``toolrm eval trbench`` (the same ``--results``,
``--split``, ``--limit`` and ``--seed`` give the same pairs): each pair is one context (a request
and its tools) with two proposals, BFCL's ground truth and a recorded answer the checker rejects.

* Every ``--judge`` ranks the proposals of each context in one call (``Judge.rank``), so a judge
  that shares a prefix pass across the proposals of a context does so here. The first context
  is a warm-up: it loads the judge's models, and is reported apart (``warmup_seconds``).
  Then, timed apart (``ms_winner_critique``), it critiques the proposal it ranked best, as the
  critic does in best-of-N mode (the critique is the text the policy reads when the winner is
  rejected): a step of best-of-N costs both, a step of retry mode one critique.
* Every ``--policy`` takes one agent step on each distinct question of the pairs (the messages
  and stub tools of ``toolrm eval selfcorrect``, greedy decoding): what one proposal costs to
  make. Its first question is the warm-up.

Judges and policies run one after another, never at once, so the figures of one report are
comparable with each other. Nothing is cached across contexts (do not pass a judge a
``cache_dir``: a reading cache would make the figures those of a cache hit). Other jobs on the
machine slow every figure, so the report holds the load average before and after.

The JSON report: ``judges`` (:class:`JudgeCost` each), ``policies`` (:class:`PolicyCost` each),
``ratios`` (each judge's mean per context over each policy's mean step), the pair settings,
``cpus`` and ``load_average``.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ConfigDict

from eval.options import SPLIT_HELP, load_all_results
from eval.pairs import Pair
from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.errors import JudgeError
from toolrm_agent.judges.base import Judge

Clock = Callable[[], float]
"""Seconds from an arbitrary origin (``time.perf_counter``; a fake one in tests)."""


class JudgeCost(BaseModel):
    """What one judge cost over the timed contexts (the warm-up context excluded)."""

    model_config = ConfigDict(frozen=True)

    spec: str
    load_seconds: float
    """Building the judge (lazy models load in the warm-up instead)."""
    warmup_seconds: float
    """The first context (model loading included)."""
    contexts: int
    proposals: int
    errors: int
    """Contexts whose ranking raised a :class:`JudgeError` (timed all the same)."""
    ms_per_context: float
    ms_per_context_median: float
    ms_per_proposal: float
    """The timed contexts' total over their proposals."""
    ms_winner_critique: float = 0.0
    """The mean critique of the proposal ranked best (after the ranking, not in the figures above)."""


class PolicyCost(BaseModel):
    """What one agent step of a policy cost over the timed questions (the warm-up excluded)."""

    model_config = ConfigDict(frozen=True)

    spec: str
    load_seconds: float
    warmup_seconds: float
    steps: int
    ms_per_step: float
    ms_per_step_median: float


def _ms(seconds: Sequence[float]) -> tuple[float, float]:
    """(mean, median) of ``seconds`` in milliseconds; (0, 0) for none."""
    if not seconds:
        return 0.0, 0.0
    return round(1000 * statistics.fmean(seconds), 1), round(1000 * statistics.median(seconds), 1)


def _timed(
    what: str, build: Callable[[], Any], runs: Sequence[Callable[[Any], object]], clock: Clock,
    tolerated: tuple[type[Exception], ...] = (),
) -> tuple[float, list[float], int]:
    """Build (timed), then each of ``runs`` on what was built (each timed; the first is the warm-up):
    (the build's seconds, each run's seconds, the runs that raised one of ``tolerated``)."""
    if len(runs) < 2:
        raise ValueError(f"timing {what} needs at least two of them (the first is the warm-up)")
    start = clock()
    built = build()
    load = clock() - start
    seconds: list[float] = []
    errors = 0
    for run in runs:
        start = clock()
        try:
            run(built)
        except tolerated:
            errors += 1
        seconds.append(clock() - start)
    return load, seconds, errors


def time_judge(
    spec: str, build: Callable[[str], Judge], contexts: Sequence[tuple[JudgeContext, Sequence[Proposal]]],
    *, clock: Clock = time.perf_counter,
) -> JudgeCost:
    """Build the judge ``spec`` names and time its ranking of each context's proposals, then apart
    its critique of the proposal it ranked best (a context whose ranking or critique raises a
    :class:`JudgeError` is counted in ``errors`` and timed all the same)."""
    critiques: dict[int, float] = {}  # context index -> the winner's critique, in seconds

    def ranking(i: int, context: JudgeContext, proposals: Sequence[Proposal]) -> Callable[[Any], object]:
        def run(judge: Judge) -> None:
            best = judge.rank(context, list(proposals)).best
            start = clock()
            try:
                judge.critique(context, proposals[best])
            finally:
                critiques[i] = clock() - start

        return run

    runs = [ranking(i, context, proposals) for i, (context, proposals) in enumerate(contexts)]
    load, seconds, errors = _timed("a judge on contexts", lambda: build(spec), runs, clock, (JudgeError,))
    seconds = [s - critiques.get(i, 0.0) for i, s in enumerate(seconds)]  # the rankings alone
    timed = seconds[1:]
    winner = [critiques[i] for i in range(1, len(contexts)) if i in critiques]
    n_proposals = sum(len(p) for _, p in contexts[1:])
    mean, median = _ms(timed)
    return JudgeCost(spec=spec, load_seconds=round(load, 3), warmup_seconds=round(seconds[0], 3),
                     contexts=len(timed), proposals=n_proposals, errors=errors, ms_per_context=mean,
                     ms_per_context_median=median,
                     ms_per_proposal=round(1000 * sum(timed) / n_proposals, 1) if n_proposals else 0.0,
                     ms_winner_critique=_ms(winner)[0])


def time_policy(
    spec: str, load: Callable[[str], Any], steps: Sequence[Callable[[Any], object]],
    *, clock: Clock = time.perf_counter,
) -> PolicyCost:
    """Load the policy ``spec`` names and time each of ``steps`` (one agent step each, given the model)."""
    loaded, seconds, _ = _timed("a policy on questions", lambda: load(spec), steps, clock)
    mean, median = _ms(seconds[1:])
    return PolicyCost(spec=spec, load_seconds=round(loaded, 3), warmup_seconds=round(seconds[0], 3),
                      steps=len(seconds) - 1, ms_per_step=mean, ms_per_step_median=median)


def ratios(judges: Sequence[JudgeCost], policies: Sequence[PolicyCost]) -> dict[str, dict[str, float]]:
    """``{judge: {policy: judge ms per context / policy ms per step}}``."""
    return {j.spec: {p.spec: round(j.ms_per_context / p.ms_per_step, 3) for p in policies if p.ms_per_step > 0}
            for j in judges}


def agent_steps(pairs: Sequence[Pair]) -> list[Callable[[Any], object]]:
    """One agent step per distinct question of ``pairs``: its messages, its stub tools bound."""
    from eval.bfcl.questions import load_questions
    from eval.tasks.runner import AgentTask, agent_step

    def step_of(task: AgentTask) -> Callable[[Any], object]:
        def step(model: Any) -> object:
            return agent_step(model, task)[0]

        return step

    seen: dict[str, Callable[[Any], object]] = {}
    for pair in pairs:
        if pair.question_id not in seen:
            question = load_questions(pair.category)[pair.question_id]
            seen[pair.question_id] = step_of(AgentTask.from_question(question))
    return list(seen.values())


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # not every platform has one
        return None


def command(
    results: Annotated[
        list[Path], typer.Option("--results", help="Results dir (repeatable), as for trbench.")
    ],
    judges: Annotated[
        list[str], typer.Option("--judge", help="Judge spec to time (repeatable), as for trbench; no cache_dir.")
    ],
    policies: Annotated[
        list[str] | None,
        typer.Option("--policy", help="Policy to time one agent step of (repeatable): llamacpp:default, ..."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Report JSON file.")] = Path("cost.json"),
    limit: Annotated[int, typer.Option("--limit", help="Contexts (seeded pairs) to time, the warm-up included.")] = 20,
    seed: Annotated[int, typer.Option("--seed", help="Seed of pair sampling.")] = 0,
    split: Annotated[str, typer.Option("--split", help=SPLIT_HELP)] = "all",
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="The policy's answer length.")] = 256,
) -> None:
    """Cost of judges per context and per proposal, next to one policy step, on the same questions."""
    from rich.console import Console
    from rich.table import Column, Table

    from eval.options import judge_from_option
    from eval.pairs import build_pairs, sample_pairs
    from eval.tasks.runner import load_policy

    if limit < 2:
        raise typer.BadParameter("time at least 2 contexts (the first is the warm-up)", param_hint="--limit")
    loaded = load_all_results(results, split)
    pairs, _ = build_pairs(loaded, seed=seed)
    pairs = sample_pairs(pairs, limit, seed)
    if len(pairs) < 2:
        raise typer.BadParameter("fewer than 2 pairs in these results", param_hint="--results")
    contexts = [(p.context, (p.chosen, p.rejected)) for p in pairs]
    console = Console(stderr=True)
    load_before = _load_average()
    judge_costs: list[JudgeCost] = []
    for spec in judges:
        console.log(f"timing {spec} on {len(contexts)} contexts")
        judge_costs.append(time_judge(spec, judge_from_option, contexts))
    steps = agent_steps(pairs)
    policy_costs: list[PolicyCost] = []
    for spec in policies or []:
        if len(steps) < 2:
            raise typer.BadParameter("the pairs hold fewer than 2 questions", param_hint="--limit")
        console.log(f"timing {spec} on {len(steps)} questions")
        policy_costs.append(time_policy(
            spec, lambda s: load_policy(s, max_new_tokens=max_new_tokens), steps))
    report: dict[str, Any] = {
        "judges": [j.model_dump() for j in judge_costs],
        "policies": [p.model_dump() for p in policy_costs],
        "ratios": ratios(judge_costs, policy_costs),
        "results": [str(p) for p in results], "split": split, "limit": limit, "seed": seed,
        "cpus": os.cpu_count(), "load_average": {"before": load_before, "after": _load_average()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    table = Table(Column("judge / policy", overflow="fold"), "ms per context / step", "median", "ms per proposal",
                  "ms winner critique", "warm-up s")
    for j in judge_costs:
        table.add_row(j.spec, f"{j.ms_per_context:.0f}", f"{j.ms_per_context_median:.0f}",
                      f"{j.ms_per_proposal:.0f}", f"{j.ms_winner_critique:.0f}", f"{j.warmup_seconds:.1f}")
    for p in policy_costs:
        table.add_row(p.spec, f"{p.ms_per_step:.0f}", f"{p.ms_per_step_median:.0f}", "", "",
                      f"{p.warmup_seconds:.1f}")
    console.print(table)
    typer.echo(f"wrote {out}", err=True)


__all__ = ["JudgeCost", "PolicyCost", "agent_steps", "command", "ratios", "time_judge", "time_policy"]
