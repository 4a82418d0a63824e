"""Option handling shared by the ``toolrm eval`` and ``toolrm demo`` commands."""

from __future__ import annotations

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
