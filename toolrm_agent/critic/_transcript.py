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
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.parsing import (
    dump_value,
    load_arguments,
    proposal_from_message,
    to_langchain_invalid_tool_calls,
    to_langchain_tool_calls,
)
from toolrm_agent.core.specs import ToolSpec, spec_index
from toolrm_agent.critic._sanitize import clean_text, clean_value
from toolrm_agent.critic._state import ARTIFACT_KEY


def repair_proposal(
    ai: AIMessage, earlier: Sequence[BaseMessage] = (), tools: Sequence[ToolSpec] = ()
) -> AIMessage:
    """``ai`` itself when its tool calls are well formed, else a copy (same message id)
    whose calls are exactly what the critic judges and what the ``ToolNode`` will run:

    * every call (valid and malformed) has a non-empty string id, unique within the
      message and not used by a call of an ``earlier`` message of the thread;
    * all text is valid Unicode (names, ids, argument keys and values, the raw text and
      error of a malformed call, the content; :mod:`~toolrm_agent.critic._sanitize`);
    * a valid call's name has no surrounding white space and, when ``tools`` are given
      and the name is not offered but maps to one offered tool the way the judges map it
      (``a.b`` for ``a_b`` and back, :func:`~toolrm_agent.core.specs.spec_index`), it is that
      tool's name: the name judged is the name that executes;
    * a valid call's arguments are a dict with string keys: arguments given as JSON text
      (or ``None``) are decoded, as the critic's parser decodes them;
    * a call the parser cannot read (no name, arguments that are no JSON object, an
      entry that is no dict) is moved to ``invalid_tool_calls``: it is answered with an
      error and never reaches a tool.

    New ids are derived from the message id and the call's position, so the same message
    is repaired the same way every time (a replayed run finds its stored verdicts).
    """
    seen: set[str] = used_call_ids(earlier)
    changed = False
    calls: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    names = _Dispatch(tools)
    for kind, source in (("call", ai.tool_calls), ("invalid", ai.invalid_tool_calls)):
        for index, raw in enumerate(source or ()):
            item, moved, fixed = _repaired_item(kind, raw, names)
            changed = changed or moved or fixed
            call_id = item.get("id")
            if not isinstance(call_id, str) or not call_id.strip() or call_id in seen:
                item["id"] = _derived_id(ai.id, kind, index, seen)
                changed = True
            seen.add(str(item["id"]))
            (invalid if moved or kind == "invalid" else calls).append(item)
    content = clean_value(ai.content)
    if not changed and content is ai.content:
        return ai
    return ai.model_copy(update={"tool_calls": calls, "invalid_tool_calls": invalid, "content": content})


def _repaired_item(kind: str, raw: Any, names: _Dispatch) -> tuple[dict[str, Any], bool, bool]:
    """One entry of ``tool_calls`` (``kind="call"``) or ``invalid_tool_calls``, cleaned:
    ``(entry, moved, changed)``; ``moved`` when a ``tool_calls`` entry has to go to
    ``invalid_tool_calls``."""
    if not isinstance(raw, Mapping):
        entry = {"name": None, "args": clean_text(dump_value(raw)), "id": None,
                 "error": f"expected a call object, got {type(raw).__name__}", "type": "invalid_tool_call"}
        return entry, kind == "call", True
    item = dict(raw)
    old_id, old_name, old_args = item.get("id"), item.get("name"), item.get("args")
    if isinstance(old_id, str):
        item["id"] = clean_text(old_id)
    name = clean_text(old_name.strip() if kind == "call" else old_name) if isinstance(old_name, str) else None
    if kind == "invalid":
        item["name"] = name
        item["args"] = old_args if old_args is None else _raw_text(old_args)
        error = item.get("error")
        if isinstance(error, str):
            item["error"] = clean_text(error)
        fixed = any(item.get(k) is not raw.get(k) for k in ("id", "name", "args", "error"))
        return item, False, fixed
    if not name:
        return _invalid(item, None, "call has no function name"), True, True
    item["name"] = names.dispatched(name)
    if isinstance(old_args, dict) and all(isinstance(k, str) for k in old_args):
        item["args"] = clean_value(old_args)
    else:
        args, reason = load_arguments(old_args)
        if args is None:
            return _invalid(item, item["name"], reason or "bad arguments"), True, True
        item["args"] = clean_value(args)
    fixed = any(item.get(k) is not raw.get(k) for k in ("id", "name", "args"))
    return item, False, fixed


