"""What the ``toolrm eval`` commands and ``toolrm demo`` share: the ``--judge`` and
``--results`` options, the decision-band options of the critic arms (``--accept``,
``--uncertain``, ``--tool-band``, ``--on-uncertain``, ``--on-ask-timeout``), and the
progress bar of the commands that judge recorded outputs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from toolrm_agent.cli import ACCEPT_HELP, TOOL_BAND_HELP, UNCERTAIN_HELP
from toolrm_agent.core.progress import progress_bar
from toolrm_agent.judges.base import Judge

if TYPE_CHECKING:
    from toolrm_agent import DecisionBands

__all__ = [
    "DEFAULT_JUDGE", "SPLIT_HELP", "AcceptOption", "OnAskTimeoutOption", "OnUncertainOption", "ToolBandOption",
    "ServerSlotsOption", "UncertainOption", "bands_from_options", "bands_summary", "grading_progress",
    "judge_from_option", "llamacpp_server_options", "load_all_results", "progress_bar",
]

DEFAULT_JUDGE = "disc:default"
"""The judge of ``toolrm eval bon`` and ``toolrm eval selfcorrect`` unless told otherwise:
the shipped trained critic, because it measured better than ``schema`` on both public
benchmarks (``train/RESULTS.md``): TRBench w_avg 0.656 vs 0.253, best-of-4 gap_closed
0.427 vs 0.110, at about 4 ms per proposal."""


def judge_from_option(spec: str, param_hint: str = "--judge") -> Judge:
    """Build the judge a ``--judge`` spec names; a bad spec is a usage error, not a traceback."""
    from toolrm_agent.judges.loader import load_judge

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
        if not any(m.entries for m in models):  # files, but not one recorded output in them
            raise typer.BadParameter(
                f"{path}: {len(models)} model result file(s) found, but they hold no recorded outputs "
                f"({', '.join(m.model for m in models[:5])}{', ...' if len(models) > 5 else ''})",
                param_hint="--results",
            )
        out.extend(select_split(models, split))
    return out


SPLIT_HELP = (
    "Which recorded models: all, or the dev / test half (split by model family; choose on dev, "
    "report once on test)."
)


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


# ---------------------------------------------------------------- the policy's server

ServerSlotsOption = Annotated[
    int,
    typer.Option("--server-slots", help="llamacpp: policies: the server's slots (concurrent requests). On a CPU, 1 "
                 "lets the samples of one prompt reuse its cached prefix instead of each evaluating it again (and in "
                 "one check made seeded samples repeat); more slots batch the decoding (a GPU).", min=1),
]


def llamacpp_server_options(policy: str, slots: int, slot_ctx: int) -> dict[str, int]:
    """The llama.cpp server's options for a ``llamacpp:`` policy: ``slots`` slots of
    ``slot_ctx`` context tokens each (``{}`` for any other policy)."""
    return {"n_ctx": slots * slot_ctx, "n_parallel": slots} if policy.startswith("llamacpp:") else {}


# ------------------------------------------------------------------ decision bands

AcceptOption = Annotated[float | None, typer.Option("--accept", help=ACCEPT_HELP, min=0.0, max=1.0)]
UncertainOption = Annotated[
    float | None,
    typer.Option("--uncertain", help=UNCERTAIN_HELP.replace("uncertain,", "uncertain (see --on-uncertain),"),
                 min=0.0, max=1.0),
]
ToolBandOption = Annotated[
    list[str] | None, typer.Option("--tool-band", help=TOOL_BAND_HELP, metavar="NAME=ACCEPT,UNCERTAIN")
]
OnUncertainOption = Annotated[
    str | None,
    typer.Option(
        "--on-uncertain",
        metavar="retry|resample|ask",
        help="What a call in the uncertain band gets: retry (critique and retry, the default), resample "
        "(N-1 more samples, the best kept, then retry) or ask (a human, through LangGraph's interrupt; "
        "these runs are unattended, so every escalation gets the --on-ask-timeout decision).",
    ),
]
OnAskTimeoutOption = Annotated[
    str | None,
    typer.Option(
        "--on-ask-timeout",
        metavar="approve|reject",
        help="With --on-uncertain ask: the decision for an escalated call nobody answers, approve or "
        "reject (the default: it goes back to the model).",
    ),
]


def bands_from_options(
    accept: float | None,
    uncertain: float | None,
    tool_band: list[str] | None,
    on_uncertain: str | None,
    on_ask_timeout: str | None,
) -> DecisionBands | None:
    """The critic's :class:`~toolrm_agent.DecisionBands` from the band options
    (:func:`toolrm_agent.cli.bands_from_cli`), or ``None`` when none is given; a value
    that cannot work is a usage error naming the option, not a traceback."""
    from toolrm_agent.cli import bands_from_cli
    from toolrm_agent.core.errors import ConfigurationError

    try:
        return bands_from_cli(accept, uncertain, tool_band or [], on_uncertain=on_uncertain,
                              on_ask_timeout=on_ask_timeout)
    except ConfigurationError as exc:
        raise typer.BadParameter(str(exc)) from exc


def bands_summary(bands: DecisionBands | None) -> dict[str, Any] | None:
    """The bands as the reports write them (JSON-ready), or ``None``."""
    if bands is None:
        return None
    return {
        "accept": bands.accept,
        "uncertain": bands.uncertain,
        "on_uncertain": bands.on_uncertain,
        "tools": {name: [a, u] for name, a, u in bands.tools},
        "on_ask_timeout": bands.on_ask_timeout if bands.on_uncertain == "ask" else None,
    }
