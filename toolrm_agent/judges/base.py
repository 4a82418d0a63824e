"""The judge protocol: pointwise ``critique``, pairwise ``compare``, listwise ``rank``.

Each method has an async twin of the same shape (``acritique``, ``acompare``, ``arank``).
:class:`BaseJudge` derives what a judge does not implement itself:

* ``compare`` from two pointwise critiques (higher score wins; a tie is ``choice=None``);
* ``rank`` from pointwise scores (stable: ties keep input order);
* every async twin from its sync method, run in a worker thread.

A judge only has to implement ``critique``; a pairwise judge overrides ``compare`` too.

**Capabilities are declared, not guessed.** Every judge says what it is in
``capabilities`` (a :class:`JudgeCapabilities`): whether its ``compare`` is its own
pairwise question (``pairwise``), whether its ``rank`` is its own rather than a sort of
pointwise scores (``native_rank``), and whether its async twins are its own coroutines
(``async_native``). The critic and the benchmarks read that declaration
(:func:`capabilities_of`); nothing inspects which methods a class overrides. A judge
class that overrides ``compare``, ``rank`` or the async twins declares it.

**Judges are immutable.** A :class:`BaseJudge` (every judge the library ships) is frozen
once built: setting a public attribute raises :class:`~toolrm_agent.core.errors.FrozenError`;
``judge.override(**changes)`` returns a new judge built (and validated) through
``__init__`` from the same arguments with ``changes`` applied. Underscore attributes hold
implementation state (a lazily loaded model, a lock) and stay writable.
"""

from __future__ import annotations

import asyncio
import time
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, Self, runtime_checkable

from toolrm_agent.core._frozen import Frozen, rebuild
from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.core.verdicts import CallVerdict, Critique, Issue, IssueCode, Preference, Ranking, TokenUsage


@dataclass(frozen=True, slots=True)
class JudgeCapabilities:
    """What a judge declares about itself (read by the critic and the benchmarks).

    * ``pairwise``: ``compare`` asks about both proposals together (a pairwise prompt, a
      cascade's screening); ``False``: it compares two pointwise scores, and benchmarks
      score the judge pointwise.
    * ``native_rank``: ``rank`` is the judge's own (a tournament, one batch, a cascade's
      screening); ``False``: it sorts pointwise critiques, so the critic asks for those
      critiques itself and keeps the winner's instead of asking again.
    * ``async_native``: ``acritique``/``acompare``/``arank`` are the judge's own
      coroutines; ``False``: they run the sync methods in a worker thread
      (:class:`BaseJudge`'s defaults).
    """

    pairwise: bool = False
    native_rank: bool = False
    async_native: bool = False


POINTWISE = JudgeCapabilities()
"""A judge that only implements ``critique`` (:class:`BaseJudge`'s default)."""

UNDECLARED = JudgeCapabilities(pairwise=True, native_rank=True, async_native=True)
"""What :func:`capabilities_of` assumes of an object that implements the :class:`Judge`
protocol without declaring ``capabilities``: every method is its own."""


@runtime_checkable
class Judge(Protocol):
    """What the critic and the benchmarks need from any judge."""

    name: str

    @property
    def capabilities(self) -> JudgeCapabilities:
        """What the judge is: pairwise or pointwise, its own ranking, async-native
        (read-only: a class attribute or a property satisfies it)."""
        ...

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique: ...

    async def acritique(self, context: JudgeContext, proposal: Proposal) -> Critique: ...

    def compare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference: ...

    async def acompare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference: ...

    def rank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking: ...

    async def arank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking: ...


def capabilities_of(judge: Any) -> JudgeCapabilities:
    """``judge.capabilities``; :data:`UNDECLARED` for a judge that declares none."""
    declared = getattr(judge, "capabilities", None)
    return declared if isinstance(declared, JudgeCapabilities) else UNDECLARED


def check_judge(judge: Any) -> None:
    """Run ``judge.check()`` where the judge has one (a generative judge probes its
    server, a cascade checks each stage, a checkpoint judge loads its weights).

    Raises :class:`~toolrm_agent.core.errors.ConfigurationError` when the check fails (the
    judge's own error is its ``__cause__``): the critic cannot work as configured.
    What ``ToolRMCritic.check()`` and ``ToolRMMiddleware.check()`` run.
    """
    probe = getattr(judge, "check", None)
    if not callable(probe):
        return
    try:
        probe()
    except ConfigurationError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of the probe is a setup error
        name = getattr(judge, "name", type(judge).__name__)
        raise ConfigurationError(
            f"judge {name!r} failed its startup check: {type(exc).__name__}: {exc}"
        ) from exc