def _invalid(item: Mapping[str, Any], name: str | None, reason: str) -> dict[str, Any]:
    args = item.get("args")
    return {
        "name": name,
        "args": _raw_text(args),
        "id": item.get("id"),
        "error": clean_text(reason),
        "type": "invalid_tool_call",
    }


def _raw_text(args: Any) -> str:
    """The raw arguments of a malformed call as clean text."""
    return clean_text(args if isinstance(args, str) else "" if args is None else dump_value(args))


class _Dispatch:
    """The offered name a call's name runs as: the name itself when offered (or when no
    tools are known); else the one tool the judges match it to (``a.b`` for a tool
    offered as ``a_b``, ``a_b`` for ``a.b``: :func:`~toolrm_agent.core.specs.spec_index`)."""

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self.names = {spec.name for spec in tools}
        self.index = spec_index(tools) if tools else {}

    def dispatched(self, name: str) -> str:
        if not self.index or name in self.names:
            return name
        spec = self.index.get(name)
        if spec is None and "." in name:
            spec = self.index.get(name.replace(".", "_"))
        return spec.name if spec is not None else name


def executable_proposal(
    ai: AIMessage, earlier: Sequence[BaseMessage] = (), tools: Sequence[ToolSpec] = ()
) -> tuple[AIMessage, Proposal]:
    """The message that will run and the proposal the critic judges, which are the same
    calls byte for byte: ``ai`` repaired (:func:`repair_proposal`), then read by the
    critic's parser. Should the parser still read a call otherwise than the message
    holds it, the message is rebuilt from the parsed proposal (the rule that what is
    judged is what executes holds by construction, not by the repair's care alone)."""
    message = repair_proposal(ai, earlier, tools)
    proposal = proposal_from_message(message, parse_content=False)
    if not _runs_as_judged(message, proposal):
        message = message.model_copy(
            update={
                "tool_calls": to_langchain_tool_calls(proposal),
                "invalid_tool_calls": to_langchain_invalid_tool_calls(proposal),
            }
        )
    return message, proposal


def _runs_as_judged(message: AIMessage, proposal: Proposal) -> bool:
    """Each entry of ``message.tool_calls`` is the judged call of the same position (same
    id, same name, the very same arguments object or an equal dict with the same keys),
    and the malformed ones are exactly the proposal's failures."""
    if len(message.tool_calls) != len(proposal.calls):
        return False
    if [c.get("id") for c in message.invalid_tool_calls] != [f.id for f in proposal.failures]:
        return False
    for entry, call in zip(message.tool_calls, proposal.calls, strict=True):
        if entry.get("id") != call.id or entry.get("name") != call.name:
            return False
        args = entry.get("args")
        if args is not call.arguments and (
            type(args) is not dict or list(args) != list(call.arguments)
            or any(args[k] is not call.arguments[k] for k in args)
        ):
            return False
    return True


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


def pending_raise(
    messages: Sequence[BaseMessage], verdicts: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The halt marker of the last message when the critic still has to raise
    :class:`~toolrm_agent.core.errors.BudgetExhaustedError` (``on_budget_exhausted="raise"``).

    With ``verdicts`` (the critic's records) the marker counts only when a record says
    the critic wrote that very message: ``raise_after`` set and the same closing text (a
    model's ``response_metadata`` is no proof of anything)."""
    marker = halt_marker(messages[-1]) if messages else None
    if marker is None or not marker.get("raise"):
        return None
    if verdicts is not None:
        text = messages[-1].content
        if not any(
            isinstance(r, Mapping) and r.get("raise_after") and r.get("final_message") == text
            for r in verdicts.values()
        ):
            return None
    return marker
