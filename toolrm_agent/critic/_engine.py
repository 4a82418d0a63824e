"""The critic's decision logic, shared by the LangGraph node and the ``create_agent``
middleware so the two cannot drift apart.

One decision, in four steps:

1. :meth:`CriticEngine.begin` reads the transcript: the last AIMessage is the proposal.
   No call in it → ``end``. Every call already has a stored verdict for this very
   proposal (same fingerprint, same message) → the stored decision is replayed without
   asking the judge (a resumed run neither re-judges nor re-bills). A spent call or
   token budget → the judge is not asked.
2. :meth:`CriticEngine.samples_wanted` says how many extra candidates to draw
   (best-of-N only); the caller draws them (a proposer model, or the agent's own model
   handler).
3. :meth:`CriticEngine.ask` / :meth:`CriticEngine.aask` ask the judge: one critique,
   or a ranking of the candidates plus the winner's critique. Any exception or timeout
   is caught and handed to the error policy.
4. :meth:`CriticEngine.finish` applies the policies and writes the records and messages.

Invariants (checked by ``tests/reliability/test_fault_matrix.py``): every tool_call_id
of a proposal gets exactly one answer (a ToolMessage the critic writes, or the tool's
own result after ``execute``); no rejected call runs; the proposal the critic writes
back has well-formed, unique ids and the names the ``ToolNode`` dispatches
(:func:`~toolrm_agent.critic._transcript.executable_proposal`); every run ends within
``max_critic_steps`` decisions; ``on_budget_exhausted="raise"`` raises only after the
answers are written (:attr:`Outcome.raise_error`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Generator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphBubbleUp
from pydantic import ValidationError

from toolrm_agent.core.agreement import consensus_pick
from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.errors import (
    BudgetExhaustedError,
    ConfigurationError,
    FrozenError,
    JudgeError,
    JudgeFrozenWarning,
)
from toolrm_agent.core.specs import ToolSpec
from toolrm_agent.core.verdicts import CallVerdict, Critique, Ranking
from toolrm_agent.critic._decision_log import write_decision
from toolrm_agent.critic._limits import JudgeSlots
from toolrm_agent.critic._options import (
    BAND_ORDER,
    Band,
    CriticOptions,
    JudgeErrorPolicy,
    policy_verdict,
    proposal_band,
)
from toolrm_agent.critic._repeats import flag_repeats
from toolrm_agent.critic._sanitize import clean_context
from toolrm_agent.critic._state import (
    ARTIFACT_KEY,
    RUN_USAGE_KEY,
    USAGE_KEY,
    VERDICTS_KEY,
    Decision,
    VerdictRecord,
    add_usage,
    answered_ids,
    call_hash,
    fingerprint,
    last_ai_index,
    retries_in_turn,
    usage_tokens,
)
from toolrm_agent.critic._transcript import executable_proposal
from toolrm_agent.judges.base import Judge, capabilities_of
from toolrm_agent.prompting._calling import JudgeCaller
from toolrm_agent.prompting.prompt_text import cap_critique

logger = logging.getLogger("toolrm_agent.critic")

Route = Literal["execute", "retry", "halt", "end", "ask"]


@dataclass(frozen=True)
class Candidate:
    """One proposal the judge may pick: ``source`` 0 is the model's own, i > 0 the i-th sample;
    ``copies``: how many of the model's proposals it stands for (identical samples are judged once)."""

    message: AIMessage
    proposal: Proposal
    fingerprint: str
    source: int
    copies: int = 1


@dataclass
class Step:
    """A proposal read from the transcript, ready to be judged."""

    ai: AIMessage
    proposal: Proposal
    fingerprint: str
    before: list[BaseMessage]
    """The transcript before the proposal (what a best-of-N proposer answers again)."""
    context: JudgeContext
    retries_used: int
    run_usage: dict[str, int]
    blocked: str | None
    """The spent budget (``budget:max_critic_calls`` / ``budget:max_critic_tokens`` /
    ``budget:max_critic_steps``) that keeps the judge from being asked, or ``None``."""
    repaired: bool = False
    """``ai`` is a repaired copy of the message in the transcript (same message id): it
    has to be written back so that what runs is what was judged."""
    answered: frozenset[str] = frozenset()
    """tool_call_ids that already have a ToolMessage after the proposal."""


@dataclass
class Judged:
    """What the judge said about the candidates (or how it failed)."""

    winner: Candidate
    critique: Critique | None
    error: str | None
    calls: int
    input_tokens: int
    output_tokens: int
    candidates: int
    samples: int
    post_mortem: dict[str, Any] | None = None
    """``judge, attempts, errors, input_tokens, output_tokens, seconds, late_calls``."""
    resampled: bool = False
    """More candidates were drawn after the first judgement (:meth:`CriticEngine.ask_more`)."""
    blocked: str | None = None
    """``budget:max_critic_calls`` when the call budget ran out during this step (a call
    was refused): the budget decides, not what the judge managed to say."""


