"""The critic's options: what it does with a proposal, and when it stops.

:class:`CriticOptions` (with its :class:`CriticBudget`) is the one options object of
:class:`toolrm_agent.critic.node.ToolRMCritic`, :class:`toolrm_agent.critic.middleware.ToolRMMiddleware`
and the engine they share. Both are immutable dataclasses (on :class:`~toolrm_agent.core._frozen.Frozen`,
as the judges and adapters are): setting a field raises
:class:`~toolrm_agent.core.errors.FrozenError`; ``.override(**changes)`` returns a new,
validated object. Values are checked when built: a wrong type raises
:class:`~toolrm_agent.core.errors.ConfigurationTypeError`, a bad value
:class:`~toolrm_agent.core.errors.ConfigurationError`, an unknown option (to ``override`` or to
:func:`make_options`) :class:`~toolrm_agent.core.errors.ConfigurationTypeError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar

from toolrm_agent.core._frozen import Frozen
from toolrm_agent.core.errors import ConfigurationError, ConfigurationTypeError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from toolrm_agent.core.calls import Proposal
    from toolrm_agent.core.verdicts import Critique

Mode = Literal["retry", "best_of_n", "resample"]
"""``retry``: judge the proposal, send a rejected one back to the model with the critique.
``best_of_n``: sample more proposals, keep the one the judge ranks best (then as retry).
``resample``: judge the proposal; only when it falls below the accept band, sample up to
``n - 1`` more, keep the best; when none is accepted, as retry (resample on reject)."""

UncertainAction = Literal["retry", "resample", "ask"]
"""What a proposal in the uncertain band gets: critique and retry (as a rejection), more
samples and the best of them (then as retry when none is accepted), or a human's decision
(LangGraph ``interrupt``; see :mod:`toolrm_agent.critic._escalation`)."""

TimeoutDecision = Literal["approve", "reject"]

Band = Literal["accept", "uncertain", "reject", "block"]
"""Where a judged proposal falls (:meth:`DecisionBands.band`); ``block``: a call of a tool
marked ``block`` fell in the reject band."""

BudgetPolicy = Literal["execute", "halt", "raise"]
"""What happens when a budget is spent: let the proposal run, end the run with a final
message, or raise :class:`~toolrm_agent.core.errors.BudgetExhaustedError`."""

JudgeErrorPolicy = Literal["execute", "reject", "halt"]
"""What happens when the judge raises or times out: let the proposal run (fail open),
treat it as rejected (fail closed, still bounded by ``max_retries``), or end the run."""

MODES: tuple[str, ...] = ("retry", "best_of_n", "resample")
UNCERTAIN_ACTIONS: tuple[str, ...] = ("retry", "resample", "ask")
BUDGET_POLICIES: tuple[str, ...] = ("execute", "halt", "raise")
JUDGE_ERROR_POLICIES: tuple[str, ...] = ("execute", "reject", "halt")
CONSENSUS = 0.0
"""The default weight of the samples' agreement in a best-of-N pick (:attr:`CriticOptions.consensus`): off."""


