"""``toolrm eval bon``: best-of-N over recorded outputs. Does the judge pick a correct answer?

For each BFCL question, ``draws`` times per K: draw K different models' recorded answers
(seeded), let the judge rank them (``judge.rank``) and check its pick with BFCL's checker.
Per K, overall and per category (:func:`bon_metrics`):

``mean_single``  expected accuracy of one random model: mean correctness of the drawn candidates
``random_pick``  accuracy of a candidate picked at random (seeded): a noisy ``mean_single``
``judge_pick``   accuracy of the judge's pick
``oracle``       share of draws where some candidate is correct
``gap_closed``   ``(judge_pick - mean_single) / (oracle - mean_single)``; ``null`` when
                 ``oracle == mean_single``

Every recorded answer is decoded and checked once (:func:`eval.pairs.grade_outputs`),
by default the way BFCL's leaderboard read it (so ``mean_single`` is the models' mean
recorded accuracy); ``--lenient-decode`` reads what each model meant to call instead.
Judge verdicts are cached: a pointwise judge's critique per (question, rendered
candidate), so a candidate met in many draws is judged once; a pairwise judge's ranking
per (question, candidates in the order shown).
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ConfigDict

from eval.options import DEFAULT_JUDGE, SPLIT_HELP, grading_progress, load_all_results
from eval.pairs import Graded, GradedOutput, candidate_key, is_pairwise, limit_questions
from toolrm_agent.core.agreement import consensus_pick
from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.verdicts import Critique, Ranking, TokenUsage
from toolrm_agent.judges.base import Judge, ranking_from_critiques

DEFAULT_K = (2, 4, 8)


# ------------------------------------------------------------------------- metrics


class DrawOutcome(BaseModel):
    """One draw: which candidates were correct, and which one the judge and chance picked."""

    model_config = ConfigDict(frozen=True)

    category: str
    question_id: str
    correct: tuple[bool, ...]
    judge_pick: int
    random_pick: int


def gap_closed(judge_pick: float, mean_single: float, oracle: float) -> float | None:
    """Share of the gap between one random model and the oracle that the judge closes."""
    gap = oracle - mean_single
    if abs(gap) < 1e-12:
        return None
    return (judge_pick - mean_single) / gap


def bon_metrics(draws: Sequence[DrawOutcome]) -> dict[str, Any]:
    """``n``, ``mean_single``, ``random_pick``, ``judge_pick``, ``oracle``, ``gap_closed``."""
    n = len(draws)
    if not n:
        return {
            "n": 0,
            "mean_single": None,
            "random_pick": None,
            "judge_pick": None,
            "oracle": None,
            "gap_closed": None,
        }
    mean_single = sum(sum(d.correct) / len(d.correct) for d in draws) / n
    random_pick = sum(d.correct[d.random_pick] for d in draws) / n
    judge_pick = sum(d.correct[d.judge_pick] for d in draws) / n
    oracle = sum(any(d.correct) for d in draws) / n
    return {
        "n": n,
        "mean_single": mean_single,
        "random_pick": random_pick,
        "judge_pick": judge_pick,
        "oracle": oracle,
        "gap_closed": gap_closed(judge_pick, mean_single, oracle),
    }


def summarize_k(draws: Sequence[DrawOutcome]) -> dict[str, Any]:
    """Overall and per-category metrics of one K."""
    per_category: dict[str, list[DrawOutcome]] = defaultdict(list)
    for d in draws:
        per_category[d.category].append(d)
    return {
        "overall": bon_metrics(draws),
        "per_category": {c: bon_metrics(ds) for c, ds in sorted(per_category.items())},
    }


# ------------------------------------------------------------------------- drawing


def draw_indices(
    n: int, k: int, *, seed: int, question_id: str, draw: int
) -> tuple[list[int], int]:
    """(K distinct candidate indices in the order shown to the judge, a random pick among them)."""
    rng = random.Random(f"{seed}|{k}|{question_id}|{draw}")
    picked = rng.sample(range(n), k)
    return picked, rng.randrange(k)


class CachedPicker:
    """Ranks candidates with a judge, caching what can be cached (see module docstring)."""

    def __init__(self, judge: Judge, consensus: float = 0.0) -> None:
        self.judge = judge
        self.consensus = consensus
        self.pairwise = is_pairwise(judge)
        self.critiques: dict[tuple[str, str], Critique] = {}
        self.rankings: dict[tuple[str, tuple[str, ...]], Ranking] = {}
        self.usage = TokenUsage()
        self.judge_calls = 0

    def pick(self, question_id: str, context: JudgeContext, proposals: Sequence[Proposal]) -> int:
        """Index of the judge's favourite among ``proposals``."""
        keys = [candidate_key(p) for p in proposals]
        if self.pairwise:
            cache_key = (question_id, tuple(keys))
            ranking = self.rankings.get(cache_key)
            if ranking is None:
                ranking = self.judge.rank(context, list(proposals))
                self.judge_calls += 1
                self.usage = self.usage + ranking.usage
                self.rankings[cache_key] = ranking
            if self.consensus > 0 and len(ranking.scores) == len(proposals):
                tiers = [int(not a) for a in ranking.accepted] if len(ranking.accepted) == len(proposals) else None
                return consensus_pick(proposals, ranking.scores, self.consensus, tiers=tiers)
            return ranking.best
        missing = {
            key: p
            for key, p in zip(keys, proposals, strict=True)
            if (question_id, key) not in self.critiques
        }
        if missing:
            many = getattr(self.judge, "critique_many", None)
            todo = list(missing.values())
            fresh = (
                many(context, todo)
                if callable(many)
                else [self.judge.critique(context, p) for p in todo]
            )
            for key, critique in zip(missing, fresh, strict=True):
                self.critiques[(question_id, key)] = critique
                self.usage = self.usage + critique.usage
                self.judge_calls += 1
        critiques = [self.critiques[(question_id, key)] for key in keys]
        if self.consensus > 0:
            return consensus_pick(proposals, [c.score for c in critiques], self.consensus,
                                  tiers=[int(not c.accepted) for c in critiques])
        return ranking_from_critiques(getattr(self.judge, "name", "judge"), critiques, 0.0).best