@dataclass
class Outcome:
    """The critic's decision and everything it adds to the state."""

    route: Route
    messages: list[BaseMessage] = field(default_factory=list)
    """Messages to add: the best-of-N winner first (it carries the original message's id,
    so ``add_messages`` replaces the proposal), then ToolMessages, then a final AIMessage
    when the run halts."""
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    run_usage: dict[str, int] = field(default_factory=dict)
    """Per-run counters after this decision."""
    reason: str = ""
    winner: int = 0
    """Which candidate won: 0 the model's own proposal, i > 0 the i-th sample."""
    reused: bool = False
    critique: Critique | None = None
    proposal: AIMessage | None = None
    """The AIMessage that replaces the proposal in the transcript (a repaired copy or
    the best-of-N winner, under the original message id), or ``None``; it is also the
    first of ``messages``."""
    raise_error: BudgetExhaustedError | None = None
    """Set when ``on_budget_exhausted="raise"``: the adapter writes ``messages`` (which
    answer every call) and raises this on the next step."""
    pending: dict[str, VerdictRecord] | None = None
    """``route="ask"`` replayed from state: the escalation's records, for the adapter to
    ask the human (:mod:`toolrm_agent.critic._escalation`)."""
    partial: bool = False
    """``route="execute"`` with some valid calls answered already (a human rejected
    them): only the unanswered calls may run."""

    def state_update(self) -> dict[str, Any]:
        update: dict[str, Any] = {}
        if self.messages:
            update["messages"] = list(self.messages)
        update.update(self.bookkeeping())
        return update

    def bookkeeping(self) -> dict[str, Any]:
        """The verdict and usage keys only (no messages)."""
        update: dict[str, Any] = {}
        if self.records:
            update[VERDICTS_KEY] = dict(self.records)
        if self.usage:
            update[USAGE_KEY] = dict(self.usage)
            update[RUN_USAGE_KEY] = dict(self.run_usage)
        return update


