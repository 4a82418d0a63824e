"""The judge protocol: pointwise ``critique``, pairwise ``compare``, listwise ``rank``.

Each method has an async twin of the same shape (``acritique``, ``acompare``, ``arank``).
:class:`BaseJudge` derives what a judge does not implement itself:

* ``compare`` from two pointwise critiques (higher score wins; a tie is ``choice=None``);
* ``rank`` from pointwise scores (stable: ties keep input order);
* every async twin from its sync method, run in a worker thread.

A judge only has to implement ``critique``; a pairwise judge overrides ``compare`` too.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from toolrm_agent.calls import Proposal
from toolrm_agent.context import JudgeContext
from toolrm_agent.verdicts import Critique, Preference, Ranking, TokenUsage


@runtime_checkable
class Judge(Protocol):
    """What the critic and the benchmarks need from any judge."""

    name: str

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique: ...

    async def acritique(self, context: JudgeContext, proposal: Proposal) -> Critique: ...

    def compare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference: ...

    async def acompare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference: ...

    def rank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking: ...

    async def arank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking: ...


class BaseJudge(ABC):
    """Defaults for a judge that implements ``critique`` only."""

    name: str = "judge"

    @abstractmethod
    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        """Judge one proposal on its own."""

    async def acritique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        return await asyncio.to_thread(self.critique, context, proposal)

    def check(self) -> None:  # noqa: B027 - a default that does nothing, on purpose
        """Fail now if this judge cannot work (a server that does not answer, weights that
        cannot be loaded), instead of at the first call where a fail-open policy would
        hide it. Judges with a backend override it; the default has nothing to check.
        Raises a :class:`~toolrm_agent.errors.ToolRMError`."""

    # -- pairwise from pointwise ------------------------------------------------------

    def compare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        start = time.perf_counter()
        ca, cb = self.critique(context, a), self.critique(context, b)
        return _preference_from_scores(self.name, ca, cb, time.perf_counter() - start)

    async def acompare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        start = time.perf_counter()
        ca, cb = await asyncio.gather(self.acritique(context, a), self.acritique(context, b))
        return _preference_from_scores(self.name, ca, cb, time.perf_counter() - start)

    # -- listwise from pointwise ------------------------------------------------------

    def rank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        start = time.perf_counter()
        critiques = [self.critique(context, p) for p in proposals]
        return ranking_from_critiques(self.name, critiques, time.perf_counter() - start)

    async def arank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        start = time.perf_counter()
        critiques = await asyncio.gather(*(self.acritique(context, p) for p in proposals))
        return ranking_from_critiques(self.name, list(critiques), time.perf_counter() - start)


class BatchJudge(BaseJudge):
    """A pointwise judge that scores several proposals of one context in one batch.

    Subclasses implement :meth:`critique_many`; ``critique``, ``compare`` (both sides in
    one batch; a tie is ``choice=None``) and ``rank`` and their async twins (a worker
    thread) follow from it.
    """

    pairwise = False

    @abstractmethod
    def critique_many(self, context: JudgeContext, proposals: Sequence[Proposal]) -> list[Critique]:
        """One critique per proposal, in order."""

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        return self.critique_many(context, [proposal])[0]

    def compare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        start = time.perf_counter()
        ca, cb = self.critique_many(context, [a, b])
        return _preference_from_scores(self.name, ca, cb, time.perf_counter() - start)

    async def acompare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        return await asyncio.to_thread(self.compare, context, a, b)

    def rank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        start = time.perf_counter()
        critiques = self.critique_many(context, proposals)
        return ranking_from_critiques(self.name, critiques, time.perf_counter() - start)

    async def arank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        return await asyncio.to_thread(self.rank, context, proposals)


def _preference_from_scores(name: str, ca: Critique, cb: Critique, seconds: float) -> Preference:
    choice = 1 if ca.score > cb.score else 2 if cb.score > ca.score else None
    status = "ok" if ca.status == "ok" and cb.status == "ok" else ca.status if ca.status != "ok" else cb.status
    return Preference(
        choice=choice,
        judge=name,
        scores=(ca.score, cb.score),
        usage=ca.usage + cb.usage,
        latency_s=seconds,
        status=status,
    )


def ranking_from_critiques(name: str, critiques: Sequence[Critique], seconds: float) -> Ranking:
    """Best first by score; accepted before rejected at equal score; ties keep order."""
    order = sorted(
        range(len(critiques)),
        key=lambda i: (-critiques[i].score, not critiques[i].accepted, i),
    )
    usage = TokenUsage()
    for c in critiques:
        usage = usage + c.usage
    return Ranking(
        order=tuple(order),
        scores=tuple(c.score for c in critiques),
        judge=name,
        usage=usage,
        latency_s=seconds,
        comparisons=0,
    )