def run_bon(
    graded: Graded,
    judge: Judge,
    *,
    ks: Sequence[int] = DEFAULT_K,
    draws: int = 5,
    seed: int = 0,
    contexts: Callable[[str, str], JudgeContext] | None = None,
    on_draw: Callable[[], None] | None = None,
    consensus: float = 0.0,
) -> tuple[dict[int, list[DrawOutcome]], CachedPicker]:
    """Every draw for every K; ({K: outcomes}, the picker with its cache and usage).

    ``contexts(category, question_id)`` gives the judge's context (default: the BFCL
    question's). Questions with fewer than K answers are left out of that K. ``consensus``:
    the weight of the candidates' agreement in the pick (:func:`toolrm_agent.core.agreement.consensus_pick`;
    0, the judge alone).
    """
    if draws < 1:
        raise ValueError(f"draws must be >= 1, got {draws}")
    if not ks or any(k < 1 for k in ks):
        raise ValueError(f"every K must be >= 1, got {list(ks)}")
    if contexts is None:
        contexts = _bfcl_context
    picker = CachedPicker(judge, consensus)
    out: dict[int, list[DrawOutcome]] = {}
    for k in ks:
        rows: list[DrawOutcome] = []
        for category, per_q in graded.items():
            for qid, outputs in per_q.items():
                if len(outputs) < k:
                    continue
                context = contexts(category, qid)
                for d in range(draws):
                    chosen, rand = draw_indices(len(outputs), k, seed=seed, question_id=qid, draw=d)
                    cands: list[GradedOutput] = [outputs[i] for i in chosen]
                    best = picker.pick(qid, context, [c.proposal for c in cands])
                    rows.append(
                        DrawOutcome(
                            category=category,
                            question_id=qid,
                            correct=tuple(c.valid for c in cands),
                            judge_pick=best,
                            random_pick=rand,
                        )
                    )
                    if on_draw is not None:
                        on_draw()
        out[k] = rows
    return out, picker


def _bfcl_context(category: str, question_id: str) -> JudgeContext:
    from eval.bfcl.questions import load_questions

    return load_questions(category)[question_id].context()


# ------------------------------------------------------------------------ command


