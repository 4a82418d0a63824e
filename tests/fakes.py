"""Hand-written fake chat models: scripted, offline, inspectable.

``ScriptedChatModel`` answers each call with the next item of its script:

* an ``AIMessage`` (returned as is, usage metadata filled in when missing),
* a ``str`` (returned as an ``AIMessage`` with that text content),
* an ``Exception`` instance (raised),
* a ``float`` (sleep that many seconds, then answer with the following item; for
  timeouts), or
* a callable ``(messages) -> AIMessage | str`` for answers that depend on the prompt.

It records every prompt it saw in ``calls`` and every ``bind_tools`` in ``bound_tools``,
and supports ``bind_tools`` so it can stand in for a policy model in LangGraph graphs
and ``create_agent``. When the script runs out it repeats ``default`` (or raises).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, Field

ScriptItem = AIMessage | str | Exception | float | Callable[[list[BaseMessage]], Any]


class ScriptedChatModel(BaseChatModel):
    """A chat model that plays back a script (see module docstring)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    script: list[Any] = Field(default_factory=list)
    default: Any = None
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    call_kwargs: list[dict[str, Any]] = Field(default_factory=list)
    bound_tools: list[Any] = Field(default_factory=list)
    position: int = 0
    id_prefix: str = "fake"
    """Answers get ids ``<id_prefix>-<call number>``; give two fakes in one graph different prefixes."""

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        self.bound_tools.append(list(tools))
        return self.bind(tools=list(tools), **kwargs)

    def _next(self) -> Any:
        if self.position < len(self.script):
            item = self.script[self.position]
            self.position += 1
            return item
        if self.default is None:
            raise RuntimeError(f"ScriptedChatModel script exhausted after {self.position} calls")
        return self.default

    def _answer(self, messages: list[BaseMessage]) -> AIMessage:
        item = self._next()
        while isinstance(item, float):
            time.sleep(item)
            item = self._next()
        if isinstance(item, Exception):
            raise item
        if callable(item) and not isinstance(item, AIMessage):
            item = item(messages)
        if isinstance(item, str):
            item = AIMessage(content=item)
        if not isinstance(item, AIMessage):
            raise TypeError(f"bad script item {item!r}")
        if item.usage_metadata is None:
            n_in = sum(len(str(m.content).split()) for m in messages)
            n_out = max(1, len(str(item.content).split()))
            item = item.model_copy(
                update={
                    "usage_metadata": {
                        "input_tokens": n_in,
                        "output_tokens": n_out,
                        "total_tokens": n_in + n_out,
                    }
                }
            )
        # a fresh id per answer, like a real model, unless the script fixed one
        return item if item.id else item.model_copy(update={"id": f"{self.id_prefix}-{len(self.calls)}"})

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append(list(messages))
        self.call_kwargs.append(dict(kwargs))
        return ChatResult(generations=[ChatGeneration(message=self._answer(messages))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append(list(messages))
        self.call_kwargs.append(dict(kwargs))
        item_preview = self.script[self.position] if self.position < len(self.script) else None
        if isinstance(item_preview, float):  # async sleep so timeouts can cancel it
            self.position += 1
            await asyncio.sleep(item_preview)
        return ChatResult(generations=[ChatGeneration(message=self._answer(messages))])


def tool_call_message(*calls: tuple[str, dict[str, Any]], content: str = "", ids: Sequence[str] | None = None) -> AIMessage:
    """An ``AIMessage`` proposing ``calls`` (name, args) with deterministic ids."""
    ids = list(ids) if ids is not None else [f"call_{i}_{name}" for i, (name, _) in enumerate(calls)]
    return AIMessage(
        content=content,
        tool_calls=[
            {"name": name, "args": args, "id": cid, "type": "tool_call"}
            for (name, args), cid in zip(calls, ids, strict=True)
        ],
    )
