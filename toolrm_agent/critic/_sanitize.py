"""The one sanitizing boundary: text that enters the critic is valid Unicode.

Text reaches the critic from the model (tool names, argument keys and values, call ids,
the raw text of a malformed call, content), from tools (results) and from the user. A
Python ``str`` may hold *lone surrogates* (``"\\ud800"``: a provider's cut-off
arguments, a bad decoder), which no UTF-8 encoder takes: hashing, JSON with
``ensure_ascii=False``, an HTTP judge or a checkpointer would raise on them. Every such
text is cleaned here, once, where it enters the critic:

* the proposal (:func:`toolrm_agent.critic._transcript.executable_proposal`): the
  cleaned message is the one written back, so the tools run exactly what was judged;
* the judge's context (:func:`clean_context`): the conversation and the offered tools.

Cleaning joins a surrogate *pair* into its character and replaces each lone surrogate
with U+FFFD. Clean text is returned as the very same object (a valid message is never
copied), so a run without such text behaves exactly as without the critic.
"""

from __future__ import annotations

from typing import Any

from toolrm_agent.core.calls import is_clean
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.specs import ToolSpec

MAX_DEPTH = 200
"""Values nested deeper than this are left as they are (the parser bounds them anyway)."""


def clean_text(text: str) -> str:
    """``text`` itself when valid; else surrogate pairs joined, lone ones as U+FFFD."""
    if is_clean(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def clean_value(value: Any, depth: int = 0) -> Any:
    """``value`` with every string (dict keys included) cleaned; the same object when
    nothing needed cleaning. Dicts, lists and tuples are walked; other values kept."""
    if isinstance(value, str):
        return clean_text(value)
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, dict):
        changed = False
        out: dict[Any, Any] = {}
        for key, item in value.items():
            new_key = clean_text(key) if isinstance(key, str) else key
            new_item = clean_value(item, depth + 1)
            changed = changed or new_key is not key or new_item is not item
            out[new_key] = new_item
        return out if changed else value
    if isinstance(value, list | tuple):
        items = [clean_value(v, depth + 1) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return items if isinstance(value, list) else tuple(items)
    return value


def clean_context(context: JudgeContext) -> JudgeContext:
    """``context`` itself when all its text is valid, else a cleaned copy (turns, their
    calls and ids, the tools' names, descriptions and schemas)."""
    turns = tuple(_clean_turn(t) for t in context.turns)
    tools = tuple(_clean_spec(s) for s in context.tools)
    same_turns = all(a is b for a, b in zip(turns, context.turns, strict=True))
    same_tools = all(a is b for a, b in zip(tools, context.tools, strict=True))
    if same_turns and same_tools:
        return context
    return JudgeContext.model_construct(turns=turns, tools=tools)


def _clean_turn(turn: Turn) -> Turn:
    content = clean_text(turn.content)
    call_id = clean_text(turn.tool_call_id) if turn.tool_call_id is not None else None
    calls = tuple(
        c.model_construct(id=clean_text(c.id), name=clean_text(c.name), arguments=clean_value(c.arguments))
        if not (is_clean(c.id) and is_clean(c.name) and clean_value(c.arguments) is c.arguments)
        else c
        for c in turn.tool_calls
    )
    if content is turn.content and call_id is turn.tool_call_id and all(
        a is b for a, b in zip(calls, turn.tool_calls, strict=True)
    ):
        return turn
    return Turn.model_construct(role=turn.role, content=content, tool_calls=calls, tool_call_id=call_id)


def _clean_spec(spec: ToolSpec) -> ToolSpec:
    name, description = clean_text(spec.name), clean_text(spec.description)
    parameters = clean_value(spec.parameters)
    if name is spec.name and description is spec.description and parameters is spec.parameters:
        return spec
    return ToolSpec.model_construct(name=name, description=description, parameters=parameters)