class CriticEngine:
    """Judge + policies. Stateless between calls: everything it needs is in the transcript
    and the ``toolrm_*`` state keys."""

    def __init__(self, judge: Judge, options: CriticOptions, tools: Sequence[ToolSpec] = ()) -> None:
        self.judge = judge
        self.options = options
        self.tools = tuple(tools)
        # the judge's call methods behind options.max_concurrent_judge_calls slots
        self._slots = JudgeSlots(judge, options.max_concurrent_judge_calls)
        self._warned_frozen = False

    # ------------------------------------------------------------------ 1. read state

    def begin(
        self,
        messages: Sequence[BaseMessage],
        *,
        verdicts: Mapping[str, Any] | None = None,
        run_usage: Mapping[str, int] | None = None,
        context_messages: Sequence[BaseMessage] | None = None,
        tools: Sequence[ToolSpec] | None = None,
        count_replay: bool = True,
    ) -> Step | Outcome:
        """Read the proposal; return an :class:`Outcome` when there is nothing to judge.

        A replayed verdict counts as a critic step unless ``count_replay`` is false (the
        middleware replays in ``after_model`` what ``wrap_model_call`` already counted).
        """
        index = last_ai_index(messages)
        if index is None:
            raise ConfigurationError(
                "ToolRMCritic expects state['messages'] to hold the AIMessage whose tool "
                "calls it should judge; found no AIMessage. Route the model node to the critic."
            )
        original = messages[index]
        assert isinstance(original, AIMessage)
        offered = self.tools if tools is None else tuple(tools)
        ai, proposal = executable_proposal(original, messages[:index], offered)
        if proposal.is_empty:
            return Outcome(route="end", reason="no_tool_calls")
        fp = fingerprint(proposal)
        usage = dict(run_usage or {})
        answered = answered_ids(messages[index + 1 :])
        steps_spent = self._steps_spent(usage)
        # a replay counts as a step too (a loop of replays must end), except where the
        # adapter replays what it has just decided and counted (count_replay=False)
        stored = None if steps_spent and count_replay else self._stored(ai, proposal, fp, verdicts or {})
        if stored is not None and self.options.shadow:  # what it would have done is on record
            counted = {"critic_steps": 1} if count_replay else {}
            return Outcome(
                route="execute" if original.tool_calls else "end",
                reason=f"shadow:{stored[proposal.ids[0]].reason}",
                reused=True,
                usage=counted,
                run_usage=add_usage(usage, counted),
            )
        if stored is not None:
            route, new_messages = render(ai, proposal, stored, answered)
            if ai is not original:  # the repaired message was not written back yet
                new_messages.insert(0, ai)
            first = stored[proposal.ids[0]]
            counted = {"critic_steps": 1} if count_replay else {}
            raise_error = None
            if first.raise_after:
                raise_error = budget_error(first.reason, self.options, add_usage(usage, counted), new_messages)
            return Outcome(
                route=route,
                messages=new_messages,
                reason=first.reason,
                reused=True,
                pending=stored if route == "ask" else None,
                partial=route == "execute" and any(r.decision != "execute" for r in stored.values()),
                usage=counted,
                run_usage=add_usage(usage, counted),
                raise_error=raise_error,
                proposal=ai if ai is not original else None,
            )
        before = list(messages[:index])
        context = clean_context(
            JudgeContext.from_messages(before if context_messages is None else context_messages, offered)
        )
        return Step(
            ai=ai,
            proposal=proposal,
            fingerprint=fp,
            before=before,
            context=context,
            retries_used=retries_in_turn(before, verdicts or {}),
            run_usage=usage,
            blocked="budget:max_critic_steps" if steps_spent else self._blocked(usage),
            repaired=ai is not original,
            answered=frozenset(answered),
        )

    def _steps_spent(self, run_usage: Mapping[str, int]) -> bool:
        limit = self.options.budget.max_critic_steps
        return limit is not None and run_usage.get("critic_steps", 0) >= limit

    def _stored(
        self, ai: AIMessage, proposal: Proposal, fp: str, verdicts: Mapping[str, Any]
    ) -> dict[str, VerdictRecord] | None:
        records: dict[str, VerdictRecord] = {}
        items: dict[str, ToolCall | ParseFailure] = {c.id: c for c in proposal.calls}
        items.update({f.id: f for f in proposal.failures})
        for call_id in proposal.ids:
            raw = verdicts.get(call_id)
            if raw is None:
                return None
            try:
                record = raw if isinstance(raw, VerdictRecord) else VerdictRecord.model_validate(raw)
            except ValidationError:
                return None
            if record.fingerprint != fp:
                return None
            if record.message_id and ai.id and record.message_id != ai.id:
                return None
            if not self._same_call_and_critic(record, items[call_id]):
                return None
            records[call_id] = record
        return records

    def _same_call_and_critic(self, record: VerdictRecord, item: ToolCall | ParseFailure) -> bool:
        """A stored verdict holds for this call only: same call hash (a record written
        before hashes existed is trusted on its fingerprint), same critic and version,
        and written in the same mode (a shadow record never lets a call run, nor does a
        real verdict count as a shadow one)."""
        if record.call_hash is not None and record.call_hash != call_hash(item):
            return False
        if record.critic is not None and record.critic != _name(self.judge):
            return False
        if record.critic is not None and record.critic_version != self.version:
            return False
        return record.shadow == self.options.shadow

    @property
    def judge_name(self) -> str:
        return _name(self.judge)

    @property
    def version(self) -> str | None:
        """The judge's ``version`` (a trained critic: a digest of its files), or ``None``."""
        version = getattr(self.judge, "version", None)
        return str(version) if version is not None else None

    def _blocked(self, run_usage: Mapping[str, int]) -> str | None:
        budget = self.options.budget
        if budget.max_critic_calls is not None and run_usage.get("critic_calls", 0) >= budget.max_critic_calls:
            return "budget:max_critic_calls"
        if budget.max_critic_tokens is not None and usage_tokens(run_usage) >= budget.max_critic_tokens:
            return "budget:max_critic_tokens"
        return None

    # ------------------------------------------------------------ 2. samples wanted

    def samples_wanted(self, step: Step) -> int:
        """Extra candidates to draw before judging (0 outside best-of-N or on a budget)."""
        if self.options.mode != "best_of_n" or step.blocked is not None or self.options.shadow:
            return 0
        wanted = self.options.n - 1
        limit = self.options.budget.max_critic_calls
        if limit is not None:  # a pointwise ranking costs one call per candidate
            wanted = min(wanted, limit - step.run_usage.get("critic_calls", 0) - 1)
        return max(wanted, 0)

    def resamples_wanted(self, step: Step, judged: Judged | None) -> int:
        """Candidates to draw after the first judgement: in ``resample`` mode (or for the
        uncertain band with ``on_uncertain="resample"``), up to ``n - 1`` when the
        proposal fell below the accept band (0 when accepted, blocked, failed, in shadow
        mode, or when the call budget has no room to judge them)."""
        if judged is None or judged.critique is None or judged.error is not None or self.options.shadow:
            return 0
        if self.options.mode == "best_of_n" or judged.samples:
            return 0
        band = self.band(judged.critique, judged.winner.proposal)
        bands = self.options.bands
        wanted = self.options.mode == "resample" and band in ("uncertain", "reject")
        wanted = wanted or (band == "uncertain" and bands is not None and bands.on_uncertain == "resample")
        if not wanted:
            return 0
        k = self.options.n - 1
        limit = self.options.budget.max_critic_calls
        if limit is not None:  # each sample costs one judge call
            k = min(k, limit - step.run_usage.get("critic_calls", 0) - judged.calls)
        return max(k, 0)

    def ask_more(
        self, step: Step, judged: Judged, samples: Sequence[BaseMessage], config: RunnableConfig | None = None
    ) -> Judged:
        """Judge the resampled candidates one by one and keep the best of all (the first
        judgement included, never asked again)."""
        own, *new = self._candidates(step, samples)
        caller = JudgeCaller(config, self.options.judge_timeout_s)
        critiques: list[Critique] = []
        try:
            for c in new:
                critiques.append(_checked(caller.call(self._slots.critique, step.context, c.proposal)))
        except GraphBubbleUp:
            raise
        except Exception as exc:  # noqa: BLE001 - keep what was judged; the rest is lost
            logger.warning("judge %s failed on a resample: %s", _name(self.judge), exc)
            caller.errors.append(f"{type(exc).__name__}: {exc}"[:500])
        finally:
            caller.close()
        return self._best_of(judged, new[: len(critiques)], critiques, caller, len(samples), own.copies)

    async def aask_more(
        self, step: Step, judged: Judged, samples: Sequence[BaseMessage], config: RunnableConfig | None = None
    ) -> Judged:
        """Async twin of :meth:`ask_more` (the new candidates are judged concurrently)."""
        own, *new = self._candidates(step, samples)
        caller = JudgeCaller(config, self.options.judge_timeout_s)
        critiques: list[Critique] = []
        try:
            answers = await asyncio.gather(
                *(caller.acall(self._slots.acritique, step.context, c.proposal) for c in new),
                return_exceptions=True,
            )
        finally:
            caller.close()
        kept: list[Candidate] = []
        for c, answer in zip(new, answers, strict=True):
            if isinstance(answer, GraphBubbleUp):
                raise answer
            if isinstance(answer, BaseException) or not isinstance(answer, Critique):
                logger.warning("judge %s failed on a resample: %s", _name(self.judge), answer)
                caller.errors.append(str(answer)[:500])
                continue
            kept.append(c)
            critiques.append(answer)
        return self._best_of(judged, kept, critiques, caller, len(samples), own.copies)

    def _best_of(
        self, judged: Judged, new: Sequence[Candidate], critiques: Sequence[Critique], caller: JudgeCaller,
        samples: int, own_copies: int = 1,
    ) -> Judged:
        assert judged.critique is not None
        candidates = [replace(judged.winner, copies=own_copies), *new]
        answers = [judged.critique, *critiques]
        bands = [BAND_ORDER[self.band(c, k.proposal)] for c, k in zip(answers, candidates, strict=True)]
        best = self._pick(candidates, [a.score for a in answers], bands)
        post_mortem = dict(judged.post_mortem or {})
        extra = self._post_mortem(caller, answers[best])
        for key in ("attempts", "input_tokens", "output_tokens", "late_calls"):
            post_mortem[key] = int(post_mortem.get(key, 0)) + int(extra[key])
        post_mortem["seconds"] = round(float(post_mortem.get("seconds", 0.0)) + extra["seconds"], 4)
        post_mortem["errors"] = [*post_mortem.get("errors", []), *extra["errors"]][-20:]
        return Judged(
            winner=candidates[best],
            critique=answers[best],
            error=None,
            calls=judged.calls + caller.calls,
            input_tokens=judged.input_tokens + caller.usage.input_tokens,
            output_tokens=judged.output_tokens + caller.usage.output_tokens,
            candidates=len(candidates),
            samples=samples,
            post_mortem=post_mortem,
            resampled=True,
        )

    def band(self, critique: Critique, proposal: Proposal) -> Band:
        """Where the judged ``proposal`` falls (:func:`~toolrm_agent.critic._options.proposal_band`
        under this critic's bands)."""
        return proposal_band(self.options.bands, critique, proposal)

    # ------------------------------------------------------------------- 3. judge

    def ask(
        self, step: Step, samples: Sequence[BaseMessage] = (), config: RunnableConfig | None = None
    ) -> Judged:
        with closing(self._judging(step, samples, config)) as plan:  # closed at once when cancelled
            answers: list[Any] | Exception | None = None
            while not isinstance(state := _resume(plan, answers), Judged):
                answers = self._answers(*state)
            return state

    async def aask(
        self, step: Step, samples: Sequence[BaseMessage] = (), config: RunnableConfig | None = None
    ) -> Judged:
        with closing(self._judging(step, samples, config)) as plan:  # closed at once when cancelled
            answers: list[Any] | Exception | None = None
            while not isinstance(state := _resume(plan, answers), Judged):
                answers = await self._aanswers(*state)
            return state

    def _answers(self, caller: JudgeCaller, asks: _Asks) -> list[Any] | Exception:
        """The judge's answers to a plan's ``asks``, one after another; the error of a failed one."""
        try:
            return [caller.call(getattr(self._slots, slot), *args) for slot, args in asks]
        except Exception as exc:  # noqa: BLE001 - the plan answers a judge failure
            return exc

    async def _aanswers(self, caller: JudgeCaller, asks: _Asks) -> list[Any] | Exception:
        """The async twin of :meth:`_answers`: several asks run concurrently."""
        calls = [caller.acall(getattr(self._slots, "a" + slot), *args) for slot, args in asks]
        try:
            return [await calls[0]] if len(calls) == 1 else list(await asyncio.gather(*calls))
        except Exception as exc:  # noqa: BLE001 - the plan answers a judge failure
            return exc

    def _judging(self, step: Step, samples: Sequence[BaseMessage], config: RunnableConfig | None) -> _Plan:
        """How the candidates of ``step`` and ``samples`` are judged, for :meth:`ask` and
        :meth:`aask` alike: the plan yields its caller and the judge calls it needs next
        (several at once when they are independent: the async twin runs those
        concurrently), is sent their answers, or thrown a failed call's error, and returns
        the :class:`Judged`."""
        candidates = self._candidates(step, samples)
        caller = JudgeCaller(config, self.options.judge_timeout_s, self._calls_left(step))
        ctx, proposals = step.context, [c.proposal for c in candidates]
        try:
            if len(candidates) == 1:
                (critique,) = yield caller, [("critique", (ctx, proposals[0]))]
                return self._judged(caller, candidates[0], critique, len(samples), len(candidates))
            if _ranks_pointwise(self.judge):
                critiques = yield caller, [("critique", (ctx, p)) for p in proposals]
                best = self._pick(candidates, [c.score for c in critiques], [int(not c.accepted) for c in critiques])
                return self._judged(caller, candidates[best], critiques[best], len(samples), len(candidates))
            (ranking,) = yield caller, [("rank", (ctx, proposals))]
            caller.add_units(max(len(proposals), ranking.comparisons) - 1)
            winner = candidates[self._ranked_pick(candidates, ranking)]
            (critique,) = yield caller, [("critique", (ctx, winner.proposal))]
            return self._judged(caller, winner, critique, len(samples), len(candidates))
        except GraphBubbleUp:
            raise
        except Exception as exc:  # noqa: BLE001 - any judge failure goes to the policy
            return self._failed(caller, candidates, exc, len(samples))
        finally:
            caller.close()  # a judge still running (timed out) may not call its backend again

    def _candidates(self, step: Step, samples: Sequence[BaseMessage]) -> list[Candidate]:
        """The model's proposal first, then each sample that proposes calls and differs
        from every earlier candidate (identical proposals are judged once; each copy counts
        in ``Candidate.copies``, for the consensus term)."""
        out = [Candidate(step.ai, step.proposal, step.fingerprint, 0)]
        index = {step.fingerprint: 0}
        for i, message in enumerate(samples, start=1):
            if not isinstance(message, AIMessage):
                continue
            message, proposal = executable_proposal(message, step.before, step.context.tools)
            fp = fingerprint(proposal)
            if proposal.is_empty:
                continue
            if fp in index:
                k = index[fp]
                out[k] = replace(out[k], copies=out[k].copies + 1)
                continue
            index[fp] = len(out)
            out.append(Candidate(message, proposal, fp, i))
        return out

    def _pick(self, candidates: Sequence[Candidate], scores: Sequence[float], tiers: Sequence[int]) -> int:
        """The best candidate of the best tier (the judge's verdict or band: a rejected
        candidate never wins over an accepted one), by score, plus ``consensus × agreement``
        when that option is on (:func:`toolrm_agent.core.agreement.consensus_pick`)."""
        return consensus_pick(
            [c.proposal for c in candidates], scores, self.options.consensus,
            tiers=tiers, copies=[c.copies for c in candidates],
        )

    def _ranked_pick(self, candidates: Sequence[Candidate], ranking: Ranking) -> int:
        """The ranking's best; with ``consensus`` on and a score per candidate, :meth:`_pick`
        on its scores within its verdicts instead."""
        if self.options.consensus <= 0 or len(ranking.scores) != len(candidates):
            return ranking.best
        accepted = ranking.accepted if len(ranking.accepted) == len(candidates) else (True,) * len(candidates)
        return self._pick(candidates, ranking.scores, [int(not a) for a in accepted])

    def _judged(
        self, caller: JudgeCaller, winner: Candidate, critique: Critique, samples: int, candidates: int
    ) -> Judged:
        if not isinstance(critique, Critique):
            raise JudgeError(f"judge returned {type(critique).__name__}, expected Critique")
        return Judged(
            winner=winner,
            critique=critique,
            error=None,
            calls=caller.calls,
            input_tokens=caller.usage.input_tokens,
            output_tokens=caller.usage.output_tokens,
            candidates=candidates,
            samples=samples,
            post_mortem=self._post_mortem(caller, critique),
            blocked="budget:max_critic_calls" if caller.budget_hit else None,
        )

    def _calls_left(self, step: Step) -> int | None:
        """The run's remaining judge calls (``max_critic_calls``), or ``None``."""
        limit = self.options.budget.max_critic_calls
        return None if limit is None else max(limit - step.run_usage.get("critic_calls", 0), 0)

    def _failed(
        self, caller: JudgeCaller, candidates: list[Candidate], exc: Exception, samples: int
    ) -> Judged:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if caller.budget_hit:  # the call budget stopped the judge: no judge failure
            logger.info("judge %s stopped: %s", _name(self.judge), error[:500])
        elif isinstance(exc, FrozenError):
            error = self._frozen_judge(exc)
        else:
            logger.warning("judge %s failed: %s", _name(self.judge), error[:500])
        if not caller.errors or not caller.errors[-1].startswith(type(exc).__name__):
            caller.errors.append(error[:500])
        return Judged(
            winner=candidates[0],
            critique=None,
            error=error,
            calls=caller.calls,
            input_tokens=caller.usage.input_tokens,
            output_tokens=caller.usage.output_tokens,
            candidates=len(candidates),
            samples=samples,
            post_mortem=self._post_mortem(caller, None),
            blocked="budget:max_critic_calls" if caller.budget_hit else None,
        )

    def _frozen_judge(self, exc: FrozenError) -> str:
        """A judge that sets an attribute on itself inside a call raises ``FrozenError``
        on every call; said loudly once (a warning), and recorded with status
        ``frozen_judge`` on every verdict."""
        message = (
            f"judge {_name(self.judge)!r} raised FrozenError while judging: {exc}. Judges are "
            "immutable once built; keep per-call state in a local variable or in an "
            "attribute whose name starts with '_'. Every call of this judge fails until "
            "it is fixed (handled by on_judge_error)."
        )
        if not self._warned_frozen:
            self._warned_frozen = True
            warnings.warn(message, JudgeFrozenWarning, stacklevel=2)
            logger.error("%s", message)
        return f"FrozenError: {message}"[:2000]

    def _post_mortem(self, caller: JudgeCaller, critique: Critique | None) -> dict[str, Any]:
        errors = list(caller.errors)
        if critique is not None and critique.status != "ok":
            errors.append(f"judge status {critique.status}")
        usage = caller.usage
        return {
            "judge": _name(self.judge),
            "attempts": max(caller.calls, caller.attempts_reported),
            "errors": [e[:500] for e in errors[-20:]],
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "seconds": round(caller.seconds, 4),
            "late_calls": caller.meter.late_calls,
        }

    # ------------------------------------------------------------------ 4. decide

    def finish(self, step: Step, judged: Judged | None) -> Outcome:
        """Apply the policies to the judge's answer (``None``: a budget kept it from
        being asked) and build the records and messages."""
        usage: dict[str, int] = {"critic_steps": 1}
        own = Candidate(step.ai, step.proposal, step.fingerprint, 0)
        winner = judged.winner if judged and judged.blocked is None else own
        critique = judged.critique if judged else None
        error = judged.error if judged else None
        if judged is not None:
            usage.update(
                critic_calls=judged.calls,
                input_tokens=judged.input_tokens,
                output_tokens=judged.output_tokens,
                proposals_judged=1,
            )
            if judged.samples:
                usage["samples"] = judged.samples
            if judged.resampled:
                usage["resampled"] = 1
        ai = winner.message
        if winner.source != 0:
            ai = ai.model_copy(update={"id": step.ai.id})
            usage["replaced"] = 1
        elif step.repaired:
            usage["repaired"] = 1

        if critique is not None:  # a call that already ran in this turn, whatever the judge said
            critique = flag_repeats(step.before, winner.proposal, critique)
        # whatever judge wrote it, a critique goes back to the policy capped
        critique_text = cap_critique(critique.text) if critique and critique.text else ""
        if judged is None or judged.blocked is not None:
            blocked = judged.blocked if judged is not None else step.blocked
            route, reason = self._spent(blocked or "budget", usage)
            critique, error = None, None
            critique_text = ""
        elif error is not None:
            usage["judge_errors"] = 1
            policy = self._judge_error_policy()
            if policy == "reject":
                critique_text = (
                    f"The critic could not check this proposal ({error[:300]}). Check each "
                    "call against the tool descriptions and propose it again."
                )
                route, reason = self._rejected(step, usage)
                reason = "judge_error" if route == "retry" else reason
            else:
                route, reason = policy, "judge_error"
        else:
            assert critique is not None
            band = self.band(critique, winner.proposal)
            if band == "accept":
                route, reason = "execute", "accepted"
            elif band == "block":
                usage["blocked"] = 1
                route, reason = "halt", "blocked"
            elif band == "uncertain" and self._asks():
                usage["escalations"] = 1
                route, reason = "ask", "uncertain"
            else:
                route, reason = self._rejected(step, usage)
                if route == "retry" and band == "uncertain":
                    reason = "uncertain"

        nothing_runnable = route == "execute" and not winner.proposal.calls
        if nothing_runnable:
            route = "halt"
        if route == "halt":
            usage["halts"] = 1
        raise_after = route == "halt" and reason.startswith("budget:") and self.options.on_budget_exhausted == "raise"

        band_name = self.band(critique, winner.proposal) if critique is not None and error is None else None
        if self.options.shadow:
            raise_after = False
        records = self._records(
            step, winner, ai, critique, critique_text, route, reason, error, nothing_runnable, judged, raise_after,
            band_name,
        )
        if self.options.decision_log:
            write_decision(self.options.decision_log, self._log_entry(step, winner, critique, route, reason, records))
        if self.options.shadow:
            return self._shadow(step, records, usage, route, reason)
        replaces = winner.source != 0 or step.repaired
        messages: list[BaseMessage] = [ai] if replaces else []
        answered = set(step.answered) if winner.source == 0 else set()
        _, answers = render(ai, winner.proposal, records, answered)
        messages.extend(answers)
        run_usage = add_usage(step.run_usage, usage)
        return Outcome(
            route=route,
            messages=messages,
            records={k: v.model_dump(mode="json") for k, v in records.items()},
            usage=usage,
            run_usage=run_usage,
            reason=reason,
            winner=winner.source,
            critique=critique,
            proposal=ai if replaces else None,
            raise_error=budget_error(reason, self.options, run_usage, answers) if raise_after else None,
        )

    def _shadow(
        self, step: Step, records: dict[str, VerdictRecord], usage: dict[str, int], route: Decision, reason: str
    ) -> Outcome:
        """Shadow mode: the records say what the critic would have done; the run goes
        on untouched (no message written, every proposal goes on as the model wrote it)."""
        for key in ("retries", "halts", "replaced", "repaired", "blocked", "budget_exhausted"):
            usage.pop(key, None)
        if route != "execute":
            usage["shadow_interventions"] = 1
        run_usage = add_usage(step.run_usage, usage)
        return Outcome(
            route="execute" if step.ai.tool_calls else "end",
            records={k: v.model_dump(mode="json") for k, v in records.items()},
            usage=usage,
            run_usage=run_usage,
            reason=f"shadow:{reason}",
        )

    def _log_entry(
        self, step: Step, winner: Candidate, critique: Critique | None, route: Decision, reason: str,
        records: Mapping[str, VerdictRecord],
    ) -> dict[str, Any]:
        first = next(iter(records.values()))
        return {
            "message_id": step.ai.id,
            "fingerprint": winner.fingerprint,
            "critic": _name(self.judge),
            "critic_version": self.version,
            "mode": self.options.mode,
            "shadow": self.options.shadow,
            "decision": route,
            "reason": reason,
            "band": first.band,
            "score": critique.score if critique else None,
            "accepted": critique.accepted if critique else None,
            "critique": first.critique,
            "calls": [
                {"id": r.tool_call_id, "name": r.name, "call_hash": r.call_hash, "score": r.score, "ok": r.ok}
                for r in records.values()
            ],
            "replaced": winner.source != 0,
            "proposal": winner.proposal.model_dump(mode="json"),
            "original": step.proposal.model_dump(mode="json") if winner.source != 0 else None,
            "context": step.context.model_dump(mode="json"),
        }

    def _asks(self) -> bool:
        bands = self.options.bands
        return bands is not None and bands.on_uncertain == "ask" and not self.options.shadow

    def call_band(self, critique: Critique, call: ToolCall) -> Band:
        """One call's own band (its verdict's score, else the proposal's)."""
        verdict = next((v for v in critique.calls if v.tool_call_id == call.id), None)
        score = verdict.score if verdict else critique.score
        if self.options.bands is None or policy_verdict(critique):
            return "accept" if critique.accepted and (verdict is None or verdict.ok) else "reject"
        return self.options.bands.band_of(call.name, score)

    def _judge_error_policy(self) -> JudgeErrorPolicy:
        """``on_judge_error``, except that a judge which declares itself fail-closed is
        never failed open: its errors are rejections."""
        policy = self.options.on_judge_error
        if policy == "execute" and _declares_fail_closed(self.judge):
            return "reject"
        return policy

    def _rejected(self, step: Step, usage: dict[str, int]) -> tuple[Decision, str]:
        if step.retries_used < self.options.budget.max_retries:
            usage["retries"] = 1
            return "retry", "rejected"
        return self._spent("budget:max_retries", usage)

    def _spent(self, reason: str, usage: dict[str, int]) -> tuple[Decision, str]:
        """The decision once a budget is spent: ``on_budget_exhausted``, where ``raise``
        halts first (the adapter raises after the answers are written) and the step
        budget always halts (letting calls run would not bound the loop)."""
        usage["budget_exhausted"] = 1
        policy = self.options.on_budget_exhausted
        if policy == "raise" or reason == "budget:max_critic_steps":
            return "halt", reason
        return policy, reason

    def _records(
        self,
        step: Step,
        winner: Candidate,
        ai: AIMessage,
        critique: Critique | None,
        critique_text: str,
        route: Decision,
        reason: str,
        error: str | None,
        nothing_runnable: bool,
        judged: Judged | None,
        raise_after: bool = False,
        band: Band | None = None,
    ) -> dict[str, VerdictRecord]:
        per_call: dict[str, CallVerdict] = {v.tool_call_id: v for v in (critique.calls if critique else ())}
        final = ""
        if route == "halt":
            final = _final_text(reason, critique_text, nothing_runnable, self.options.budget.max_retries)
        items: list[ToolCall | ParseFailure] = [*winner.proposal.calls, *winner.proposal.failures]
        records: dict[str, VerdictRecord] = {}
        for item in items:
            verdict = per_call.get(item.id)
            records[item.id] = VerdictRecord(
                tool_call_id=item.id,
                name=item.name,
                message_id=ai.id,
                fingerprint=winner.fingerprint,
                decision=route,
                reason=reason,
                accepted=critique.accepted if critique else None,
                ok=verdict.ok if verdict else (False if isinstance(item, ParseFailure) else None),
                score=verdict.score if verdict else (critique.score if critique else None),
                judge=critique.judge if critique else (_name(self.judge) if error else None),
                status=critique.status if critique else _error_status(error),
                critique=critique_text,
                codes=tuple(str(c) for c in (verdict.codes if verdict else ())),
                message=_call_text(route, reason, item, verdict, critique_text),
                final_message=final,
                mode=self.options.mode,
                candidates=judged.candidates if judged else 1,
                attempt=step.retries_used,
                error=error,
                post_mortem=judged.post_mortem if judged else None,
                raise_after=raise_after,
                band=band,
                call_band=(self.call_band(critique, item) if critique is not None and isinstance(item, ToolCall)
                           else None),
                asked_at=time.time() if route == "ask" else None,
                call_hash=call_hash(item),
                critic=_name(self.judge),
                critic_version=self.version,
                shadow=self.options.shadow,
            )
        return records


