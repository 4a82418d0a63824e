"""Judges: pointwise critique, pairwise compare and listwise rank (sync and async).

Import the concrete judges from ``toolrm_agent`` or their modules; this package only
re-exports the protocol so that importing it stays cheap.
"""

from toolrm_agent.judges.base import BaseJudge, Judge, ranking_from_critiques

__all__ = ["BaseJudge", "Judge", "ranking_from_critiques"]
