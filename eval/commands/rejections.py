"""``toolrm eval rejections``: what a critic's rejections are worth, by BFCL's own checker.

Every recorded answer under ``--results`` (decoded and checked as in ``toolrm eval bon``)
is judged once as a single proposal, and placed the way the critic places it at run time
(:func:`toolrm_agent.critic.node.proposal_band`). A *rejection* is an answer the critic would not
let run. Against BFCL's checker:

* **false-rejection rate**: the share of right answers rejected;
* **precision of rejections**: the share of rejected answers that BFCL's checker rejects too;
* **recall**: the share of wrong answers rejected.

Three readings:

* ``verdict``: the judge's own verdict (its accept threshold, no bands);
* ``accept``: one score threshold for every tool (``--accept T``, as ``DecisionBands(accept=T, uncertain=T)``
  places it: the worst call's score decides, a malformed call always rejects);
* ``target``: the highest threshold on a grid of the answers' scores whose false-rejection
  rate on *these* answers is at most ``--target-frr`` (default 0.05), and what it reads there.

Honest use: choose the threshold with ``--split dev`` (the ``target`` reading), then read it
once with ``--split test --accept T``. The ``target`` reading of a split is tuned to that split.

Only answers that call something (or try to: a malformed call counts) are read: at run
time the critic sees nothing else (``route_to_critic`` ends a turn that calls nothing), so a
prose answer is never rejected. Where the right answer is no call (irrelevance), every
answer read is wrong, and only recall and precision speak. Answers are weighted as recorded
(each model's answer counts); identical answers to one question are judged once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ConfigDict

from eval.options import DEFAULT_JUDGE, SPLIT_HELP, grading_progress, load_all_results, progress_bar
from eval.pairs import Graded, candidate_key, limit_questions
from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.verdicts import Critique
from toolrm_agent.critic.node import DecisionBands, proposal_band
from toolrm_agent.judges.base import Judge

__all__ = ["JudgedAnswer", "command", "judge_answers", "reading", "single_threshold", "threshold_for_frr"]

GRID = 400
"""At most this many thresholds are tried for the ``target`` reading (quantiles of the scores)."""


class JudgedAnswer(BaseModel):
    """One recorded answer, BFCL's verdict on it, and the critic's critique of it."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    category: str
    question_id: str
    valid: bool
    proposal: Proposal
    critique: Critique


def judge_answers(graded: Graded, judge: Judge, *, on_question: Any = None) -> list[JudgedAnswer]:
    """Judge every recorded answer that calls something (identical answers to a question
    judged once)."""
    from eval.bfcl.questions import load_questions

    answers: list[JudgedAnswer] = []
    many = getattr(judge, "critique_many", None)
    for category, per_q in graded.items():
        questions = load_questions(category)
        for qid, outputs in per_q.items():
            kept = [o for o in outputs if not o.proposal.is_empty]  # what the critic sees
            distinct = {candidate_key(o.proposal): o.proposal for o in kept}
            if distinct:
                context = questions[qid].context()
                todo = list(distinct.values())
                fresh = many(context, todo) if callable(many) else [judge.critique(context, p) for p in todo]
                by_key = dict(zip(distinct, fresh, strict=True))
                answers += [
                    JudgedAnswer(category=category, question_id=qid, valid=o.valid, proposal=o.proposal,
                                 critique=by_key[candidate_key(o.proposal)])
                    for o in kept
                ]
            if on_question is not None:
                on_question()
    return answers


def single_threshold(accept: float) -> DecisionBands:
    """One accept threshold for every tool, no uncertain band: below it, a call is rejected."""
    return DecisionBands(accept=accept, uncertain=accept)


def _rejected(answer: JudgedAnswer, bands: DecisionBands | None) -> bool:
    return proposal_band(bands, answer.critique, answer.proposal) != "accept"


def reading(answers: Sequence[JudgedAnswer], bands: DecisionBands | None) -> dict[str, Any]:
    """Counts, false-rejection rate, precision and recall of rejections (see the module docstring)."""
    right = [a for a in answers if a.valid]
    wrong = [a for a in answers if not a.valid]
    false_rejections = sum(_rejected(a, bands) for a in right)
    caught = sum(_rejected(a, bands) for a in wrong)
    rejected = false_rejections + caught
    return {
        "answers": len(answers),
        "right": len(right),
        "wrong": len(wrong),
        "rejected": rejected,
        "false_rejections": false_rejections,
        "false_rejection_rate": false_rejections / len(right) if right else None,
        "precision": caught / rejected if rejected else None,
        "recall": caught / len(wrong) if wrong else None,
    }


