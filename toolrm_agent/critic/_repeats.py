"""A call repeated after it already ran in this turn: a finding of the critic, whatever the judge.

A small policy that is told nothing new tends to propose, again and again, the call whose
result it already has (observed: the same executed call seven times in one turn). A judge
that looks at one proposal sees a valid call and approves it. The engine adds the finding
itself (:data:`~toolrm_agent.core.verdicts.IssueCode.REPEATED_CALL`, an error) to the judge's
critique: a call identical (same name, same arguments) to one that was **executed** in this
turn (since the last user message) and whose result is in the transcript. A call whose
earlier run failed (an error ToolMessage, a call the critic sent back) may be tried again.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.parsing import message_text, proposal_from_message
from toolrm_agent.core.verdicts import CallVerdict, Critique, Issue, IssueCode
from toolrm_agent.critic._state import critic_marker

__all__ = ["executed_in_turn", "flag_repeats"]

RESULT_CHARS = 200
"""How much of the earlier result the critique quotes."""


def executed_in_turn(messages: Sequence[BaseMessage]) -> dict[str, str]:
    """``{canonical call: its result}`` for the calls that ran (a non-error ToolMessage
    answers them) since the last ``HumanMessage``."""
    start = 0
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], HumanMessage):
            start = i + 1
            break
    calls: dict[str, str] = {}
    out: dict[str, str] = {}
    for message in messages[start:]:
        if isinstance(message, AIMessage) and message.tool_calls:
            for call in proposal_from_message(message, parse_content=False).calls:
                calls[call.id] = call.canonical()
        elif isinstance(message, ToolMessage) and message.tool_call_id in calls:
            if message.status == "error" or critic_marker(message) is not None:
                continue
            out.setdefault(calls[message.tool_call_id], message_text(message.content))
    return out


def flag_repeats(before: Sequence[BaseMessage], proposal: Proposal, critique: Critique) -> Critique:
    """``critique`` with a ``repeated_call`` error on each call of ``proposal`` that already
    ran in this turn (see the module docstring); unchanged when there is none."""
    executed = executed_in_turn(before)
    if not executed:
        return critique
    found: dict[str, Issue] = {}
    for call in proposal.calls:
        result = executed.get(call.canonical())
        if result is None:
            continue
        quoted = result if len(result) <= RESULT_CHARS else result[:RESULT_CHARS] + "…"
        found[call.id] = Issue(
            code=IssueCode.REPEATED_CALL,
            message=(
                f"`{call.canonical()}` already ran in this turn and its result is in the conversation "
                f"above ({quoted!r}); use that result to answer, or change the arguments if you need "
                "something else."
            ),
        )
    if not found:
        return critique
    verdicts = {v.tool_call_id: v for v in critique.calls}
    calls: list[CallVerdict] = []
    for call in proposal.calls:
        old = verdicts.pop(call.id, None)
        issue = found.get(call.id)
        if issue is None:
            if old is not None:
                calls.append(old)
            continue
        feedback = " ".join(x for x in ((old.feedback if old else ""), issue.message) if x)
        calls.append(
            CallVerdict(
                tool_call_id=call.id,
                name=call.name,
                ok=False,
                score=0.0,
                issues=(*(old.issues if old else ()), issue),
                feedback=feedback,
            )
        )
    calls.extend(verdicts.values())
    text = "\n".join(x for x in (critique.text, *(i.message for i in found.values())) if x)
    return critique.override(accepted=False, score=min(critique.score, 0.5) * 0.5, text=text, calls=tuple(calls))
