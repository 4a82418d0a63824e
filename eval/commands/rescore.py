"""``toolrm eval rescore``: re-score recorded model outputs with BFCL's checker.

For every model under every ``--results`` path (see :mod:`eval.bfcl.results` for the layouts),
each output is decoded in the model's style (:mod:`eval.bfcl.decode`) and checked against the
BFCL v4 possible answers (:mod:`eval.bfcl.questions`). The report compares the re-scored accuracy
with the accuracy recorded with the outputs::

    {"models": {model: {category: {"n": .., "recorded": .., "rescored": ..}}},
     "styles": {model: style},
     "summary": {"rows": .., "compared": .., "within": .., "share_within": ..,
                 "tolerance": .., "exceptions": [{model, category, recorded, rescored,
                                                  diff, reason}, ...]},
     "settings": {...}, "seconds": ..}

Accuracies are fractions. ``recorded`` is null where nothing was recorded. An exception
is a row whose re-scored accuracy is more than ``--tolerance`` away from the recorded
one; its ``reason`` is worked out from the outputs (which formats the leaderboard read
differently, decode failures, questions whose ground truth cannot pass).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from eval.bfcl.decode import decode, format_notes
from eval.bfcl.questions import (
    BROKEN_ANSWERS,
    CATEGORIES,
    MULTI_TURN_CATEGORIES,
    RELEVANCE_CATEGORIES,
    BfclQuestion,
    CheckResult,
    check,
    load_questions,
)
from eval.bfcl.results import ModelResults, RecordedOutput, ResultsError, load_results

#: Categories re-scored by default (``live_relevance`` can be asked for with --category).
DEFAULT_CATEGORIES: tuple[str, ...] = CATEGORIES
SUPPORTED_CATEGORIES: tuple[str, ...] = (*CATEGORIES, *sorted(RELEVANCE_CATEGORIES))


@dataclass
class _Row:
    """Tallies of one (model, category) row."""

    n: int = 0
    correct: int = 0
    correct_other: int | None = None  # under the other reading (filled in for exceptions)
    decode_failures: int = 0
    unknown_ids: int = 0
    broken: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    formats: Counter[str] = field(default_factory=Counter)


def score_output(
    question: BfclQuestion, entry: RecordedOutput, style: str, *, lenient: bool = False
) -> tuple[CheckResult, bool]:
    """Check one recorded output; returns the verdict and whether decoding failed."""
    if question.category in MULTI_TURN_CATEGORIES:
        turns = entry.raw if isinstance(entry.raw, list) else []
        decoded = [
            [
                decode(step, style=style, functions=question.functions, lenient=lenient)
                for step in (turn if isinstance(turn, list) else [turn])
            ]
            for turn in turns
        ]
        failed = any(p.failures for turn in decoded for p in turn)
        return check(question, decoded), failed
    proposal = decode(entry.raw, style=style, functions=question.functions, lenient=lenient)
    return check(question, proposal), bool(proposal.failures)


def rescore_model(
    model: ModelResults,
    categories: tuple[str, ...],
    *,
    lenient: bool = False,
    advance: Any = None,
) -> dict[str, _Row]:
    """Tally every output of ``model`` in ``categories``."""
    rows: dict[str, _Row] = {}
    for category in categories:
        entries = model.by_category(category)
        if not entries:
            continue
        questions = load_questions(category)
        row = rows.setdefault(category, _Row())
        for entry in entries:
            question = questions.get(entry.id)
            if advance is not None:
                advance()
            if question is None:
                row.unknown_ids += 1
                continue
            row.n += 1
            row.broken += entry.id in BROKEN_ANSWERS
            result, failed = score_output(question, entry, model.style, lenient=lenient)
            row.correct += result.valid
            row.decode_failures += failed
            if not result.valid and result.error_type:
                row.errors[result.error_type] += 1
    return rows


def diagnose(model: ModelResults, category: str, row: _Row, *, lenient: bool) -> None:
    """Fill in what explains a row's gap: the other reading's score and unusual formats."""
    if category in MULTI_TURN_CATEGORIES:
        return
    questions = load_questions(category)
    row.correct_other = 0
    for entry in model.by_category(category):
        question = questions.get(entry.id)
        if question is None:
            continue
        other, _ = score_output(question, entry, model.style, lenient=not lenient)
        row.correct_other += other.valid
        row.formats.update(format_notes(entry.raw, model.style))


def _reason(row: _Row, recorded: float, rescored: float, style: str, lenient: bool) -> str:
    """Why a row misses the recorded accuracy, from what its outputs show."""
    parts: list[str] = []
    other_mode = "strict" if lenient else "lenient"
    other = (row.correct_other or 0) / row.n if row.n else 0.0
    if row.correct_other is None:
        pass
    elif abs(other - recorded) + 0.01 < abs(rescored - recorded):
        parts.append(
            f"the {other_mode} reading (code fences opened, calls read inside prose) gives "
            f"{other:.3f}: the recorded score read some of these formats as the "
            f"{other_mode} reading does"
        )
    elif abs(other - rescored) > 0.01:
        parts.append(f"the {other_mode} reading gives {other:.3f}")
    if row.formats:
        listed = ", ".join(f"{k} ({v})" for k, v in row.formats.most_common(4))
        parts.append(f"outputs with {listed}")
    if row.decode_failures:
        parts.append(f"{row.decode_failures}/{row.n} outputs do not decode in style {style!r}")
    if row.broken:
        parts.append(f"{row.broken} questions have a possible answer no output can pass")
    if rescored > recorded and not parts:
        parts.append("outputs pass the v4 checker that the recorded score failed")
    if row.errors:
        top = ", ".join(f"{k} ({v})" for k, v in row.errors.most_common(2))
        parts.append(f"main checker errors: {top}")
    direction = "above" if rescored > recorded else "below"
    return f"re-scored {abs(rescored - recorded) * 100:.1f} points {direction}; " + "; ".join(parts)


def build_report(
    models: list[ModelResults],
    categories: tuple[str, ...],
    *,
    lenient: bool = False,
    tolerance: float = 0.03,
    progress: Any = None,
) -> dict[str, Any]:
    """The rescore report (see the module docstring) for already loaded models."""
    started = time.perf_counter()
    report: dict[str, Any] = {"models": {}, "styles": {}}
    exceptions: list[dict[str, Any]] = []
    compared = within = total_rows = 0
    for model in models:
        task = None
        if progress is not None:
            total = sum(len(model.by_category(c)) for c in categories)
            task = progress.add_task(model.model, total=total)
        rows = rescore_model(
            model,
            categories,
            lenient=lenient,
            advance=(lambda t=task: progress.advance(t)) if task is not None else None,
        )
        table: dict[str, Any] = {}
        for category in categories:
            row = rows.get(category)
            if row is None or row.n == 0:
                continue
            total_rows += 1
            rescored = row.correct / row.n
            recorded = model.recorded.get(category)
            table[category] = {
                "n": row.n,
                "recorded": round(recorded, 4) if recorded is not None else None,
                "rescored": round(rescored, 4),
            }
            if row.unknown_ids:
                table[category]["unknown_ids"] = row.unknown_ids
            if recorded is None:
                continue
            compared += 1
            if abs(rescored - recorded) <= tolerance + 1e-9:
                within += 1
                continue
            diagnose(model, category, row, lenient=lenient)
            exceptions.append(
                {
                    "model": model.model,
                    "category": category,
                    "recorded": round(recorded, 4),
                    "rescored": round(rescored, 4),
                    "diff": round(rescored - recorded, 4),
                    "reason": _reason(row, recorded, rescored, model.style, lenient),
                }
            )
        report["models"][model.model] = table
        report["styles"][model.model] = model.style
    report["summary"] = {
        "rows": total_rows,
        "compared": compared,
        "within": within,
        "share_within": round(within / compared, 4) if compared else None,
        "tolerance": tolerance,
        "exceptions": exceptions,
    }
    report["settings"] = {"categories": list(categories), "lenient": lenient}
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def command(
    results: Annotated[
        list[Path],
        typer.Option(
            "--results",
            help="Results directory, model file or BFCL result tree (repeatable).",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write the JSON report.")],
    categories: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            "-c",
            help="Category to re-score (repeatable; default: all supported ones present).",
        ),
    ] = None,
    lenient: Annotated[
        bool,
        typer.Option(
            "--lenient/--strict",
            help="Read code-fenced calls and call lists followed by prose (default: "
            "strict, as BFCL's leaderboard reads outputs).",
        ),
    ] = False,
    tolerance: Annotated[
        float, typer.Option(help="Largest |rescored - recorded| counted as reproduced.")
    ] = 0.03,
) -> None:
    """Re-score recorded model outputs with the BFCL checker; compare with the recorded accuracy."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Table

    console = Console(stderr=True)
    wanted = tuple(categories) if categories else DEFAULT_CATEGORIES
    unknown = [c for c in wanted if c not in SUPPORTED_CATEGORIES]
    if unknown:
        raise typer.BadParameter(
            f"unsupported categories {unknown}; choose from {', '.join(SUPPORTED_CATEGORIES)}",
            param_hint="--category",
        )
    models: list[ModelResults] = []
    for path in results:
        try:
            models.extend(load_results(path))
        except ResultsError as exc:
            raise typer.BadParameter(str(exc), param_hint="--results") from None
    with Progress(
        TextColumn("[bold]{task.description}", justify="left"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        report = build_report(
            models, wanted, lenient=lenient, tolerance=tolerance, progress=progress
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    summary = report["summary"]
    table = Table(title=f"Re-scored vs recorded (tolerance {tolerance:.2f})")
    for column in ("model", "category", "recorded", "rescored", "diff"):
        table.add_column(column)
    for item in summary["exceptions"]:
        table.add_row(
            item["model"],
            item["category"],
            f"{item['recorded']:.3f}",
            f"{item['rescored']:.3f}",
            f"{item['diff']:+.3f}",
        )
    if summary["exceptions"]:
        console.print(table)
    share = summary["share_within"]
    console.print(
        f"{len(models)} models, {summary['rows']} rows; "
        f"{summary['within']}/{summary['compared']} compared rows within {tolerance:.2f}"
        + (f" ({share:.1%})" if share is not None else "")
        + f"; {report['seconds']:.1f}s → {out}"
    )
