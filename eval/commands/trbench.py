"""``toolrm eval trbench``: how often does a judge prefer BFCL's ground truth to a failing answer?

Pairs come from :mod:`eval.pairs` (ground truth vs a recorded output the BFCL checker
rejects). The scoring rules are small pure functions, tested on their own:

* a **pairwise** judge (one that declares ``capabilities.pairwise``, such as
  ``GenerativeJudge`` with its default tournament) is asked in both orders; a pair counts
  only when both answers pick the ground truth (:func:`pairwise_outcome`). A judge that
  already asks both orders itself (its ``Preference.votes`` holds two votes) is asked
  once; otherwise we ask the swapped order.
* a **pointwise** or scalar judge counts a pair when ``score(chosen) > score(rejected)``
  strictly; a tie is wrong (:func:`pointwise_correct`).

The JSON report (:func:`summarize`) holds ``w_avg`` (accuracy over all pairs), ``avg``
(mean of the per-category accuracies), ``n_pairs``, ``per_category``, ``paper`` (the
paper's nine categories S … MTB with a weighted average over those present and a flag
where one has fewer than 30 pairs, :func:`eval.paper_categories.paper_view`) and
``per_error_type`` (``{name: {"n", "acc"}}``), ``parse_failures``, ``position_agreement``
(share of pairs where both orders chose the same proposal; ``null`` for pointwise
judges), ``tokens`` (``prompt``, ``completion``), ``seconds`` and ``pairs_per_second``
(judging only), and ``judge`` (the spec).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import BaseModel, ConfigDict

from eval.options import SPLIT_HELP, grading_progress, load_all_results, progress_bar
from eval.pairs import DEFAULT_MAX_PER_QUESTION, Pair, is_pairwise
from eval.paper_categories import paper_line, paper_view
from toolrm_agent.core.errors import JudgeError
from toolrm_agent.core.verdicts import Critique, Preference
from toolrm_agent.judges.base import Judge

Vote = Literal["chosen", "rejected"] | None
"""Which side of a pair one judge answer preferred (``None``: no decision)."""

Comparison = Literal["pairwise", "pointwise"]
"""How a judge compares a pair: both sides at once, or each scored on its own (the report's ``mode``)."""


# ------------------------------------------------------------------- scoring rules


def pairwise_outcome(votes: Sequence[Vote]) -> tuple[bool, bool | None]:
    """(correct, agreed) for the answers of a pairwise judge asked in both orders.

    Correct only when at least two orders were asked and every answer picked the chosen
    side; agreed when every answer decided and all picked the same side (``None`` with
    fewer than two answers). A judge that always answers "1" votes (chosen, rejected):
    wrong and not agreed.
    """
    correct = len(votes) >= 2 and all(v == "chosen" for v in votes)
    if len(votes) < 2:
        return correct, None
    agreed = all(v is not None for v in votes) and len(set(votes)) == 1
    return correct, agreed


def pointwise_correct(chosen_score: float, rejected_score: float) -> bool:
    """A pointwise judge is right on a pair when it scores the chosen side strictly higher."""
    return chosen_score > rejected_score


def _side(choice: int | None, *, chosen_is: int) -> Vote:
    if choice is None:
        return None
    return "chosen" if choice == chosen_is else "rejected"


def votes_from_preferences(first: Preference, swapped: Preference | None = None) -> list[Vote]:
    """The votes of a pair from ``compare(chosen, rejected)`` and ``compare(rejected, chosen)``.

    When ``first`` already holds both orders (``votes`` mapped back to its (a, b)
    numbering, as ``GenerativeJudge`` does), they are used and ``swapped`` is ignored.
    """
    if len(first.votes) >= 2:
        return [_side(v, chosen_is=1) for v in first.votes]
    votes = [_side(first.choice, chosen_is=1)]
    if swapped is not None:
        votes.append(_side(swapped.choice, chosen_is=2))
    return votes


# ------------------------------------------------------------------- judging pairs


class PairOutcome(BaseModel):
    """The judge's verdict on one pair."""

    model_config = ConfigDict(frozen=True)

    pair_id: str
    category: str
    error_type: str
    model: str
    correct: bool
    votes: tuple[Vote, ...] | None = None
    """Pairwise: the side each order preferred."""
    agreed: bool | None = None
    scores: tuple[float, float] | None = None
    """Pointwise: (score of chosen, score of rejected)."""
    status: str = "ok"
    """``ok``, ``unparseable``, ``backend_error`` (judge fell back on its policy) or ``error``."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None


def _status(statuses: Sequence[str]) -> str:
    for wanted in ("unparseable", "backend_error"):
        if wanted in statuses:
            return wanted
    return "ok"


def _outcome(pair: Pair, **verdict: Any) -> PairOutcome:
    """The outcome on ``pair``: its identity (id, category, error type, model) and ``verdict``."""
    return PairOutcome(
        pair_id=pair.id, category=pair.category, error_type=pair.error_type, model=pair.model, **verdict
    )


def _pairwise_result(pair: Pair, prefs: Sequence[Preference]) -> PairOutcome:
    votes = votes_from_preferences(prefs[0], prefs[1] if len(prefs) > 1 else None)
    correct, agreed = pairwise_outcome(votes)
    return _outcome(
        pair,
        correct=correct,
        votes=tuple(votes),
        agreed=agreed,
        status=_status([p.status for p in prefs]),
        prompt_tokens=sum(p.usage.input_tokens for p in prefs),
        completion_tokens=sum(p.usage.output_tokens for p in prefs),
    )


def _pointwise_result(pair: Pair, chosen: Critique, rejected: Critique) -> PairOutcome:
    return _outcome(
        pair,
        correct=pointwise_correct(chosen.score, rejected.score),
        scores=(chosen.score, rejected.score),
        status=_status([chosen.status, rejected.status]),
        prompt_tokens=chosen.usage.input_tokens + rejected.usage.input_tokens,
        completion_tokens=chosen.usage.output_tokens + rejected.usage.output_tokens,
    )


def _failed(pair: Pair, exc: Exception) -> PairOutcome:
    post = getattr(exc, "post_mortem", None)
    return _outcome(
        pair,
        correct=False,
        status="error",
        prompt_tokens=getattr(post, "input_tokens", 0) or 0,
        completion_tokens=getattr(post, "output_tokens", 0) or 0,
        error=f"{type(exc).__name__}: {exc}",
    )


def judge_pair(judge: Judge, pair: Pair, *, pairwise: bool) -> PairOutcome:
    """Ask ``judge`` about one pair (see the module docstring for the rules)."""
    try:
        if pairwise:
            first = judge.compare(pair.context, pair.chosen, pair.rejected)
            prefs = [first]
            if len(first.votes) < 2:
                prefs.append(judge.compare(pair.context, pair.rejected, pair.chosen))
            return _pairwise_result(pair, prefs)
        many = getattr(judge, "critique_many", None)
        if callable(many):
            chosen, rejected = many(pair.context, [pair.chosen, pair.rejected])
        else:
            chosen = judge.critique(pair.context, pair.chosen)
            rejected = judge.critique(pair.context, pair.rejected)
        return _pointwise_result(pair, chosen, rejected)
    except JudgeError as exc:
        return _failed(pair, exc)


async def _acompare(judge: Judge, context: Any, a: Any, b: Any) -> Preference:
    """``judge.acompare``: a pairwise judge that is not async-native runs its own sync
    ``compare`` in a worker thread there (``BaseJudge.acompare`` reads the declared
    capabilities), so the pairwise answer is never derived from pointwise critiques."""
    return await judge.acompare(context, a, b)


async def ajudge_pair(judge: Judge, pair: Pair, *, pairwise: bool) -> PairOutcome:
    """The async twin of :func:`judge_pair`."""
    try:
        if pairwise:
            first = await _acompare(judge, pair.context, pair.chosen, pair.rejected)
            prefs = [first]
            if len(first.votes) < 2:
                prefs.append(await _acompare(judge, pair.context, pair.rejected, pair.chosen))
            return _pairwise_result(pair, prefs)
        chosen, rejected = await asyncio.gather(
            judge.acritique(pair.context, pair.chosen),
            judge.acritique(pair.context, pair.rejected),
        )
        return _pointwise_result(pair, chosen, rejected)
    except JudgeError as exc:
        return _failed(pair, exc)


def evaluate(
    judge: Judge,
    pairs: Sequence[Pair],
    *,
    concurrency: int = 1,
    on_done: Callable[[PairOutcome], None] | None = None,
) -> list[PairOutcome]:
    """Judge every pair; one at a time (``concurrency=1``) or with the async twins."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    pairwise = is_pairwise(judge)
    if concurrency == 1:
        outcomes = []
        for pair in pairs:
            outcome = judge_pair(judge, pair, pairwise=pairwise)
            outcomes.append(outcome)
            if on_done is not None:
                on_done(outcome)
        return outcomes

    async def run() -> list[PairOutcome]:
        gate = asyncio.Semaphore(concurrency)

        async def one(pair: Pair) -> PairOutcome:
            async with gate:
                outcome = await ajudge_pair(judge, pair, pairwise=pairwise)
            if on_done is not None:
                on_done(outcome)
            return outcome

        return list(await asyncio.gather(*(one(p) for p in pairs)))

    return asyncio.run(run())


# ------------------------------------------------------------------------- report


def _accuracy_table(
    outcomes: Sequence[PairOutcome], key: Callable[[PairOutcome], str]
) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[bool]] = defaultdict(list)
    for o in outcomes:
        groups[key(o)].append(o.correct)
    return {
        name: {"n": len(flags), "acc": sum(flags) / len(flags)}
        for name, flags in sorted(groups.items())
    }


