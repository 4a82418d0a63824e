"""The one typed shape of a proposed function call, and its canonical rendering.

Every call shape the world produces (LangChain ``AIMessage.tool_calls``, OpenAI
``tool_calls``, Hermes ``<tool_call>`` text, BFCL strings and FC lists) is parsed by
:mod:`toolrm_agent.core.parsing` into these models. A call that cannot be parsed becomes a
:class:`ParseFailure` that carries the reason; nothing here raises on bad input.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from toolrm_agent.core._frozen import validated_override


def new_call_id() -> str:
    """A fresh tool call id in the OpenAI style (``call_<hex>``)."""
    return f"call_{uuid.uuid4().hex[:24]}"


class ToolCall(BaseModel):
    """One function call: an id, a function name and its keyword arguments."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=new_call_id)
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)

    def canonical(self) -> str:
        """The call as one Hermes-style JSON object, argument keys sorted, no id."""
        return json.dumps(
            {"name": self.name, "arguments": _canonical_value(self.arguments)},
            ensure_ascii=False,
            default=str,  # a value JSON cannot hold (a datetime, say) renders as its str
        )

    def override(self, **changes: Any) -> ToolCall:
        """A validated copy with ``changes`` applied (the object itself is immutable)."""
        return validated_override(self, changes)


class ParseFailure(BaseModel):
    """A call that could not be parsed: what was seen and why it was refused."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=new_call_id)
    name: str | None = None
    raw: str
    reason: str


class Proposal(BaseModel):
    """What a model proposed in one assistant turn: parsed calls, failures and text."""

    model_config = ConfigDict(frozen=True)

    calls: tuple[ToolCall, ...] = ()
    failures: tuple[ParseFailure, ...] = ()
    content: str = ""

    @property
    def ids(self) -> list[str]:
        """Every tool call id in the proposal, valid calls first, then failures."""
        return [c.id for c in self.calls] + [f.id for f in self.failures]

    @property
    def is_empty(self) -> bool:
        """True when the proposal holds no call at all (not even a broken one)."""
        return not self.calls and not self.failures

    def override(self, **changes: Any) -> Proposal:
        """A validated copy with ``changes`` applied."""
        return validated_override(self, changes)

    def render(self) -> str:
        """Canonical Hermes rendering for critic prompts.

        Two proposals that mean the same render the same: argument keys are sorted,
        ids are dropped, the calls are sorted (parallel calls are a set) and free text
        around the calls is left out. Broken calls are shown verbatim, marked as such.
        """
        blocks = sorted(f"<tool_call>\n{c.canonical()}\n</tool_call>" for c in self.calls)
        blocks += [
            f"<tool_call_unparsed reason={json.dumps(f.reason)}>\n{f.raw}\n</tool_call_unparsed>"
            for f in self.failures
        ]
        if not blocks:
            return "(no function call)"
        return "\n".join(blocks)


MAX_DEPTH = 64
"""Arguments nested deeper than this render as a marker: no recursion limit is reached."""

MAX_INT_DIGITS = 1000
"""Integers longer than this render as a marker (Python refuses to print them at 4300)."""


def _canonical_value(value: Any, depth: int = 0) -> Any:
    """Normalise values so equal meanings serialise equally (sorted keys, tuples → lists).

    Bounded: a value nested deeper than :data:`MAX_DEPTH` becomes ``"<nested too
    deep>"``, an integer of more than :data:`MAX_INT_DIGITS` digits ``"<integer of N
    bits>"``, and a string with lone surrogates gets them replaced, so rendering never
    raises on a call a server could send.
    """
    if depth > MAX_DEPTH:
        return "<nested too deep>"
    if isinstance(value, dict):
        return {str(k): _canonical_value(value[k], depth + 1) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [_canonical_value(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical_value(v, depth + 1) for v in value), key=repr)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_DIGITS * 3.33:
        return f"<integer of {value.bit_length()} bits>"
    if isinstance(value, str):
        return value if is_clean(value) else value.encode("utf-8", "replace").decode("utf-8")
    return value


def is_clean(text: str) -> bool:
    """True when ``text`` encodes as UTF-8 (it holds no surrogate code point)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
