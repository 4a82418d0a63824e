"""What the critic keeps in graph state, and how it reads the transcript.

State keys (shared by the LangGraph node and the ``create_agent`` middleware):

``toolrm_verdicts``  ``dict[tool_call_id, dict]``, merged key by key (:func:`merge_verdicts`).
                     One :class:`VerdictRecord` (as a JSON dict) per judged tool call.
``toolrm_usage``     ``dict[str, int]``, summed (:func:`add_usage`): the critic's totals over
                     the whole thread (checkpointed). Keys: :data:`USAGE_KEYS`.
``toolrm_run_usage`` the same counters for the current run only (an ``UntrackedValue``:
                     never checkpointed, so it starts empty on every ``invoke``); the
                     per-run budgets are checked against it.

Retries per turn are counted from the critic's own records (``toolrm_verdicts``, keyed by
tool_call_id), never from what a tool can write: every ``ToolMessage`` the critic writes
carries ``artifact={"toolrm": {"decision": ..., "reason": ...}}``, but a tool can return
the same artifact, so a marker is trusted only where the record agrees
(:func:`critic_marker` with ``verdicts``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import BaseModel, ConfigDict

from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall

VERDICTS_KEY = "toolrm_verdicts"
USAGE_KEY = "toolrm_usage"
RUN_USAGE_KEY = "toolrm_run_usage"
ARTIFACT_KEY = "toolrm"

USAGE_KEYS: tuple[str, ...] = (
    "critic_calls",  # judge calls (a ranking of k candidates counts k)
    "input_tokens",  # judge tokens in
    "output_tokens",  # judge tokens out
    "proposals_judged",  # proposals the critic decided on (reused verdicts excluded)
    "retries",  # proposals sent back to the model
    "samples",  # extra candidates drawn in best-of-N mode
    "replaced",  # proposals replaced by a better-ranked candidate
    "judge_errors",  # judge raised or timed out
    "budget_exhausted",  # a budget decided instead of the judge
    "halts",  # runs the critic ended
    "critic_steps",  # proposals decided on (judged, budget-decided or replayed)
    "repaired",  # proposals whose tool call ids or names the critic had to fix
    "resampled",  # proposals below the accept band that drew more samples (resample)
    "blocked",  # proposals stopped because a call of a blocked tool was rejected
    "shadow_interventions",  # shadow mode: proposals the critic would not have let run
    "escalations",  # proposals escalated to a human (the uncertain band, on_uncertain="ask")
)

Decision = Literal["execute", "retry", "halt", "ask"]


def merge_verdicts(
    left: Mapping[str, Any] | None, right: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Reducer of ``toolrm_verdicts``: later records replace earlier ones per tool_call_id."""
    return {**(left or {}), **(right or {})}


def add_usage(left: Mapping[str, int] | None, right: Mapping[str, int] | None) -> dict[str, int]:
    """Reducer of ``toolrm_usage``: counters are summed key by key."""
    out = dict(left or {})
    for key, value in (right or {}).items():
        out[key] = out.get(key, 0) + int(value)
    return out


def usage_tokens(usage: Mapping[str, int] | None) -> int:
    usage = usage or {}
    return int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0))