# ------------------------------------------------------------------------ rendering


def render(
    ai: AIMessage,
    proposal: Proposal,
    records: Mapping[str, VerdictRecord],
    answered: set[str],
) -> tuple[Route, list[BaseMessage]]:
    """The messages a decision adds: an error ToolMessage for every call that will not
    run (all of them on retry and halt, the unparseable ones on execute), skipping ids
    that already have an answer, and the closing AIMessage on halt."""
    items: list[ToolCall | ParseFailure] = [*proposal.calls, *proposal.failures]
    first = records[items[0].id]
    route: Route = first.decision
    if route == "ask":  # nothing is answered until the human decides
        return route, []
    if any(records[c.id].decision == "execute" for c in proposal.calls):
        route = "execute"  # after a human review some calls may run, others not
    messages: list[BaseMessage] = []
    for item in items:
        runs = route == "execute" and isinstance(item, ToolCall) and records[item.id].decision == "execute"
        if item.id in answered or runs:
            continue
        record = records[item.id]
        messages.append(
            ToolMessage(
                content=record.message,
                tool_call_id=item.id,
                name=item.name,
                status="error",
                artifact={ARTIFACT_KEY: {"decision": record.decision, "reason": record.reason}},
            )
        )
    if route == "halt" and first.final_message:
        marker = {"decision": "halt", "reason": first.reason, "raise": first.raise_after}
        messages.append(AIMessage(content=first.final_message, response_metadata={ARTIFACT_KEY: marker}))
    return route, messages


