"""The one progress bar of the long phases (judging pairs, grading outputs, reading
features for training): a description, the bar, done/total, a ``note`` field, elapsed and
remaining time. ``rich`` is imported when a bar is made, never at import."""

from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


def progress_bar(*, transient: bool = False) -> Any:
    """A ``rich.progress.Progress``; give every task a ``note`` field (``note=""``)."""
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
        transient=transient,
    )
