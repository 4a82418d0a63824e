"""What the ``toolrm eval`` commands and ``toolrm demo`` share: the ``--judge`` and
``--results`` options, and the progress bar of the commands that judge recorded outputs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from toolrm_agent._internal.progress import progress_bar
from toolrm_agent.judges.base import Judge

__all__ = ["DEFAULT_JUDGE", "grading_progress", "judge_from_option", "load_all_results", "progress_bar"]

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


def load_all_results(paths: Sequence[Path]) -> list[Any]:
    """Every model's results from each ``--results`` path (a usage error when none reads)."""
    from eval.bfcl.results import load_results

    if not paths:
        raise typer.BadParameter("give at least one --results DIR", param_hint="--results")
    out: list[Any] = []
    for path in paths:
        try:
            found = load_results(path)
        except ValueError as exc:  # ResultsError: nothing readable there
            raise typer.BadParameter(str(exc), param_hint="--results") from exc
        if not any(m.entries for m in found):  # files, but not one recorded output in them
            raise typer.BadParameter(
                f"{path}: {len(found)} model result file(s) found, but they hold no recorded outputs "
                f"({', '.join(m.model for m in found[:5])}{', ...' if len(found) > 5 else ''})",
                param_hint="--results",
            )
        out.extend(found)
    return out


def grading_progress(results: Sequence[Any], what: str = "grading outputs") -> Any:
    """A context manager yielding ``advance(n)`` for ``grade_outputs(progress=...)``: a bar
    over every recorded output (decoding and checking them takes seconds to minutes)."""
    import contextlib

    total = sum(len(r.entries) for r in results)

    @contextlib.contextmanager
    def bar() -> Any:
        with progress_bar(transient=True) as progress:
            task = progress.add_task(what, total=total, note="")
            yield lambda n: progress.advance(task, n)

    return bar()
