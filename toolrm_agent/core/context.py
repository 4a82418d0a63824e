"""What a judge sees besides the proposal: the conversation so far and the offered tools."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from toolrm_agent.core._frozen import validated_override
from toolrm_agent.core.calls import ToolCall
from toolrm_agent.core.parsing import message_text, proposal_from_message
from toolrm_agent.core.specs import ToolSpec, to_specs

Role = Literal["system", "user", "assistant", "tool"]


class Turn(BaseModel):
    """One message of the conversation, in a backend-neutral form."""

    model_config = ConfigDict(frozen=True)

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


class JudgeContext(BaseModel):
    """The conversation before the proposal, and the tools the agent was offered."""

    model_config = ConfigDict(frozen=True)

    turns: tuple[Turn, ...] = ()
    tools: tuple[ToolSpec, ...] = ()

    def override(self, **changes: Any) -> JudgeContext:
        """A validated copy with ``changes`` applied."""
        return validated_override(self, changes)

    @classmethod
    def build(cls, turns: Iterable[Turn] = (), tools: Iterable[Any] | None = None) -> JudgeContext:
        """From turns and any mix of tool descriptions (see :func:`to_specs`)."""
        return cls(turns=tuple(turns), tools=to_specs(tools))

    @classmethod
    def from_messages(
        cls, messages: Sequence[Any], tools: Iterable[Any] | None = None
    ) -> JudgeContext:
        """From LangChain messages (or OpenAI-style ``{"role", "content"}`` dicts)."""
        turns: list[Turn] = []
        for msg in messages:
            if isinstance(msg, dict):
                content = msg.get("content") or ""
                turns.append(
                    Turn(
                        role=_role(str(msg.get("role", "user"))),
                        content=content if isinstance(content, str) else json.dumps(content),
                        tool_call_id=msg.get("tool_call_id"),
                    )
                )
                continue
            kind = getattr(msg, "type", "human")
            role = _KIND_ROLES.get(kind, "user")
            content = message_text(getattr(msg, "content", ""))
            calls: tuple[ToolCall, ...] = ()
            if role == "assistant":
                calls = proposal_from_message(msg).calls
            turns.append(
                Turn(
                    role=role,
                    content=content,
                    tool_calls=calls,
                    tool_call_id=getattr(msg, "tool_call_id", None),
                )
            )
        return cls(turns=tuple(turns), tools=to_specs(tools))

    @property
    def user_request(self) -> str:
        """The last user message (what the agent is asked to do)."""
        for turn in reversed(self.turns):
            if turn.role == "user":
                return turn.content
        return ""

    def grounding_text(self) -> str:
        """All text a value could have come from: system, user and tool messages."""
        return "\n".join(t.content for t in self.turns if t.role in ("system", "user", "tool"))


_KIND_ROLES: dict[str, Role] = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
"""A LangChain message's ``type`` -> its role."""


def _role(role: str) -> Role:
    # any other role passes through on purpose, for Turn's validation to reject; so this
    # can return a str that is no Role
    return {"human": "user", "ai": "assistant", "function": "tool"}.get(role, role)  # type: ignore[return-value]