def _grid(answers: Sequence[JudgedAnswer]) -> list[float]:
    scores = sorted({round(s, 4) for a in answers for s in [a.critique.score, *(v.score for v in a.critique.calls)]})
    if len(scores) > GRID:
        scores = [scores[round(i * (len(scores) - 1) / (GRID - 1))] for i in range(GRID)]
    return sorted({0.0, *scores, 1.0})


def threshold_for_frr(answers: Sequence[JudgedAnswer], target: float) -> float:
    """The highest grid threshold whose false-rejection rate on ``answers`` is at most ``target``."""
    best = 0.0
    for t in _grid(answers):
        rate = reading(answers, single_threshold(t))["false_rejection_rate"]
        if rate is not None and rate <= target:
            best = t
    return best


def _per_category(answers: Sequence[JudgedAnswer], bands: DecisionBands | None) -> dict[str, Any]:
    cats = sorted({a.category for a in answers})
    return {"all": reading(answers, bands), **{c: reading([a for a in answers if a.category == c], bands)
                                             for c in cats}}


def command(
    results: Annotated[list[Path], typer.Option("--results", help="Results dir (repeatable).")],
    judge: Annotated[str, typer.Option("--judge", help=f"Judge spec (default {DEFAULT_JUDGE}).")] = DEFAULT_JUDGE,
    split: Annotated[str, typer.Option("--split", help=SPLIT_HELP)] = "all",
    categories: Annotated[
        list[str] | None, typer.Option("--category", help="BFCL categories (repeatable; default: all found).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many questions (seeded draw).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the question draw.")] = 0,
    accept: Annotated[
        float | None,
        typer.Option("--accept", help="Also read at this accept threshold (one for every tool).", min=0.0, max=1.0),
    ] = None,
    target_frr: Annotated[
        float, typer.Option("--target-frr", help="Largest false-rejection rate of the target reading.",
                            min=0.0, max=1.0)
    ] = 0.05,
    out: Annotated[Path, typer.Option("--out", help="Report JSON file.")] = Path("rejections.json"),
) -> None:
    """Precision of a critic's rejections by BFCL's checker, and its false-rejection rate."""
    from eval.options import judge_from_option
    from eval.pairs import grade_outputs

    the_judge = judge_from_option(judge)
    loaded = load_all_results(results, split)
    try:
        with grading_progress(loaded) as advance:
            graded, skipped = grade_outputs(loaded, categories=categories, progress=advance)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--category") from exc
    graded = limit_questions(graded, limit, seed)
    start = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task(f"judging {judge}", total=sum(len(q) for q in graded.values()), note="")
        answers = judge_answers(graded, the_judge, on_question=lambda: progress.advance(task, 1))
    seconds = time.perf_counter() - start
    threshold = threshold_for_frr(answers, target_frr)
    readings: dict[str, Any] = {
        "verdict": _per_category(answers, None),
        "target": {"threshold": threshold, "target_frr": target_frr, "tuned_on_this_split": True,
                   **_per_category(answers, single_threshold(threshold))},
    }
    if accept is not None:
        readings["accept"] = {"threshold": accept, **_per_category(answers, single_threshold(accept))}
    report = {
        "judge": judge, "split": split, "limit": limit, "seed": seed,
        "results": [str(p) for p in results], "models": sorted({r.model for r in loaded}),
        "questions": {c: len(q) for c, q in graded.items()}, "skipped_categories": skipped,
        "readings": readings, "judge_seconds": round(seconds, 3),
        "ms_per_answer": round(1000 * seconds / len(answers), 2) if answers else None,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for name, row in readings.items():
        r = row["all"]
        at = f" at {row['threshold']:.4f}" if "threshold" in row else ""
        typer.echo(f"{name}{at}: rejected {r['rejected']} of {r['answers']}; false rejections "
                   f"{r['false_rejections']}/{r['right']} ({_pct(r['false_rejection_rate'])}); precision "
                   f"{_pct(r['precision'])}; recall {_pct(r['recall'])}")
    typer.echo(f"wrote {out}", err=True)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"
