"""Escalation to a human: the uncertain band with ``DecisionBands(on_uncertain="ask")``.

1. The critic judges a proposal into the uncertain band: it stores its verdicts with
   ``decision="ask"`` (and the time it asked) and writes nothing else. The node routes to
   itself; the middleware's ``after_model`` reads them.
2. There, the stored verdict is replayed (the judge is not asked again, nothing is billed
   twice) and LangGraph's ``interrupt`` asks the human: the payload
   (:func:`review_request`) has the shape of LangChain's ``HumanInTheLoopMiddleware``
   request (``action_requests`` + ``review_configs``), one action per *escalated* call
   (a call in its uncertain band; its siblings in the accept band are not asked about),
   each with the proposal, the critic's score, band and critique, and a suggested edit
   when the critic has one (the shipped critics have none: ``None``).
3. ``graph.invoke(Command(resume={"decisions": [...]}), config)`` answers, one decision
   per action, in order: ``{"type": "approve"}``, ``{"type": "edit", "edited_action":
   {"name": ..., "args": {...}}}``, ``{"type": "reject", "message": "..."}``.
   :func:`resolve` applies them per call: approved calls run; a rejected call gets an
   error ToolMessage with the human's message and does not run, while its approved
   siblings do; an edited call is judged again (one judge call) and runs unless the
   critic now rejects it (reject band), in which case it gets the critique. When no call
   runs, the model gets control back. ``Command(resume="timeout")``, or any answer that comes
   more than ``ask_timeout_s`` after the question, applies ``on_ask_timeout``
   (``"reject"`` by default) to every escalated call (``human="timeout"``): the way an
   unattended run is let go. A malformed answer is asked again (a new ``interrupt`` whose
   request carries the ``error``).

The run needs a checkpointer (LangGraph's ``interrupt`` does).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig

from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.core.parsing import proposal_from_message
from toolrm_agent.core.verdicts import Critique
from toolrm_agent.critic._state import (
    ARTIFACT_KEY,
    VerdictRecord,
    add_usage,
    call_hash,
    fingerprint,
    last_ai_index,
)
from toolrm_agent.critic._transcript import repair_proposal
from toolrm_agent.prompting.prompt_text import cap_critique

if TYPE_CHECKING:
    from toolrm_agent.critic._engine import CriticEngine, Judged, Outcome

DECISIONS = ("approve", "edit", "reject")


def _proposal(messages: Sequence[BaseMessage]) -> tuple[int, AIMessage, AIMessage, Proposal]:
    index = last_ai_index(messages)
    if index is None:
        raise ConfigurationError("an escalation needs the proposal (an AIMessage) in state['messages']")
    original = messages[index]
    assert isinstance(original, AIMessage)
    ai = repair_proposal(original, messages[:index])
    return index, original, ai, proposal_from_message(ai, parse_content=False)


def escalated_calls(pending: Mapping[str, VerdictRecord], proposal: Proposal) -> list[ToolCall]:
    """The calls the human is asked about: those in their own uncertain band."""
    return [c for c in proposal.calls if pending[c.id].call_band == "uncertain"]


def review_request(engine: CriticEngine, messages: Sequence[BaseMessage],
                   pending: Mapping[str, VerdictRecord]) -> dict[str, Any]:
    """The ``interrupt`` payload (see the module docstring)."""
    bands = engine.options.bands
    assert bands is not None
    _, _, _, proposal = _proposal(messages)
    calls = escalated_calls(pending, proposal)
    asked = min((r.asked_at for r in pending.values() if r.asked_at is not None), default=time.time())
    deadline = None
    if bands.ask_timeout_s is not None:
        deadline = datetime.fromtimestamp(asked + bands.ask_timeout_s, UTC).isoformat(timespec="seconds")
    actions = []
    for call in calls:
        record = pending[call.id]
        accept, _ = bands.thresholds(call.name)
        score = "-" if record.score is None else f"{record.score:.2f}"
        description = f"The critic is unsure of this call: it scored {score}; calls run from {accept:.2f}."
        if record.critique:
            description += f" {record.critique}"
        actions.append({
            "name": call.name,
            "args": dict(call.arguments),
            "description": description,
            "tool_call_id": call.id,
            "score": record.score,
            "band": record.call_band,
            "critique": record.critique,
            "suggested_edit": None,
        })
    return {
        "type": "toolrm_review",
        "action_requests": actions,
        "review_configs": [{"action_name": c.name, "allowed_decisions": list(DECISIONS)} for c in calls],
        "proposal": proposal.render(),
        "critic": engine.judge_name,
        "deadline": deadline,
        "on_timeout": bands.on_ask_timeout,
    }


def parse_decisions(resume: Any, n: int, *, expired: bool, default: str) -> list[dict[str, Any]]:
    """One decision per escalated call (see the module docstring); a malformed answer
    raises :class:`~toolrm_agent.core.errors.ConfigurationError`."""
    if resume is None or (isinstance(resume, str) and resume == "timeout") or expired:
        return [{"type": default, "timeout": True} for _ in range(n)]
    if isinstance(resume, Mapping) and "decisions" in resume:
        decisions = resume["decisions"]
    elif isinstance(resume, Mapping) and "type" in resume and n == 1:
        decisions = [resume]
    else:
        decisions = resume
    if not isinstance(decisions, Sequence) or isinstance(decisions, str) or len(decisions) != n:
        raise ConfigurationError(
            f"resume an escalation with {{'decisions': [...]}}, one decision per escalated call ({n}); "
            f"got {resume!r:.300}"
        )
    out: list[dict[str, Any]] = []
    for d in decisions:
        if not isinstance(d, Mapping) or d.get("type") not in DECISIONS:
            raise ConfigurationError(f"a decision is {{'type': one of {DECISIONS}, ...}}; got {d!r:.300}")
        if d["type"] == "edit":
            action = d.get("edited_action")
            if (not isinstance(action, Mapping) or not isinstance(action.get("name"), str)
                    or not isinstance(action.get("args"), Mapping)):
                raise ConfigurationError(
                    f"an edit needs 'edited_action': {{'name': str, 'args': dict}}; got {d!r:.300}"
                )
        out.append(dict(d))
    return out


def _edited(ai: AIMessage, decisions: Mapping[str, dict[str, Any]]) -> AIMessage:
    if not any(d["type"] == "edit" for d in decisions.values()):
        return ai
    calls = []
    for call in ai.tool_calls:
        d = decisions.get(call["id"] or "")
        if d is not None and d["type"] == "edit":
            action = d["edited_action"]
            call = {**call, "name": action["name"], "args": dict(action["args"])}
        calls.append(call)
    return ai.model_copy(update={"tool_calls": calls})


def prepare(engine: CriticEngine, messages: Sequence[BaseMessage], pending: Mapping[str, VerdictRecord],
            resume: Any) -> tuple[AIMessage, AIMessage, AIMessage, dict[str, dict[str, Any]], list[BaseMessage]]:
    """(the proposal as in the transcript, as the critic read it (repaired), with the
    human's edits; the decision per escalated tool_call_id; the transcript with the
    edited proposal)."""
    bands = engine.options.bands
    assert bands is not None
    index, original, ai, proposal = _proposal(messages)
    calls = escalated_calls(pending, proposal)
    asked = min((r.asked_at for r in pending.values() if r.asked_at is not None), default=time.time())
    expired = bands.ask_timeout_s is not None and time.time() - asked > bands.ask_timeout_s
    decisions = parse_decisions(resume, len(calls), expired=expired, default=bands.on_ask_timeout)
    by_id = {c.id: d for c, d in zip(calls, decisions, strict=True)}
    edited = _edited(ai, by_id)
    return original, ai, edited, by_id, [*messages[:index], edited]


def resolve(
    engine: CriticEngine,
    ai: AIMessage,
    edited: AIMessage,
    decisions: Mapping[str, dict[str, Any]],
    pending: Mapping[str, VerdictRecord],
    run_usage: Mapping[str, int],
    judged: Judged | None,
    original: AIMessage,
) -> Outcome:
    """The outcome of the human's decisions (``judged``: the critic's verdict on the
    edited proposal, when there was an edit)."""
    from toolrm_agent.critic._engine import Outcome, _final_text, budget_error

    proposal = proposal_from_message(edited, parse_content=False)
    critique: Critique | None = judged.critique if judged is not None else None
    usage: dict[str, int] = {}
    if judged is not None:
        usage.update(critic_calls=judged.calls, input_tokens=judged.input_tokens,
                     output_tokens=judged.output_tokens, proposals_judged=1)
    fp = fingerprint(proposal)
    decided: dict[str, tuple[bool, str, str, float | None, str | None]] = {}
    for call in proposal.calls:
        base = pending[call.id]
        d = decisions.get(call.id)
        kind = None if d is None else ("timeout" if d.get("timeout") else d["type"])
        runs, reason, message = True, base.reason if d is None else f"human:{kind}", ""
        score = base.score
        if d is not None and d["type"] == "reject":
            runs = False
            message = "Not executed: a human reviewer rejected this call."
            if d.get("timeout"):
                message = "Not executed: the critic asked a human about this call and got no answer in time."
            if d.get("message"):
                message += f" {cap_critique(str(d['message']))}"
        elif d is not None and d["type"] == "edit" and critique is not None:
            verdict = next((v for v in critique.calls if v.tool_call_id == call.id), None)
            score = verdict.score if verdict else critique.score
            if engine.call_band(critique, call) in ("reject", "block"):
                runs, reason = False, "human:edit_rejected"
                message = "Not executed: the critic rejected the edited call."
                if critique.text:
                    message += f" {cap_critique(critique.text)}"
        decided[call.id] = (runs, reason, message, score, kind)
    any_runs = any(runs for runs, *_ in decided.values())
    # nothing runs and the turn's retry budget is spent: the run stops (a call a human or
    # the timeout rejected never runs, whatever on_budget_exhausted says), as a rejection
    # in retry mode would; without this an unattended run looped on the timeout's "reject"
    budget = engine.options.budget
    spent = not any_runs and max((r.attempt for r in pending.values()), default=0) >= budget.max_retries
    policy = engine.options.on_budget_exhausted
    final = _final_text("budget:max_retries", "", False, budget.max_retries) if spent else ""
    records: dict[str, VerdictRecord] = {}
    answers: list[BaseMessage] = []
    for call in proposal.calls:
        base = pending[call.id]
        runs, reason, message, score, kind = decided[call.id]
        if not runs and not spent:
            message += "\nRevise the call(s) and try again."
        decision = "execute" if runs else ("halt" if spent else "retry")
        records[call.id] = base.model_copy(update={
            "name": call.name,
            "fingerprint": fp,
            "call_hash": call_hash(call),
            "decision": decision,
            "reason": ("budget:max_retries" if spent else reason) if kind is not None or runs else base.reason,
            "human": kind,
            "message": message,
            "score": score,
            "final_message": final,
            "raise_after": spent and policy == "raise",
        })
        if not runs:
            answers.append(ToolMessage(
                content=message, tool_call_id=call.id, name=call.name, status="error",
                artifact={ARTIFACT_KEY: {"decision": decision, "reason": records[call.id].reason}},
            ))
    if spent:
        usage.update(budget_exhausted=1, halts=1)
        marker = {"decision": "halt", "reason": "budget:max_retries", "raise": policy == "raise"}
        answers.append(AIMessage(content=final, response_metadata={ARTIFACT_KEY: marker}))
    elif not any_runs:
        usage["retries"] = 1
    replaces = edited is not ai or ai is not original
    messages: list[BaseMessage] = ([edited] if replaces else []) + answers
    kinds = sorted({str(r.human) for r in records.values() if r.human})
    run_usage_after = add_usage(run_usage, usage)
    if spent:
        return Outcome(
            route="halt",
            messages=messages,
            records={k: v.model_dump(mode="json") for k, v in records.items()},
            usage=usage,
            run_usage=run_usage_after,
            reason="budget:max_retries",
            proposal=edited if replaces else None,
            raise_error=budget_error("budget:max_retries", engine.options, run_usage_after, answers)
            if policy == "raise" else None,
        )
    return Outcome(
        route="execute" if any_runs else "retry",
        messages=messages,
        records={k: v.model_dump(mode="json") for k, v in records.items()},
        usage=usage,
        run_usage=run_usage_after,
        reason="human:" + ",".join(kinds) if kinds else "accepted",
        proposal=edited if replaces else None,
        partial=any_runs and bool(answers),
    )


def review(engine: CriticEngine, messages: Sequence[BaseMessage], pending: Mapping[str, VerdictRecord],
           run_usage: Mapping[str, int], config: RunnableConfig | None) -> Outcome:
    """Ask the human (``interrupt``) and apply the answer (sync)."""
    from langgraph.types import interrupt

    original, ai, edited, decisions, transcript = _ask(interrupt, engine, messages, pending)
    judged = _judge_edit(engine, edited, ai, transcript, run_usage, config)
    return resolve(engine, ai, edited, decisions, pending, run_usage, judged, original)


async def areview(engine: CriticEngine, messages: Sequence[BaseMessage], pending: Mapping[str, VerdictRecord],
                  run_usage: Mapping[str, int], config: RunnableConfig | None) -> Outcome:
    """Async twin of :func:`review`."""
    from langgraph.types import interrupt

    from toolrm_agent.critic._engine import Step

    original, ai, edited, decisions, transcript = _ask(interrupt, engine, messages, pending)
    judged = None
    if edited is not ai:
        step = engine.begin(transcript, verdicts={}, run_usage=run_usage, count_replay=False)
        if isinstance(step, Step) and step.blocked is None:
            judged = await engine.aask(step, (), config)
    return resolve(engine, ai, edited, decisions, pending, run_usage, judged, original)


def _ask(
    interrupt: Any, engine: CriticEngine, messages: Sequence[BaseMessage], pending: Mapping[str, VerdictRecord]
) -> tuple[AIMessage, AIMessage, AIMessage, dict[str, dict[str, Any]], list[BaseMessage]]:
    """Ask until the answer reads: a malformed one is asked again, its error in the
    request (``"error"``), so a typo never poisons the thread."""
    request = review_request(engine, messages, pending)
    while True:
        resume = interrupt(request)
        try:
            return prepare(engine, messages, pending, resume)
        except ConfigurationError as exc:
            request = {**request, "error": str(exc)}


def _judge_edit(engine: CriticEngine, edited: AIMessage, ai: AIMessage, transcript: Sequence[BaseMessage],
                run_usage: Mapping[str, int], config: RunnableConfig | None) -> Judged | None:
    from toolrm_agent.critic._engine import Step

    if edited is ai:
        return None
    step = engine.begin(transcript, verdicts={}, run_usage=run_usage, count_replay=False)
    if not isinstance(step, Step) or step.blocked is not None:
        return None
    return engine.ask(step, (), config)


__all__ = ["DECISIONS", "areview", "escalated_calls", "parse_decisions", "resolve", "review", "review_request"]
