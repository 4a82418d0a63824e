"""Option handling shared by the ``toolrm eval`` and ``toolrm demo`` commands."""

from __future__ import annotations

import typer

from toolrm_agent.judges.base import Judge


def judge_from_option(spec: str, param_hint: str = "--judge") -> Judge:
    """Build the judge a ``--judge`` spec names; a bad spec is a usage error, not a traceback."""
    from toolrm_agent.judges.specs import load_judge

    try:
        return load_judge(spec)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=param_hint) from exc