_REASONS: dict[str, str] = {
    "budget:max_retries": "the critic's retry budget for this turn is spent",
    "budget:max_critic_calls": "the critic's call budget for this run is spent",
    "budget:max_critic_tokens": "the critic's token budget for this run is spent",
    "budget:max_critic_steps": "the critic's step budget for this run is spent",
    "judge_error": "the critic failed and is configured to stop on failures",
    "blocked": "the critic rejected a call of a tool that is blocked on rejection",
    "uncertain": "the critic was not sure enough of the proposal",
    "rejected": "the critic rejected the proposal",
    "accepted": "the critic accepted the proposal",
}


def _call_text(
    route: Decision,
    reason: str,
    item: ToolCall | ParseFailure,
    verdict: CallVerdict | None,
    critique_text: str,
) -> str:
    """The ToolMessage text for one call that does not run."""
    detail = ""
    if isinstance(item, ParseFailure):
        head = f"Not executed: this call could not be parsed ({item.reason})."
    elif route == "execute":
        return ""
    elif route == "halt":
        head = f"Not executed: the run was stopped before any tool ran ({_REASONS.get(reason, reason)})."
    elif verdict is not None and verdict.ok:
        head = (
            "Not executed: another call in this turn was rejected, so none of them ran. "
            "Propose this call again together with the fixed ones."
        )
    else:
        head = "Not executed: the critic rejected this call."
        if verdict is not None:
            detail = cap_critique(verdict.feedback or "; ".join(
                i.message for i in verdict.issues if i.severity == "error"
            ))
            if detail:
                head += f" {detail}"
    if route == "execute":
        return head
    parts = [head]
    said = bool(detail) and detail in critique_text  # the critique adds nothing for this call
    if critique_text and route == "retry" and not said:
        parts.append(f"Critique: {critique_text}")
    if route == "retry":
        parts.append("Revise the call(s) and try again.")
    return "\n".join(parts)