class BaseJudge(Frozen):
    """Defaults for a judge that implements ``critique`` only; immutable once built.

    A subclass that overrides ``compare``, ``rank`` or the async twins declares it in
    ``capabilities`` (a class attribute, or a property when it depends on options).
    """

    name: str = "judge"
    capabilities: JudgeCapabilities = POINTWISE

    def override(self, **changes: Any) -> Self:
        """A new judge built from this one's constructor arguments with ``changes``
        applied (validated like the first; an unknown option raises
        :class:`~toolrm_agent.core.errors.ConfigurationTypeError`)."""
        return rebuild(self, changes)

    @abstractmethod
    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        """Judge one proposal on its own."""

    async def acritique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        return await asyncio.to_thread(self.critique, context, proposal)

    def check(self) -> None:  # noqa: B027 - a default that does nothing, on purpose
        """Fail now if this judge cannot work (a server that does not answer, weights that
        cannot be loaded), instead of at the first call where a fail-open policy would
        hide it. Judges with a backend override it; the default has nothing to check.
        Raises a :class:`~toolrm_agent.core.errors.ToolRMError`."""

    # -- pairwise from pointwise ------------------------------------------------------

    def compare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        start = time.perf_counter()
        ca, cb = self.critique(context, a), self.critique(context, b)
        return _preference_from_scores(self.name, ca, cb, time.perf_counter() - start)

    async def acompare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        if self.capabilities.pairwise:  # its own sync compare, not async-native: a thread
            return await asyncio.to_thread(self.compare, context, a, b)
        start = time.perf_counter()
        ca, cb = await asyncio.gather(self.acritique(context, a), self.acritique(context, b))
        return _preference_from_scores(self.name, ca, cb, time.perf_counter() - start)

    # -- listwise from pointwise ------------------------------------------------------

    def rank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        start = time.perf_counter()
        critiques = [self.critique(context, p) for p in proposals]
        return ranking_from_critiques(self.name, critiques, time.perf_counter() - start)

    async def arank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        if self.capabilities.native_rank:  # its own sync rank, not async-native: a thread
            return await asyncio.to_thread(self.rank, context, proposals)
        start = time.perf_counter()
        critiques = await asyncio.gather(*(self.acritique(context, p) for p in proposals))
        return ranking_from_critiques(self.name, list(critiques), time.perf_counter() - start)


class BatchJudge(BaseJudge):
    """A pointwise judge that scores several proposals of one context in one batch.

    Subclasses implement :meth:`critique_many`; ``critique``, ``compare`` (both sides in
    one batch; a tie is ``choice=None``) and ``rank`` and their async twins (a worker
    thread) follow from it. ``compare`` and ``rank`` read :meth:`verdicts_many`, which a
    subclass overrides to leave out work that only the critique texts need.
    """

    capabilities = JudgeCapabilities(native_rank=True)
    """Pointwise; ``rank`` scores every proposal in one batch; async twins in a thread."""

    @abstractmethod
    def critique_many(self, context: JudgeContext, proposals: Sequence[Proposal]) -> list[Critique]:
        """One critique per proposal, in order."""

    def verdicts_many(self, context: JudgeContext, proposals: Sequence[Proposal]) -> list[Critique]:
        """The critiques ``compare`` and ``rank`` read: only their scores and verdicts count
        there, so a judge whose critique texts cost extra work may leave it out here
        (default: :meth:`critique_many`)."""
        return self.critique_many(context, proposals)

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        return self.critique_many(context, [proposal])[0]

    def compare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        start = time.perf_counter()
        ca, cb = self.verdicts_many(context, [a, b])
        return _preference_from_scores(self.name, ca, cb, time.perf_counter() - start)

    async def acompare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        return await asyncio.to_thread(self.compare, context, a, b)

    def rank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        start = time.perf_counter()
        critiques = self.verdicts_many(context, proposals)
        return ranking_from_critiques(self.name, critiques, time.perf_counter() - start)

    async def arank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        return await asyncio.to_thread(self.rank, context, proposals)

    def _scored_critique(
        self,
        proposal: Proposal,
        *,
        accepted: bool,
        score: float,
        text: str,
        input_tokens: int,
        seconds: float,
        reason: str = "",
        calls: tuple[CallVerdict, ...] | None = None,
    ) -> Critique:
        """This judge's critique of ``proposal`` from its ``score``; ``calls`` by default
        gives every call the proposal's verdict (a rejection with one ``JUDGE_REJECTED``
        issue saying ``reason``)."""
        if calls is None:
            issues = () if accepted else (Issue(code=IssueCode.JUDGE_REJECTED, message=reason),)
            calls = tuple(CallVerdict(tool_call_id=i, ok=accepted, score=score, issues=issues) for i in proposal.ids)
        return Critique(
            accepted=accepted,
            score=score,
            text=text,
            judge=self.name,
            calls=calls,
            usage=TokenUsage(input_tokens=input_tokens),
            latency_s=seconds,
        )


def _preference_from_scores(name: str, ca: Critique, cb: Critique, seconds: float) -> Preference:
    choice: Literal[1, 2] | None = 1 if ca.score > cb.score else 2 if cb.score > ca.score else None
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
    """Accepted proposals first, then by score, best first; ties keep order.

    A judge whose scores and verdicts disagree (a rejected proposal scored 0.6, an
    accepted one 0.5) must not have best-of-N pick the proposal it rejected."""
    order = sorted(
        range(len(critiques)),
        key=lambda i: (not critiques[i].accepted, -critiques[i].score, i),
    )
    usage = TokenUsage()
    for c in critiques:
        usage = usage + c.usage
    return Ranking(
        order=tuple(order),
        scores=tuple(c.score for c in critiques),
        accepted=tuple(c.accepted for c in critiques),
        judge=name,
        usage=usage,
        latency_s=seconds,
        comparisons=0,
    )
