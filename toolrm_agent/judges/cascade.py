"""A cascade: a cheap judge first, the expensive one only where the cheap one passes.

The usual pairing is :class:`~toolrm_agent.judges.schema.SchemaJudge` (microseconds, no
tokens) in front of a generative or scalar judge (seconds and tokens)::

    judge = CascadeJudge(SchemaJudge(), GenerativeJudge(model))   # "cascade(schema,gen)"

* ``critique``: the first judge's critique when it rejects (the second is never asked);
  otherwise the second's critique, with the token usage of both, the first judge's
  findings (its warnings, say) merged into the per-call verdicts, and its remarks
  appended to the text.
* ``compare``: the first judge critiques both proposals. If exactly one passes, it wins;
  if both fail, the higher first-judge score wins (``None`` on a tie); only if both pass
  is the second judge's ``compare`` asked.
* ``rank``: the first judge critiques every proposal. Those that pass come first, in the
  order of the second judge's ``rank`` (asked only when more than one passes); those that
  fail follow, by the first judge's score (ties keep input order). ``Ranking.scores``
  holds the second judge's scores for the passing proposals and the first judge's for
  the others: the two scales need not agree, so read the order, not the scores.

Each has an async twin (``acritique``, ``acompare``, ``arank``) that awaits the async
methods of both judges. Any :class:`~toolrm_agent.judges.base.Judge` works at either
stage, including another cascade.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Literal

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.verdicts import (
    CallVerdict,
    Critique,
    JudgeStatus,
    Preference,
    Ranking,
    TokenUsage,
)
from toolrm_agent.judges.base import BaseJudge, Judge, JudgeCapabilities

__all__ = ["CascadeJudge"]


class CascadeJudge(BaseJudge):
    """Ask ``first`` (cheap) before ``second`` (expensive); see the module docstring.

    Immutable: ``cascade.override(second=other)`` builds a new cascade.
    """

    capabilities = JudgeCapabilities(pairwise=True, native_rank=True, async_native=True)
    """Its own screening ``compare`` and ``rank``; async twins that await both stages'."""

    def __init__(self, first: Judge, second: Judge, name: str | None = None) -> None:
        self.first = first
        self.second = second
        self.name = name or f"cascade({first.name},{second.name})"

    def __repr__(self) -> str:
        return f"CascadeJudge(first={self.first!r}, second={self.second!r}, name={self.name!r})"

    def check(self) -> None:
        """Check each stage, first then second (see :meth:`BaseJudge.check`)."""
        for judge in (self.first, self.second):
            probe = getattr(judge, "check", None)
            if callable(probe):
                probe()

    # -- pointwise --------------------------------------------------------------------

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        start = time.perf_counter()
        cheap = self.first.critique(context, proposal)
        if not cheap.accepted:
            return cheap
        full = self.second.critique(context, proposal)
        return _merge(cheap, full, time.perf_counter() - start)

    async def acritique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        start = time.perf_counter()
        cheap = await self.first.acritique(context, proposal)
        if not cheap.accepted:
            return cheap
        full = await self.second.acritique(context, proposal)
        return _merge(cheap, full, time.perf_counter() - start)

    # -- pairwise ---------------------------------------------------------------------

    def compare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        start = time.perf_counter()
        ca, cb = self.first.critique(context, a), self.first.critique(context, b)
        if ca.accepted and cb.accepted:
            return self._delegated(ca, cb, self.second.compare(context, a, b), start)
        return self._screened(ca, cb, start)

    async def acompare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        start = time.perf_counter()
        ca, cb = await asyncio.gather(
            self.first.acritique(context, a), self.first.acritique(context, b)
        )
        if ca.accepted and cb.accepted:
            return self._delegated(ca, cb, await self.second.acompare(context, a, b), start)
        return self._screened(ca, cb, start)

    def _screened(self, ca: Critique, cb: Critique, start: float) -> Preference:
        """The preference when the first judge already decides (not both pass)."""
        if ca.accepted != cb.accepted:
            choice: Literal[1, 2] | None = 1 if ca.accepted else 2
        else:  # both fail: the less bad one
            choice = 1 if ca.score > cb.score else 2 if cb.score > ca.score else None
        return Preference(
            choice=choice,
            judge=self.name,
            scores=(ca.score, cb.score),
            usage=ca.usage + cb.usage,
            latency_s=time.perf_counter() - start,
            status=_status(ca.status, cb.status),
        )

    def _delegated(self, ca: Critique, cb: Critique, pref: Preference, start: float) -> Preference:
        """The second judge's preference, billed with the first judge's critiques."""
        return pref.model_copy(
            update={
                "judge": self.name,
                "usage": ca.usage + cb.usage + pref.usage,
                "latency_s": time.perf_counter() - start,
            }
        )

    # -- listwise ---------------------------------------------------------------------

    def rank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        start = time.perf_counter()
        critiques = [self.first.critique(context, p) for p in proposals]
        passing = [i for i, c in enumerate(critiques) if c.accepted]
        inner = (
            self.second.rank(context, [proposals[i] for i in passing]) if len(passing) > 1 else None
        )
        return self._ranking(critiques, passing, inner, start)

    async def arank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        start = time.perf_counter()
        critiques = list(
            await asyncio.gather(*(self.first.acritique(context, p) for p in proposals))
        )
        passing = [i for i, c in enumerate(critiques) if c.accepted]
        inner = (
            await self.second.arank(context, [proposals[i] for i in passing])
            if len(passing) > 1
            else None
        )
        return self._ranking(critiques, passing, inner, start)

    def _ranking(
        self,
        critiques: Sequence[Critique],
        passing: list[int],
        inner: Ranking | None,
        start: float,
    ) -> Ranking:
        scores = [c.score for c in critiques]
        accepted = [c.accepted for c in critiques]
        usage = _total_usage(critiques)
        comparisons = 0
        order = list(passing)
        if inner is not None:
            order = [passing[j] for j in _permutation(inner.order, len(passing))]
            if len(inner.scores) == len(passing):
                for j, i in enumerate(passing):
                    scores[i] = inner.scores[j]
            if len(inner.accepted) == len(passing):
                for j, i in enumerate(passing):
                    accepted[i] = inner.accepted[j]
            usage = usage + inner.usage
            comparisons = inner.comparisons
        failing = sorted(
            (i for i, c in enumerate(critiques) if not c.accepted),
            key=lambda i: (-critiques[i].score, i),
        )
        return Ranking(
            order=tuple(order + failing),
            scores=tuple(scores),
            accepted=tuple(accepted),
            judge=self.name,
            usage=usage,
            latency_s=time.perf_counter() - start,
            comparisons=comparisons,
        )