def _final_text(reason: str, critique_text: str, nothing_runnable: bool, max_retries: int) -> str:
    if nothing_runnable:
        why = "none of the proposed tool calls could be parsed, so nothing could run"
    elif reason == "budget:max_retries":
        why = f"the critic kept rejecting the proposed calls and its retry budget ({max_retries} per turn) is spent"
    else:
        why = _REASONS.get(reason, reason)
    text = f"I stopped before running the proposed tool call(s): {why}."
    if critique_text:
        text += f" Last critique: {critique_text}"
    return text


def _checked(critique: Any) -> Critique:
    if not isinstance(critique, Critique):
        raise JudgeError(f"judge returned {type(critique).__name__}, expected Critique")
    return critique


def _error_status(error: str | None) -> str:
    if error is None:
        return "skipped"
    return "frozen_judge" if error.startswith("FrozenError") else "error"


def _declares_fail_closed(judge: Judge) -> bool:
    return any(getattr(judge, attr, None) == "fail_closed" for attr in ("on_backend_error", "on_unparseable"))


def budget_error(
    reason: str, options: CriticOptions, run_usage: Mapping[str, int], messages: Sequence[BaseMessage]
) -> BudgetExhaustedError:
    """The error ``on_budget_exhausted="raise"`` raises, with its post-mortem (which
    budget, its limit, the run's usage, the answers written before raising)."""
    budget = reason.removeprefix("budget:")
    limit = getattr(options.budget, budget, None)
    return BudgetExhaustedError(
        f"critic budget spent: {_REASONS.get(reason, reason)} (limit {limit}; run usage "
        f"{dict(run_usage)}); every proposed call was answered before raising",
        budget=budget,
        limit=limit if isinstance(limit, int) else None,
        usage=dict(run_usage),
        messages=list(messages),
    )



_Asks = list[tuple[Literal["critique", "rank"], tuple[Any, ...]]]
"""Judge calls a plan needs next: the slot (``critique``, ``rank``; ``a``-prefixed for
the async twin) and its arguments."""
_Plan = Generator[tuple[JudgeCaller, _Asks], "list[Any]", "Judged"]


def _resume(plan: _Plan, answers: list[Any] | Exception | None) -> tuple[JudgeCaller, _Asks] | Judged:
    """Start ``plan`` (``answers=None``) or send it the answers to its calls (throw it the
    error of a failed one): its next calls, or the :class:`Judged` it returns."""
    try:
        if answers is None:
            return next(plan)
        return plan.throw(answers) if isinstance(answers, Exception) else plan.send(answers)
    except StopIteration as done:
        judged: Judged = done.value
        return judged


def _ranks_pointwise(judge: Judge) -> bool:
    """True when the judge declares no ranking of its own (``capabilities.native_rank``
    is false: its ``rank`` sorts pointwise critiques): the critic then computes those
    critiques itself and keeps the winner's."""
    return not capabilities_of(judge).native_rank


def _name(judge: Judge) -> str:
    return str(getattr(judge, "name", type(judge).__name__))