def summarize(
    outcomes: Sequence[PairOutcome],
    *,
    judge: str,
    comparison: Comparison,
    seconds: float,
) -> dict[str, Any]:
    """The report of a TRBench run (keys in the module docstring)."""
    n = len(outcomes)
    per_category = _accuracy_table(outcomes, lambda o: o.category)
    agreement: float | None = None
    if comparison == "pairwise" and n:
        agreement = sum(bool(o.agreed) for o in outcomes) / n
    return {
        "judge": judge,
        "mode": comparison,
        "n_pairs": n,
        "w_avg": sum(o.correct for o in outcomes) / n if n else None,
        "avg": (
            sum(c["acc"] for c in per_category.values()) / len(per_category)
            if per_category
            else None
        ),
        "per_category": per_category,
        "paper": paper_view(per_category),
        "per_error_type": _accuracy_table(outcomes, lambda o: o.error_type),
        "per_model": _accuracy_table(outcomes, lambda o: o.model),
        "parse_failures": sum(o.status == "unparseable" for o in outcomes),
        "backend_errors": sum(o.status in ("backend_error", "error") for o in outcomes),
        "position_agreement": agreement,
        "tokens": {
            "prompt": sum(o.prompt_tokens for o in outcomes),
            "completion": sum(o.completion_tokens for o in outcomes),
        },
        "seconds": seconds,
        "pairs_per_second": n / seconds if seconds > 0 else None,
    }


