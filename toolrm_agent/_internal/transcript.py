"""Keeping the transcript valid for chat APIs: the rules the critic enforces on messages.

OpenAI and Anthropic accept a transcript only if every assistant tool call has exactly
one answer (a tool message with its id) before the next assistant turn, and no tool
message answers a call that does not exist. LangChain allows things that break those
rules: a tool call with ``id=None``, two calls of one message with the same id, and a
name padded with spaces (``" get_weather "``), which the critic's parser strips but a
``ToolNode`` dispatches as is. :func:`repair_proposal` fixes such a message *before* it
is judged, so the critic judges, answers and lets run exactly the calls in the message
it writes back (under the same message id, so ``add_messages`` replaces the original).

The closing AIMessage of a halted run carries a marker in ``response_metadata`` (never
sent to a provider); :func:`halt_marker` reads it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from toolrm_agent._internal.state import ARTIFACT_KEY


def repair_proposal(ai: AIMessage, earlier: Sequence[BaseMessage] = ()) -> AIMessage:
    """``ai`` itself when its tool calls are well formed, else a copy (same message id)
    in which every call (valid and malformed) has a non-empty id unique within the
    message and not used by a call of an ``earlier`` message of the thread, and every
    valid call's name has no surrounding whitespace.

    New ids are derived from the message id and the call's position, so the same message
    is repaired the same way every time (a replayed run finds its stored verdicts).
    """
    seen: set[str] = used_call_ids(earlier)
    changed = False
    calls: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    for kind, source, target in (("call", ai.tool_calls, calls), ("invalid", ai.invalid_tool_calls, invalid)):
        for index, raw in enumerate(source):
            item = dict(raw)
            call_id = item.get("id")
            if not isinstance(call_id, str) or not call_id.strip() or call_id in seen:
                item["id"] = _derived_id(ai.id, kind, index, seen)
                changed = True
            name = item.get("name")
            if kind == "call" and isinstance(name, str) and name.strip() and name != name.strip():
                item["name"] = name.strip()
                changed = True
            seen.add(str(item["id"]))
            target.append(item)
    if not changed:
        return ai
    return ai.model_copy(update={"tool_calls": calls, "invalid_tool_calls": invalid})


def with_unique_id(message: BaseMessage, history: Sequence[BaseMessage]) -> BaseMessage:
    """``message`` itself, or a copy with a fresh id (``lc_run-<uuid4>``) when a message of
    ``history`` already has its id.

    Used where a model's answer is written to the thread (the graph's model node, the
    middleware's ``wrap_model_call``): ``add_messages`` would otherwise overwrite the
    earlier message in place (its tool calls then lose their answers, the transcript
    breaks), and a stored verdict for it could be replayed forever.
    """
    if message.id is None or not any(getattr(m, "id", None) == message.id for m in history):
        return message
    return message.model_copy(update={"id": f"lc_run-{uuid.uuid4()}"})


def used_call_ids(messages: Sequence[BaseMessage]) -> set[str]:
    """Every tool call id proposed by an AIMessage of ``messages``."""
    ids: set[str] = set()
    for message in messages:
        if isinstance(message, AIMessage):
            for call in [*message.tool_calls, *message.invalid_tool_calls]:
                call_id = call.get("id")
                if isinstance(call_id, str):
                    ids.add(call_id)
    return ids


def _derived_id(message_id: str | None, kind: str, index: int, taken: set[str]) -> str:
    seed = message_id or uuid.uuid4().hex
    salt = 0
    while True:
        digest = hashlib.sha256(f"{seed}:{kind}:{index}:{salt}".encode()).hexdigest()[:24]
        candidate = f"call_{digest}"
        if candidate not in taken:
            return candidate
        salt += 1


def halt_marker(message: BaseMessage | None) -> dict[str, Any] | None:
    """The critic's marker on the closing AIMessage of a run it halted, or ``None``."""
    if not isinstance(message, AIMessage) or message.tool_calls:
        return None
    marker = (message.response_metadata or {}).get(ARTIFACT_KEY)
    return marker if isinstance(marker, dict) else None


def pending_raise(messages: Sequence[BaseMessage]) -> dict[str, Any] | None:
    """The halt marker of the last message when the critic still has to raise
    :class:`~toolrm_agent.errors.BudgetExhaustedError` (``on_budget_exhausted="raise"``)."""
    marker = halt_marker(messages[-1]) if messages else None
    return marker if marker is not None and marker.get("raise") else None
