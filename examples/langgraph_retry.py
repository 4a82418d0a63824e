"""A LangGraph agent whose bad tool call is caught, critiqued and fixed, offline.

    python examples/langgraph_retry.py

The policy is a scripted chat model that behaves like a sloppy agent: asked for the
weather, it first calls ``get_weather(town=...)`` (the parameter is ``city``). The
``ToolRMCritic`` with a ``SchemaJudge`` stops that call before it runs, sends the critique
back as an error ToolMessage, and the model, reading the critique, calls
``get_weather(city=...)``, which runs.

Graph: agent → critic → tools → agent (``build_agent_graph``; ``add_critic`` wires the
same into a graph of your own).
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool

from toolrm_agent.critic.node import ToolRMCritic, build_agent_graph
from toolrm_agent.judges.schema import SchemaJudge

EXECUTED: list[str] = []


@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Current weather in a city."""
    EXECUTED.append(f"get_weather(city={city!r}, unit={unit!r})")
    return f"18 degrees {unit} and sunny in {city}"


class SloppyAgent(BaseChatModel):
    """A scripted policy: a wrong call first, the right one once it reads a critique."""

    @property
    def _llm_type(self) -> str:
        return "scripted-sloppy-agent"

    def bind_tools(self, tools: Any, **kwargs: Any) -> SloppyAgent:
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        last = messages[-1]
        if isinstance(last, ToolMessage) and last.status == "error":  # the critic said no
            reply = AIMessage("", tool_calls=[_call("get_weather", {"city": "Paris"}, "call_2")])
        elif isinstance(last, ToolMessage):  # the tool answered
            reply = AIMessage(f"It is {last.content}.")
        else:  # the user's question: a call with the wrong parameter name
            reply = AIMessage("", tool_calls=[_call("get_weather", {"town": "Paris"}, "call_1")])
        return ChatResult(generations=[ChatGeneration(message=reply)])


def _call(name: str, args: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}


def show(messages: list[BaseMessage]) -> None:
    for message in messages:
        if isinstance(message, HumanMessage):
            print(f"user      : {message.content}")
        elif isinstance(message, AIMessage) and message.tool_calls:
            for call in message.tool_calls:
                print(f"proposal  : {call['name']}({call['args']})  [{call['id']}]")
        elif isinstance(message, AIMessage):
            print(f"assistant : {message.content}")
        elif isinstance(message, ToolMessage):
            who = "critic" if isinstance(message.artifact, dict) and "toolrm" in message.artifact else "tool"
            text = str(message.content).replace("\n", "\n            ")
            print(f"{who:<10}: {text}")


def main() -> None:
    critic = ToolRMCritic(SchemaJudge(), mode="retry", max_retries=2)
    graph = build_agent_graph(SloppyAgent(), [get_weather], critic)
    result = graph.invoke({"messages": [HumanMessage("What is the weather in Paris?")]})

    show(result["messages"])
    print()
    for call_id, record in result["toolrm_verdicts"].items():
        codes = ", ".join(record["codes"]) or "-"
        print(f"verdict   : {call_id}: {record['decision']} ({record['reason']}; issues: {codes})")
    print(f"executed  : {EXECUTED}")
    usage = result["toolrm_usage"]
    print(f"critic    : {usage.get('critic_calls', 0)} calls, {usage.get('retries', 0)} retry")
    caught = result["toolrm_verdicts"]["call_1"]["decision"] == "retry"
    fixed = EXECUTED == ["get_weather(city='Paris', unit='celsius')"]
    print(f"RESULT    : bad call caught={caught}, fixed call executed={fixed}")


if __name__ == "__main__":
    main()
