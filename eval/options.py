"""What the ``toolrm eval`` commands and ``toolrm demo`` share: the ``--judge`` and
``--results`` options, and the progress bar of the commands that judge recorded outputs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from toolrm_agent.judges.base import Judge

DEFAULT_JUDGE = "disc:default"
"""The judge of ``toolrm eval bon`` and ``toolrm eval selfcorrect`` unless told otherwise:
the shipped trained critic, because it measured better than ``schema`` on both public
benchmarks (``train/RESULTS.md``): TRBench w_avg 0.656 vs 0.253, best-of-4 gap_closed
0.427 vs 0.110, at about 4 ms per proposal."""


def judge_from_option(spec: str, param_hint: str = "--judge") -> Judge:
    """Build the judge a ``--judge`` spec names; a bad spec is a usage error, not a traceback."""
    from toolrm_agent.judges.specs import load_judge

    try:
        return load_judge(spec)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=param_hint) from exc


def load_all_results(paths: Sequence[Path], split: str = "all") -> list[Any]:
    """Every model's results from each ``--results`` path (a usage error when none reads).

    ``split`` keeps the ``dev`` or ``test`` half of each path's models
    (:mod:`eval.bfcl.splits`); ``all`` keeps them all.
    """
    from eval.bfcl.results import load_results
    from eval.bfcl.splits import SPLITS, select_split

    if split not in SPLITS:
        raise typer.BadParameter(f"choose one of {', '.join(SPLITS)}", param_hint="--split")

    if not paths:
        raise typer.BadParameter("give at least one --results DIR", param_hint="--results")
    out: list[Any] = []
    for path in paths:
        try:
            models = load_results(path)
        except ValueError as exc:  # ResultsError: nothing readable there
            raise typer.BadParameter(str(exc), param_hint="--results") from exc
        out.extend(select_split(models, split))  # type: ignore[arg-type]
    return out


SPLIT_HELP = (
    "Which recorded models: all, or the dev / test half (split by model family; choose on dev, "
    "report once on test)."
)


def progress_bar() -> Any:
    """The progress bar of ``trbench`` and ``bon`` (a ``note`` field after the count)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