def command(
    results: Annotated[list[Path], typer.Option("--results", help="Results dir (repeatable).")],
    judge: Annotated[
        str, typer.Option("--judge", help=f"Judge spec (default {DEFAULT_JUDGE}; see `toolrm eval trbench --help`).")
    ] = DEFAULT_JUDGE,
    k: Annotated[
        list[int] | None,
        typer.Option("--k", help="Candidates per question (repeatable; default 2 4 8)."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Report JSON file.")] = Path("bon.json"),
    draws: Annotated[int, typer.Option("--draws", help="Draws of K candidates per question.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the draws.")] = 0,
    split: Annotated[str, typer.Option("--split", help=SPLIT_HELP)] = "all",
    categories: Annotated[
        list[str] | None,
        typer.Option(
            "--category", "--categories", help="BFCL categories (repeatable; default: all found)."
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most this many questions (seeded draw).")
    ] = None,
    consensus: Annotated[
        float,
        typer.Option(
            "--consensus",
            help="Weight of the candidates' agreement in the pick: score + W x agreement, within the judge's "
            "verdict (0: the judge alone; 0.3 was chosen on the dev half).",
            min=0.0,
        ),
    ] = 0.0,
    lenient: Annotated[
        bool,
        typer.Option(
            "--lenient-decode/--strict-decode",
            help="Read candidates as their models meant them, or as the leaderboard did (default).",
        ),
    ] = False,
) -> None:
    """Best-of-N over recorded outputs: the judge picks one of K models' answers; is it right?"""
    from eval.options import judge_from_option
    from eval.pairs import grade_outputs

    ks = sorted(set(k or DEFAULT_K))
    the_judge = judge_from_option(judge)
    loaded = load_all_results(results, split)
    start = time.perf_counter()
    try:
        with grading_progress(loaded) as advance:
            graded, skipped = grade_outputs(loaded, categories=categories, lenient=lenient, progress=advance)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--category") from exc
    grading_seconds = time.perf_counter() - start
    graded = limit_questions(graded, limit, seed)
    total = sum(
        draws
        for kk in ks
        for per_q in graded.values()
        for outs in per_q.values()
        if len(outs) >= kk
    )
    if not total:
        most = max((len(o) for per_q in graded.values() for o in per_q.values()), default=0)
        raise typer.BadParameter(
            f"no question has {min(ks)} or more answers (at most {most} models answered one)",
            param_hint="--k",
        )
    from eval.options import progress_bar

    with progress_bar() as progress:
        task = progress.add_task(f"bon {judge}", total=total, note="")
        start = time.perf_counter()
        by_k, picker = run_bon(
            graded,
            the_judge,
            ks=ks,
            draws=draws,
            seed=seed,
            on_draw=lambda: progress.update(task, advance=1),
            consensus=consensus,
        )
        seconds = time.perf_counter() - start

    report: dict[str, Any] = {
        "judge": judge,
        "mode": "pairwise" if picker.pairwise else "pointwise",
        "k": ks,
        "draws": draws,
        "seed": seed,
        "split": split,
        "limit": limit,
        "lenient_decode": lenient,
        "consensus": consensus,
        "results": [str(p) for p in results],
        "models": sorted({r.model for r in loaded}),
        "questions": {c: len(per_q) for c, per_q in graded.items()},
        "skipped_categories": skipped,
        "by_k": {str(kk): summarize_k(rows) for kk, rows in by_k.items()},
        "judge_calls": picker.judge_calls,
        "tokens": {"prompt": picker.usage.input_tokens, "completion": picker.usage.output_tokens},
        "grading_seconds": grading_seconds,
        "seconds": seconds,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _print_summary(report)
    typer.echo(f"wrote {out}", err=True)


def _print_summary(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    def fmt(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    table = Table(title=f"best-of-N · {report['judge']} ({report['draws']} draws)")
    for col in ("K", "category", "n", "mean_single", "random", "judge", "oracle", "gap_closed"):
        table.add_column(col, justify="left" if col == "category" else "right")
    for kk, block in report["by_k"].items():
        rows = [("all", block["overall"]), *block["per_category"].items()]
        for name, m in rows:
            table.add_row(
                kk,
                f"[bold]{name}" if name == "all" else name,
                str(m["n"]),
                fmt(m["mean_single"]),
                fmt(m["random_pick"]),
                fmt(m["judge_pick"]),
                fmt(m["oracle"]),
                fmt(m["gap_closed"]),
            )
    Console(stderr=True).print(table)


__all__ = [
    "CachedPicker",
    "DrawOutcome",
    "bon_metrics",
    "command",
    "draw_indices",
    "gap_closed",
    "run_bon",
    "summarize_k",
]
