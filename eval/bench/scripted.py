"""The shell of the harnesses' scripted chat models: a subclass writes ``reply`` (the
transcript in, the next assistant message out) and, where waiting differs when async,
``areply``; ``bind_tools`` keeps the model as it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult


class ScriptedChatModel(BaseChatModel):
    """A chat model whose answers come from code, not a network (subclasses name ``_llm_type``)."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self

    def reply(self, messages: list[BaseMessage]) -> AIMessage:
        raise NotImplementedError

    async def areply(self, messages: list[BaseMessage]) -> AIMessage:
        return self.reply(messages)

    # langchain's signatures; only the messages matter here
    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.reply(messages))])

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None, **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=await self.areply(messages))])