# ------------------------------------------------------------------------ command


def _print_summary(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"TRBench · {report['judge']} ({report['mode']})")
    table.add_column("category")
    table.add_column("pairs", justify="right")
    table.add_column("accuracy", justify="right")
    for name, row in report["per_category"].items():
        table.add_row(name, str(row["n"]), f"{row['acc']:.3f}")
    w_avg, avg = report["w_avg"], report["avg"]
    table.add_row(
        "[bold]all (w_avg / avg)",
        str(report["n_pairs"]),
        f"{w_avg:.3f} / {avg:.3f}" if w_avg is not None else "-",
    )
    console = Console(stderr=True)
    console.print(table)
    console.print(paper_line(report["paper"]))
    rate = report["pairs_per_second"]
    console.print(
        f"{report['seconds']:.1f} s judging, {rate:.3g} pairs/s"
        if rate
        else f"{report['seconds']:.1f} s judging",
    )


def command(
    results: Annotated[
        list[Path],
        typer.Option(
            "--results", help="Results dir (repeatable): BFCL-Result layout or a BFCL result tree."
        ),
    ],
    judge: Annotated[
        str,
        typer.Option(
            "--judge",
            help="Judge spec: schema, gen:<model>, openai:<model>@<url>, disc:<dir>, cascade:<a>,<b>.",
        ),
    ] = "schema",
    out: Annotated[Path, typer.Option("--out", help="Report JSON file.")] = Path("trbench.json"),
    limit: Annotated[
        int | None, typer.Option("--limit", help="Judge at most this many pairs (seeded draw).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of pair sampling.")] = 0,
    split: Annotated[str, typer.Option("--split", help=SPLIT_HELP)] = "all",
    pairs_out: Annotated[
        Path | None,
        typer.Option(
            "--pairs-out", help="Write the pairs as parquet (TRBench-BFCL columns) into this dir."
        ),
    ] = None,
    categories: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            "--categories",
            help="BFCL categories to use (repeatable; default: all found).",
        ),
    ] = None,
    max_per_question: Annotated[
        int,
        typer.Option("--max-per-question", help="At most this many rejected answers per question."),
    ] = DEFAULT_MAX_PER_QUESTION,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Pairs judged at once (async; for server judges).")
    ] = 1,
    include_unparsed: Annotated[
        bool,
        typer.Option(
            "--include-unparsed/--skip-unparsed",
            help="Keep rejected answers with unparseable calls.",
        ),
    ] = False,
    details: Annotated[
        bool, typer.Option("--details/--no-details", help="Add every pair's outcome to the report.")
    ] = False,
    lenient: Annotated[
        bool,
        typer.Option(
            "--lenient-decode/--strict-decode",
            help="Read what each model meant to call (default) or the leaderboard's strict reading.",
        ),
    ] = True,
) -> None:
    """TRBench on BFCL: pairwise accuracy of a judge, ground truth vs failing recorded answers."""
    from eval.options import judge_from_option
    from eval.pairs import build_pairs, export_pairs, sample_pairs

    the_judge = judge_from_option(judge)
    loaded = load_all_results(results, split)
    start = time.perf_counter()
    try:
        with grading_progress(loaded, "building pairs") as advance:
            pairs, stats = build_pairs(
                loaded,
                categories=categories,
                max_per_question=max_per_question,
                seed=seed,
                include_unparsed=include_unparsed,
                lenient=lenient,
                progress=advance,
            )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--category") from exc
    build_seconds = time.perf_counter() - start
    pairs = sample_pairs(pairs, limit, seed)
    if pairs_out is not None:
        path = export_pairs(pairs, pairs_out)
        typer.echo(f"wrote {len(pairs)} pairs to {path}", err=True)
    if not pairs:
        raise typer.BadParameter(
            "no pairs: the results hold no failing answers in these categories"
        )

    comparison: Comparison = "pairwise" if is_pairwise(the_judge) else "pointwise"
    correct = 0
    with progress_bar() as progress:
        task = progress.add_task(f"trbench {judge}", total=len(pairs), note="")

        def done(outcome: PairOutcome) -> None:
            nonlocal correct
            correct += outcome.correct
            finished = progress.tasks[task].completed + 1
            progress.update(task, advance=1, note=f"acc {correct / finished:.3f}")
            if not progress.console.is_terminal and finished % max(1, len(pairs) // 10) == 0:
                progress.console.log(f"{finished}/{len(pairs)} pairs, acc {correct / finished:.3f}")

        start = time.perf_counter()
        outcomes = evaluate(the_judge, pairs, concurrency=concurrency, on_done=done)
        seconds = time.perf_counter() - start

    report = summarize(outcomes, judge=judge, comparison=comparison, seconds=seconds)
    report.update(
        {
            "results": [str(p) for p in results],
            "seed": seed,
            "split": split,
            "models": len(loaded),
            "limit": limit,
            "max_per_question": max_per_question,
            "lenient_decode": lenient,
            "concurrency": concurrency,
            "build_seconds": build_seconds,
            "pair_stats": stats.model_dump(),
        }
    )
    if details:
        report["pairs"] = [o.model_dump(mode="json") for o in outcomes]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _print_summary(report)
    typer.echo(f"wrote {out}", err=True)


__all__ = [
    "PairOutcome",
    "Vote",
    "ajudge_pair",
    "command",
    "evaluate",
    "judge_pair",
    "pairwise_outcome",
    "pointwise_correct",
    "summarize",
    "votes_from_preferences",
]
