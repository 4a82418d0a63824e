"""The one normalized training record: a context and the ground truth of the next turn.

Every dataset reader in :mod:`train.sources` turns its native format into
:class:`TrainRecord` objects, one per assistant turn that has a known answer. The
record is plain JSON (one object per line in ``records.jsonl``) so that any dataset in
the OpenAI tools format can be fed to the same pipeline (see
:func:`train.sources.openai_format.read`).

Fields:

* ``tools`` — the offered functions, each an OpenAI tools entry
  (``{"type": "function", "function": {"name", "description", "parameters"}}``) whose
  ``parameters`` is a JSON schema (``type: object``, ``properties``, ``required``).
* ``messages`` — the conversation before the answer, OpenAI chat messages:
  ``{"role": "system" | "user" | "assistant" | "tool", "content": str}``; an assistant
  message may carry ``tool_calls`` (``[{"id", "name", "arguments"}]``, arguments a dict)
  and a tool message a ``tool_call_id``.
* ``calls`` — the ground-truth calls of the next assistant turn
  (``[{"name": str, "arguments": dict}]``, order not significant).
* ``no_call`` — True when the right next turn calls nothing (no offered tool fits);
  ``calls`` is then empty.

``source`` names the dataset (``hammerbench``), ``subset`` the file or split inside
it (``ST_Perfect``) and ``id`` is unique over all sources (``hammerbench/ST_Perfect/17/0``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.jsonl import read_models, write_models
from toolrm_agent.core.parsing import to_langchain_tool_calls
from toolrm_agent.core.specs import ToolSpec

Complexity = Literal["irrelevance", "simple", "multiple", "parallel", "parallel_multiple", "multi_turn"]
"""Task complexity, in BFCL's terms: one call with one tool offered (simple), one call
among several tools (multiple), several calls of one function (parallel), several calls
of several functions (parallel_multiple), a later turn of a dialogue (multi_turn), or
nothing to call (irrelevance)."""


class GroundTruthCall(BaseModel):
    """One call of the ground truth: a function name and its arguments."""

    model_config = ConfigDict(frozen=True)

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class TrainRecord(BaseModel):
    """One context and the correct next assistant turn (see the module docstring)."""

    model_config = ConfigDict(frozen=True)

    id: str
    source: str
    subset: str = ""
    tools: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    calls: list[GroundTruthCall] = Field(default_factory=list)
    no_call: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> TrainRecord:
        if self.no_call and self.calls:
            raise ValueError(f"{self.id}: a no_call record has ground-truth calls")
        if not self.no_call and not self.calls:
            raise ValueError(f"{self.id}: no ground-truth calls and no_call is False")
        if not any(m.get("role") == "user" for m in self.messages):
            raise ValueError(f"{self.id}: the history has no user message")
        return self

    # -- views the pipeline uses ---------------------------------------------------------

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(ToolSpec.from_openai(t) for t in self.tools)

    def context(self) -> JudgeContext:
        """The conversation and tools as the runtime's :class:`JudgeContext`."""
        turns: list[Turn] = []
        for i, m in enumerate(self.messages):
            role = m.get("role", "user")
            calls = tuple(
                ToolCall(
                    id=str(c.get("id") or f"h{i}_{j}"),
                    name=str(c["name"]),
                    arguments=dict(c.get("arguments") or {}),
                )
                for j, c in enumerate(m.get("tool_calls") or ())
            ) if role == "assistant" else ()
            turns.append(
                Turn(
                    role=role,
                    content=str(m.get("content") or ""),
                    tool_calls=calls,
                    tool_call_id=m.get("tool_call_id"),
                )
            )
        return JudgeContext(turns=tuple(turns), tools=self.specs())

    def ground_truth(self) -> Proposal:
        """The correct next turn as a :class:`Proposal` (empty for ``no_call``)."""
        return Proposal(
            calls=tuple(
                ToolCall(id=f"gt_{i}", name=c.name, arguments=dict(c.arguments))
                for i, c in enumerate(self.calls)
            )
        )

    def langchain_messages(self) -> list[Any]:
        """The history as LangChain messages (what a policy model is asked with)."""
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

        out: list[Any] = []
        for i, m in enumerate(self.messages):
            role, content = m.get("role"), str(m.get("content") or "")
            if role == "system":
                out.append(SystemMessage(content))
            elif role == "assistant":
                calls = Proposal(calls=tuple(
                    ToolCall(id=str(c.get("id") or f"h{i}_{j}"), name=str(c["name"]),
                             arguments=dict(c.get("arguments") or {}))
                    for j, c in enumerate(m.get("tool_calls") or ())
                ))
                out.append(AIMessage(content, tool_calls=to_langchain_tool_calls(calls)))
            elif role == "tool":
                out.append(ToolMessage(content, tool_call_id=str(m.get("tool_call_id") or "")))
            else:
                out.append(HumanMessage(content))
        return out

    def last_user_text(self) -> str:
        return next(
            (str(m.get("content") or "") for m in reversed(self.messages) if m.get("role") == "user"),
            "",
        )

    @property
    def complexity(self) -> Complexity:
        if self.no_call:
            return "irrelevance"
        if any(m.get("role") in ("assistant", "tool") for m in self.messages):
            return "multi_turn"
        names = {c.name for c in self.calls}
        if len(self.calls) == 1:
            return "simple" if len(self.tools) == 1 else "multiple"
        return "parallel" if len(names) == 1 else "parallel_multiple"

    def fingerprint(self) -> str:
        """Hash of what the model sees and must answer: equal records dedupe."""
        body = json.dumps(
            {
                "tools": sorted(json.dumps(t, sort_keys=True) for t in self.tools),
                "messages": self.messages,
                "calls": sorted(json.dumps(c.model_dump(), sort_keys=True) for c in self.calls),
                "no_call": self.no_call,
            },
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha1(body.encode("utf-8", "surrogatepass")).hexdigest()


def write_records(records: Iterable[TrainRecord], path: Path) -> int:
    """Write records as JSON lines (atomically: a temp file renamed at the end)."""
    return write_models(records, path)


def read_records(path: Path) -> Iterator[TrainRecord]:
    return read_models(path, TrainRecord)


def openai_tool(name: str, description: str, properties: dict[str, Any], required: Iterable[str]) -> dict[str, Any]:
    """An OpenAI tools entry from its parts (readers build their tools with this)."""
    from toolrm_agent.core.specs import normalize_schema

    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": normalize_schema(
                {"type": "object", "properties": properties, "required": list(required)}
            ),
        },
    }


__all__ = [
    "Complexity",
    "GroundTruthCall",
    "TrainRecord",
    "openai_tool",
    "read_records",
    "write_records",
]