def _check_int(owner: str, name: str, value: Any, *, optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        kind = "an int or None" if optional else "an int"
        raise ConfigurationTypeError(f"{owner}.{name} must be {kind}, got {type(value).__name__}")


_D = TypeVar("_D", bound="DataclassInstance")


def _replace(obj: _D, changes: dict[str, Any]) -> _D:
    names = {f.name for f in fields(obj)}
    unknown = sorted(set(changes) - names)
    if unknown:
        takes = names | (BUDGET_FIELDS if isinstance(obj, CriticOptions) else set())
        raise ConfigurationTypeError(
            f"{type(obj).__name__}.override() got unknown option(s) {unknown}; it takes {sorted(takes)}"
        )
    return replace(obj, **changes)


@dataclass(unsafe_hash=True)
class CriticBudget(Frozen):
    """How much criticism one agent may buy. ``None`` means unlimited.

    * ``max_retries``: rejections sent back to the model per *turn* (the messages since
      the last ``HumanMessage``); counted from the transcript, so it survives checkpoints.
    * ``max_critic_calls``: judge calls per *run* (one ``invoke``/``ainvoke``/``stream``
      of the graph); a ranking of k candidates costs k calls (or the ranking's number of
      comparisons, if larger, plus one critique of the winner).
    * ``max_critic_tokens``: judge tokens (input + output) per run, checked before each
      judging step, so the last step may overshoot by its own cost.
    * ``max_critic_steps``: proposals the critic decides on per run (judged, decided by
      a budget, or replayed from a stored verdict). It bounds the agent loop the critic
      drives even when the other budgets are spent and the policy lets calls run (a
      policy stuck on one failing call, a model that repeats its message id): at the
      limit the critic ends the run as on ``"halt"`` (every tool_call_id answered, a
      closing AIMessage, ``reason="budget:max_critic_steps"``), or raises after that when
      ``on_budget_exhausted="raise"``; ``"execute"`` does not apply to it.

    Judge calls are counted as the backend calls the judge really makes (re-asks,
    retries, both pairwise orders, tournament matches), seen through LangChain
    callbacks; a judge that calls no LangChain model counts one call per judge method
    call (a ranking of k candidates: k).
    """

    max_retries: int = 2
    max_critic_calls: int | None = 100
    max_critic_tokens: int | None = None
    max_critic_steps: int | None = 50

    def __post_init__(self) -> None:
        _check_int("CriticBudget", "max_retries", self.max_retries, optional=False)
        for name in ("max_critic_calls", "max_critic_tokens", "max_critic_steps"):
            _check_int("CriticBudget", name, getattr(self, name), optional=True)
        if self.max_retries < 0:
            raise ConfigurationError(f"max_retries must be >= 0, got {self.max_retries}")
        for name in ("max_critic_calls", "max_critic_tokens", "max_critic_steps"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigurationError(f"{name} must be >= 0 or None, got {value}")

    def override(self, **changes: Any) -> CriticBudget:
        """A new, validated budget with ``changes`` applied."""
        return _replace(self, changes)



def _check_unit(owner: str, name: str, value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ConfigurationTypeError(f"{owner}.{name} must be a number in [0, 1], got {type(value).__name__}")
    if not 0.0 <= float(value) <= 1.0 or value != value:
        raise ConfigurationError(f"{owner}.{name} must be in [0, 1], got {value}")
    return float(value)


@dataclass(unsafe_hash=True)
class DecisionBands(Frozen):
    """Three bands by score: what the critic does with a judged proposal.

    * ``score >= accept``: the call runs;
    * ``uncertain <= score < accept``: ``on_uncertain`` applies: ``"retry"`` (critique and
      retry, the default), ``"resample"`` (up to ``n - 1`` more samples, the best kept;
      as retry when none is accepted) or ``"ask"`` (the uncertain calls go to a human
      through LangGraph's ``interrupt``; the run needs a checkpointer): approve, edit or
      reject per call; a resume with no decision (``Command(resume="timeout")``), or one that
      comes more than ``ask_timeout_s`` after the question, applies ``on_ask_timeout``
      to every escalated call;
    * ``score < uncertain``: rejected: critique and retry, or, for a tool named in
      ``block``, the run stops (every call answered, a closing message,
      ``reason="blocked"``).

    ``tools`` overrides the thresholds per tool: ``{"delete_file": (0.95, 0.8)}`` (accept,
    uncertain). Each call is placed by its own score (the judge's verdict on that call,
    else the proposal's score) and its tool's thresholds; the proposal takes the worst band
    of its calls, and a malformed call is always rejected. With bands, the score decides,
    not the judge's own ``accepted`` (see :attr:`toolrm_agent.core.verdicts.Critique.score`
    for what each judge's score means: a calibrated trained critic gives P(correct)).
    Validated at construction: ``0 <= uncertain <= accept <= 1`` for every tool.
    """

    accept: float = 0.5
    uncertain: float = 0.5
    """Equal to ``accept`` (the default): no uncertain band."""
    on_uncertain: UncertainAction = "retry"
    tools: Any = ()
    """Per-tool ``(accept, uncertain)``: a mapping on input, kept as sorted
    ``(name, accept, uncertain)`` triples (hashable, like every option)."""
    block: Any = frozenset()
    """Tools whose rejected calls stop the run instead of going back to the model."""
    ask_timeout_s: float | None = None
    """How long a human may take to answer an escalation (``None``: no deadline)."""
    on_ask_timeout: TimeoutDecision = "reject"
    """The decision for every escalated call when the human does not answer in time."""

    def __post_init__(self) -> None:
        accept = _check_unit("DecisionBands", "accept", self.accept)
        uncertain = _check_unit("DecisionBands", "uncertain", self.uncertain)
        if uncertain > accept:
            raise ConfigurationError(f"DecisionBands: uncertain ({uncertain}) must be <= accept ({accept})")
        if self.on_uncertain not in UNCERTAIN_ACTIONS:
            raise ConfigurationError(
                f"DecisionBands.on_uncertain must be one of {UNCERTAIN_ACTIONS}, got {self.on_uncertain!r}"
            )
        raw = self.tools
        items = raw.items() if isinstance(raw, Mapping) else [(t[0], tuple(t[1:])) for t in raw]
        triples: list[tuple[str, float, float]] = []
        for name, pair in items:
            if not isinstance(name, str) or not name:
                raise ConfigurationTypeError(f"DecisionBands.tools: a tool name must be a string, got {name!r}")
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise ConfigurationTypeError(
                    f"DecisionBands.tools[{name!r}] must be (accept, uncertain), got {pair!r}"
                )
            a = _check_unit("DecisionBands", f"tools[{name!r}].accept", pair[0])
            u = _check_unit("DecisionBands", f"tools[{name!r}].uncertain", pair[1])
            if u > a:
                raise ConfigurationError(f"DecisionBands.tools[{name!r}]: uncertain ({u}) must be <= accept ({a})")
            triples.append((name, a, u))
        if isinstance(self.block, str) or not all(isinstance(b, str) for b in self.block):
            raise ConfigurationTypeError("DecisionBands.block must be a collection of tool names")
        timeout = self.ask_timeout_s
        if timeout is not None and (not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0):
            raise ConfigurationError(f"DecisionBands.ask_timeout_s must be a number > 0 or None, got {timeout!r}")
        if self.on_ask_timeout not in ("approve", "reject"):
            raise ConfigurationError(
                f"DecisionBands.on_ask_timeout must be approve or reject, got {self.on_ask_timeout!r}"
            )
        object.__setattr__(self, "accept", accept)
        object.__setattr__(self, "uncertain", uncertain)
        object.__setattr__(self, "tools", tuple(sorted(triples)))
        object.__setattr__(self, "block", frozenset(self.block))

    def thresholds(self, tool: str | None) -> tuple[float, float]:
        """``(accept, uncertain)`` for ``tool`` (its own, else the defaults)."""
        for name, a, u in self.tools:
            if name == tool:
                return a, u
        return self.accept, self.uncertain

    def band_of(self, tool: str | None, score: float) -> Band:
        """The band of one call of ``tool`` scored ``score``."""
        accept, uncertain = self.thresholds(tool)
        if score >= accept:
            return "accept"
        if score >= uncertain:
            return "uncertain"
        return "block" if tool in self.block else "reject"

    def override(self, **changes: Any) -> DecisionBands:
        """A new, validated set of bands with ``changes`` applied."""
        if "tools" not in changes:
            changes["tools"] = {n: (a, u) for n, a, u in self.tools}
        return _replace(self, changes)


BAND_ORDER: dict[str, int] = {"accept": 0, "uncertain": 1, "reject": 2, "block": 3}
"""Worse bands are larger: a proposal takes the worst band of its calls."""


def proposal_band(bands: DecisionBands | None, critique: Critique, proposal: Proposal) -> Band:
    """Where the judged ``proposal`` falls. Without :class:`DecisionBands` the judge's
    own verdict decides (``accept`` or ``reject``); with them, each call's score and
    its tool's thresholds, the worst call deciding; a malformed call always rejects. A
    verdict the judge's failure policy filled in (:func:`policy_verdict`) is not placed by
    its neutral score: the judge's ``fail_open`` / ``fail_closed`` decides, as
    ``on_judge_error`` does for a judge that raises. (The engine's
    :meth:`~toolrm_agent.critic._engine.CriticEngine.band` and the decision log's replay
    both place proposals with it.)"""
    if bands is None or proposal.failures or policy_verdict(critique):
        return "accept" if judge_accepts(critique, proposal) else "reject"
    per_call = {v.tool_call_id: v for v in critique.calls}
    worst: Band = "accept"
    for call in proposal.calls:
        verdict = per_call.get(call.id)
        band = bands.band_of(call.name, verdict.score if verdict else critique.score)
        if BAND_ORDER[band] > BAND_ORDER[worst]:
            worst = band
    return worst


def policy_verdict(critique: Critique) -> bool:
    """The judge did not answer and its failure policy (``on_backend_error`` /
    ``on_unparseable``: ``fail_open`` or ``fail_closed``) filled in this verdict, with a
    neutral score (0.5) that says nothing about the call."""
    return critique.status in ("unparseable", "backend_error")


def judge_accepts(critique: Critique, proposal: Proposal) -> bool:
    """The judge accepted the proposal: ``accepted``, no malformed call, and no verdict
    on one of the proposal's calls that says otherwise (a judge that contradicts itself
    is taken at its ``no``). Verdicts for ids not in the proposal are ignored."""
    if not critique.accepted or proposal.failures:
        return False
    ids = set(proposal.ids)
    return not any(v.ok is False and v.tool_call_id in ids for v in critique.calls)


@dataclass(unsafe_hash=True)
class CriticOptions(Frozen):
    """Everything that decides what the critic does, apart from the judge itself: the one
    options object of :class:`~toolrm_agent.critic.node.ToolRMCritic` and
    :class:`~toolrm_agent.critic.middleware.ToolRMMiddleware` (``options=``; their keyword
    options build one). Immutable: change it with :meth:`override`::

        options = CriticOptions(mode="best_of_n", n=4, budget=CriticBudget(max_retries=1))
        stricter = options.override(on_judge_error="reject", max_retries=0)

    * ``mode``, ``n``: see :data:`Mode`; ``n`` is the number of candidates in
      ``best_of_n`` mode, the model's own proposal included.
    * ``budget``: see :class:`CriticBudget`.
    * ``on_budget_exhausted``: see :data:`BudgetPolicy`.
    * ``on_judge_error``: see :data:`JudgeErrorPolicy`.
    * ``judge_timeout_s``: seconds one judge call may take before it counts as a judge
      error (``None``: no limit of the critic's own; judges have their own timeouts).
      A sync call that times out is left to finish in a daemon thread, its answer
      dropped; any further LangChain model call it starts fails at once (it is
      cancelled through its callbacks), so an abandoned judge stops calling its backend.
    * A judge that declares itself fail-closed (``on_backend_error`` or
      ``on_unparseable`` is ``"fail_closed"``, as :class:`GenerativeJudge` does) is never
      failed open by the critic: an exception it raises anyway is handled as
      ``on_judge_error="reject"`` when the critic's policy is ``"execute"``.
    * ``max_concurrent_judge_calls``: at most this many judge calls of this critic in
      flight at once (``None``: no cap), for one critic shared by many concurrent runs
      in front of a server with a fixed number of slots. Sync runs share one cap across
      threads; async runs one cap per event loop. The wait for a slot counts toward
      ``judge_timeout_s`` (see :mod:`toolrm_agent.critic._limits`).
    * ``bands``: :class:`DecisionBands` (accept / uncertain / reject by score, per tool);
      ``None``: the judge's own ``accepted`` decides.
    * ``shadow``: judge and record what the critic would have done (state, and
      ``decision_log``), but never change the run: every proposal goes on as if there
      were no critic; no samples are drawn, no message is written.
    * ``consensus``: in ``best_of_n`` and ``resample``, the pick among several candidates
      is by the judge's verdict (or band) first, then by ``score + consensus × agreement``
      (:func:`toolrm_agent.core.agreement.consensus_pick`: a candidate's mean agreement with the
      other samples, identical samples each counted); ``0``: by verdict and score alone.
      Off by default: 0.3 was chosen on the dev half of the recorded BFCL models, where the
      candidates are different models' answers (``toolrm eval bon --consensus``); on one
      policy's own samples, which share its mistakes, live runs did not gain from it
      (train/RESULTS.md §3, §4). Try ``consensus=0.3`` with diverse proposers.
    * ``decision_log``: a JSONL file; one line per judged proposal (context, proposal,
      score, band, decision, critic identity), what ``toolrm replay`` re-scores.
    """

    mode: Mode = "retry"
    n: int = 4
    budget: CriticBudget = field(default_factory=CriticBudget)
    on_budget_exhausted: BudgetPolicy = "execute"
    on_judge_error: JudgeErrorPolicy = "execute"
    judge_timeout_s: float | None = None
    max_concurrent_judge_calls: int | None = None
    bands: DecisionBands | None = None
    shadow: bool = False
    decision_log: str | None = None
    consensus: float = CONSENSUS

    def __post_init__(self) -> None:
        _check_int("CriticOptions", "n", self.n, optional=False)
        if self.bands is not None and not isinstance(self.bands, DecisionBands):
            raise ConfigurationTypeError(f"bands must be DecisionBands or None, got {type(self.bands).__name__}")
        if not isinstance(self.shadow, bool):
            raise ConfigurationTypeError(f"CriticOptions.shadow must be a bool, got {type(self.shadow).__name__}")
        if self.decision_log is not None:
            if not isinstance(self.decision_log, str | PurePath):
                raise ConfigurationTypeError(
                    f"decision_log must be a path or None, got {type(self.decision_log).__name__}"
                )
            object.__setattr__(self, "decision_log", str(self.decision_log))
        _check_int("CriticOptions", "max_concurrent_judge_calls", self.max_concurrent_judge_calls, optional=True)
        timeout = self.judge_timeout_s
        if timeout is not None and (not isinstance(timeout, int | float) or isinstance(timeout, bool)):
            raise ConfigurationTypeError(
                f"CriticOptions.judge_timeout_s must be a number or None, got {type(timeout).__name__}"
            )
        if self.mode not in MODES:
            raise ConfigurationError(f"mode must be one of {MODES}, got {self.mode!r}")
        consensus = self.consensus
        if not isinstance(consensus, int | float) or isinstance(consensus, bool):
            raise ConfigurationTypeError(f"CriticOptions.consensus must be a number, got {type(consensus).__name__}")
        if not 0.0 <= consensus <= 10.0:
            raise ConfigurationError(f"consensus must be in [0, 10], got {consensus}")
        if self.n < 1:
            raise ConfigurationError(f"n must be >= 1, got {self.n}")
        if self.on_budget_exhausted not in BUDGET_POLICIES:
            raise ConfigurationError(
                f"on_budget_exhausted must be one of {BUDGET_POLICIES}, got {self.on_budget_exhausted!r}"
            )
        if self.on_judge_error not in JUDGE_ERROR_POLICIES:
            raise ConfigurationError(
                f"on_judge_error must be one of {JUDGE_ERROR_POLICIES}, got {self.on_judge_error!r}"
            )
        if self.judge_timeout_s is not None and self.judge_timeout_s <= 0:
            raise ConfigurationError(f"judge_timeout_s must be > 0 or None, got {self.judge_timeout_s}")
        if self.max_concurrent_judge_calls is not None and self.max_concurrent_judge_calls < 1:
            raise ConfigurationError(
                f"max_concurrent_judge_calls must be >= 1 or None, got {self.max_concurrent_judge_calls}"
            )
        if not isinstance(self.budget, CriticBudget):
            raise ConfigurationTypeError(f"budget must be a CriticBudget, got {type(self.budget).__name__}")

    @property
    def draws_samples(self) -> bool:
        """The critic may draw more proposals from the model (best-of-N, resample, or an
        uncertain band that resamples), so it needs a proposer; never in shadow mode."""
        if self.shadow:
            return False
        bands = self.bands
        return self.mode in ("best_of_n", "resample") or (bands is not None and bands.on_uncertain == "resample")

    def override(self, **changes: Any) -> CriticOptions:
        """A new, validated options object with ``changes`` applied; budget fields may be
        given directly (``options.override(max_retries=1)``)."""
        budget_changes = {k: changes.pop(k) for k in list(changes) if k in BUDGET_FIELDS}
        if budget_changes:
            base = changes.get("budget", self.budget)
            if not isinstance(base, CriticBudget):
                raise ConfigurationTypeError(f"budget must be a CriticBudget, got {type(base).__name__}")
            changes["budget"] = base.override(**budget_changes)
        return _replace(self, changes)


BUDGET_FIELDS = frozenset({"max_retries", "max_critic_calls", "max_critic_tokens", "max_critic_steps"})


class CriticKeywords(TypedDict, total=False):
    """The keyword options both adapters take (each a field of :class:`CriticOptions`, or
    of its budget). A keyword that is given is applied as given: ``None`` means what it
    means on the field, *no limit* (``max_critic_calls=None`` lifts that budget, in the
    constructor as in ``override``); on a field without a "no limit" (``mode``, ``n``,
    ``max_retries``, the policies) it raises
    :class:`~toolrm_agent.core.errors.ConfigurationTypeError` or
    :class:`~toolrm_agent.core.errors.ConfigurationError`. Leave a keyword out to keep the
    value of ``options=``."""

    mode: Mode
    n: int
    budget: CriticBudget
    max_retries: int
    max_critic_calls: int | None
    max_critic_tokens: int | None
    max_critic_steps: int | None
    on_budget_exhausted: BudgetPolicy
    on_judge_error: JudgeErrorPolicy
    judge_timeout_s: float | None
    max_concurrent_judge_calls: int | None
    bands: DecisionBands | None
    shadow: bool
    decision_log: str | None
    consensus: float


def make_options(options: CriticOptions | None = None, /, **keywords: Any) -> CriticOptions:
    """``options`` (default :class:`CriticOptions()`) with the keyword options applied
    (flat budget fields included), each as given: ``None`` lifts a limit, and is refused
    where a field has none (see :class:`CriticKeywords`). What both adapters build their
    options with."""
    if options is not None and not isinstance(options, CriticOptions):
        raise ConfigurationTypeError(f"options must be a CriticOptions, got {type(options).__name__}")
    unknown = sorted(set(keywords) - set(CriticKeywords.__annotations__))
    if unknown:
        raise ConfigurationTypeError(
            f"unknown critic option(s) {unknown}; the options are {sorted(CriticKeywords.__annotations__)}"
        )
    base = options or CriticOptions()
    return base.override(**keywords) if keywords else base
