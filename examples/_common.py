"""What the examples share: a scripted policy, a tool call, the transcript and the verdicts.

The examples run as scripts (``python examples/<name>.py``), so this module is imported
from the examples' own folder (``from _common import ...``).
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult


class ScriptedPolicy(BaseChatModel):
    """A chat model that answers from a script instead of a network: a subclass writes
    ``reply`` (the conversation so far in, the next assistant message out)."""

    @property
    def _llm_type(self) -> str:
        return "scripted-policy"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedPolicy:
        return self

    def reply(self, messages: list[BaseMessage]) -> AIMessage:
        raise NotImplementedError

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.reply(messages))])


def tool_call(name: str, args: dict[str, Any], call_id: str) -> dict[str, Any]:
    """One tool call as an ``AIMessage`` carries it."""
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}


def show(messages: list[BaseMessage], *, proposal: str = "proposal", ids: bool = True) -> None:
    """Print a transcript, a line a turn (a call a line); ``proposal`` labels the calls,
    ``ids`` adds each call's id (to tell parallel calls and their answers apart)."""
    for message in messages:
        if isinstance(message, HumanMessage):
            print(f"user      : {message.content}")
        elif isinstance(message, AIMessage) and message.tool_calls:
            for call in message.tool_calls:
                print(f"{proposal:<10}: {call['name']}({call['args']})" + (f"  [{call['id']}]" if ids else ""))
        elif isinstance(message, AIMessage):
            print(f"assistant : {message.content}")
        elif isinstance(message, ToolMessage):
            who = "critic" if isinstance(message.artifact, dict) and "toolrm" in message.artifact else "tool"
            text = str(message.content).replace("\n", "\n            ")
            print(f"{who:<10}: " + (f"[{message.tool_call_id}] " if ids else "") + text)


def show_verdicts(verdicts: dict[str, dict[str, Any]]) -> None:
    """Print the critic's verdict on each call (``result["toolrm_verdicts"]``)."""
    for call_id, record in verdicts.items():
        codes = ", ".join(record["codes"]) or "-"
        print(f"verdict   : {call_id}: {record['decision']} ({record['reason']}; issues: {codes})")