class VerdictRecord(BaseModel):
    """What the critic decided about one tool call, stored under its tool_call_id."""

    model_config = ConfigDict(frozen=True)

    tool_call_id: str
    name: str | None = None
    message_id: str | None = None
    """Id of the AIMessage that holds the call (after a best-of-N replacement, the id it
    took over)."""
    fingerprint: str
    """Hash of the proposal's canonical rendering: a stored verdict is reused only for the
    very proposal it was made for."""
    decision: Decision
    reason: str
    """``accepted``, ``rejected``, ``judge_error``, ``nothing_runnable`` or
    ``budget:<max_retries|max_critic_calls|max_critic_tokens|max_critic_steps>``."""
    accepted: bool | None = None
    """The judge's verdict on the whole proposal; ``None`` when it was not asked."""
    ok: bool | None = None
    """The judge's verdict on this call, when it gave one."""
    score: float | None = None
    judge: str | None = None
    status: str = "ok"
    """The judge's status (``ok``, ``unparseable``, ``backend_error``), ``error`` when it
    raised or timed out, ``frozen_judge`` when it raised ``FrozenError`` (it sets an
    attribute on itself while judging), ``skipped`` when a budget decided."""
    critique: str = ""
    codes: tuple[str, ...] = ()
    message: str = ""
    """The ToolMessage text the critic answers this call with (empty when it executes)."""
    final_message: str = ""
    """The closing AIMessage text when the decision is ``halt``."""
    mode: str = "retry"
    candidates: int = 1
    attempt: int = 0
    """Retries already spent in this turn when the decision was made."""
    error: str | None = None
    post_mortem: dict[str, Any] | None = None
    """How the judge got to this verdict: ``judge, attempts`` (backend calls, or judge
    calls for a judge without a LangChain model), ``errors``, ``input_tokens,
    output_tokens, seconds``; ``None`` when the judge was not asked."""
    raise_after: bool = False
    """The decision is ``halt`` and :class:`~toolrm_agent.core.errors.BudgetExhaustedError` is
    raised right after these answers are written (``on_budget_exhausted="raise"``)."""
    band: str | None = None
    """The proposal's decision band (``accept``, ``uncertain``, ``reject``, ``block``)
    when the judge answered; see :class:`~toolrm_agent.critic._options.DecisionBands`."""
    call_hash: str | None = None
    """Hash of this call's name and canonical arguments (:func:`call_hash`): a stored
    verdict is replayed only for the very call it was made for; a call changed after
    judging (a later middleware, a human edit) is judged again."""
    critic: str | None = None
    """The critic's judge (its name) and :attr:`critic_version` (the judge's ``version``,
    e.g. a digest of a trained critic's files): a verdict of another critic, or of another
    version of it, is never replayed."""
    critic_version: str | None = None
    call_band: str | None = None
    """This call's own band (its score and its tool's thresholds); ``band`` is the
    proposal's, the worst of its calls'."""
    asked_at: float | None = None
    """When the critic escalated this proposal to a human (``decision="ask"``; UNIX time):
    the start of ``DecisionBands.ask_timeout_s``."""
    human: str | None = None
    """The human's decision on this call after an escalation: ``approve``, ``edit``,
    ``reject``, or ``timeout`` (the configured default applied)."""
    shadow: bool = False
    """Written in shadow mode: what the critic would have done; the run went on as if
    there were no critic."""


def fingerprint(proposal: Proposal) -> str:
    """Hash of the proposal's canonical rendering. Never raises: text that is not valid
    Unicode (cleaned at the critic's boundary before it gets here) is hashed as is."""
    return hashlib.sha256(proposal.render().encode("utf-8", "surrogatepass")).hexdigest()[:16]


def call_hash(call: ToolCall | ParseFailure) -> str:
    """Hash of one call: its name and canonical arguments (ids left out); for a call that
    could not be parsed, its raw text."""
    text = call.canonical() if isinstance(call, ToolCall) else f"unparsed\x00{call.name}\x00{call.raw}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def last_ai_index(messages: Sequence[BaseMessage]) -> int | None:
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], AIMessage):
            return i
    return None


def answered_ids(messages: Sequence[BaseMessage]) -> set[str]:
    return {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}


def critic_marker(message: BaseMessage, verdicts: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The critic's marker on a ToolMessage it wrote, or ``None``.

    With ``verdicts`` (the ``toolrm_verdicts`` state key) the marker is trusted only when
    the critic's own record for that tool_call_id says the same: the decision matches and
    the message is the text the critic wrote. A tool controls its result's content and
    artifact, so a marker alone proves nothing; pass ``verdicts`` wherever the marker
    decides something.
    """
    artifact = getattr(message, "artifact", None)
    if not isinstance(message, ToolMessage) or not isinstance(artifact, dict):
        return None
    marker = artifact.get(ARTIFACT_KEY)
    if not isinstance(marker, dict):
        return None
    if verdicts is not None:
        record = verdicts.get(message.tool_call_id)
        if not isinstance(record, Mapping):
            return None
        if record.get("decision") != marker.get("decision") or record.get("message") != message.content:
            return None
    return marker


def retries_in_turn(messages: Sequence[BaseMessage], verdicts: Mapping[str, Any]) -> int:
    """Proposals the critic sent back since the last ``HumanMessage``.

    Counted from the critic's own state only: an AIMessage of the turn counts when one
    of its tool_call_ids has a record in ``verdicts`` with ``decision == "retry"`` made
    for that message (same message id). Nothing a tool returns (text, artifacts) counts.
    """
    start = 0
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], HumanMessage):
            start = i + 1
            break
    count = 0
    for message in messages[start:]:
        if not isinstance(message, AIMessage):
            continue
        for call in [*message.tool_calls, *message.invalid_tool_calls]:
            call_id = call.get("id")
            record = verdicts.get(call_id) if isinstance(call_id, str) else None
            if not isinstance(record, Mapping) or record.get("decision") != "retry":
                continue
            owner = record.get("message_id")
            if owner is None or message.id is None or owner == message.id:
                count += 1
                break
    return count


def state_get(state: Any, key: str, default: Any = None) -> Any:
    """``state[key]`` for dict states, ``state.key`` for pydantic/dataclass states."""
    if isinstance(state, Mapping):
        value = state.get(key, default)
    else:
        value = getattr(state, key, default)
    return default if value is None else value