# --------------------------------------------------------------------------- helpers


def _merge(cheap: Critique, full: Critique, seconds: float) -> Critique:
    """The second judge's critique, with the first judge's findings and tokens added."""
    by_id = {v.tool_call_id: v for v in full.calls}
    merged: list[CallVerdict] = []
    for first in cheap.calls:
        second = by_id.pop(first.tool_call_id, None)
        merged.append(first if second is None else _merge_verdicts(first, second))
    merged.extend(v for v in full.calls if v.tool_call_id in by_id)
    text = "\n".join(t for t in (full.text, cheap.text) if t)
    return full.model_copy(
        update={
            "calls": tuple(merged),
            "usage": cheap.usage + full.usage,
            "latency_s": seconds,
            "text": text,
        }
    )


def _merge_verdicts(first: CallVerdict, second: CallVerdict) -> CallVerdict:
    return second.model_copy(
        update={
            "ok": first.ok and second.ok,
            "name": second.name or first.name,
            "issues": first.issues + second.issues,
            "feedback": " ".join(f for f in (second.feedback, first.feedback) if f),
        }
    )


def _permutation(order: Sequence[int], n: int) -> list[int]:
    """``order`` as a permutation of ``range(n)``: bad or repeated entries dropped,
    missing indices appended in input order (a misbehaving inner judge loses nothing)."""
    seen: set[int] = set()
    out: list[int] = []
    for i in order:
        if isinstance(i, int) and 0 <= i < n and i not in seen:
            seen.add(i)
            out.append(i)
    out.extend(i for i in range(n) if i not in seen)
    return out


def _total_usage(critiques: Sequence[Critique]) -> TokenUsage:
    usage = TokenUsage()
    for c in critiques:
        usage = usage + c.usage
    return usage


def _status(a: JudgeStatus, b: JudgeStatus) -> JudgeStatus:
    return a if a != "ok" else b
