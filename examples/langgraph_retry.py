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

from typing import Literal

from _common import ScriptedPolicy, show, show_verdicts, tool_call
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from toolrm_agent import SchemaJudge, ToolRMCritic, build_agent_graph

EXECUTED: list[str] = []


@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Current weather in a city."""
    EXECUTED.append(f"get_weather(city={city!r}, unit={unit!r})")
    return f"18 degrees {unit} and sunny in {city}"


class SloppyAgent(ScriptedPolicy):
    """A scripted policy: a wrong call first, the right one once it reads a critique."""

    def reply(self, messages: list[BaseMessage]) -> AIMessage:
        last = messages[-1]
        if isinstance(last, ToolMessage) and last.status == "error":  # the critic said no
            return AIMessage("", tool_calls=[tool_call("get_weather", {"city": "Paris"}, "call_2")])
        if isinstance(last, ToolMessage):  # the tool answered
            return AIMessage(f"It is {last.content}.")
        # the user's question: a call with the wrong parameter name
        return AIMessage("", tool_calls=[tool_call("get_weather", {"town": "Paris"}, "call_1")])


def main() -> None:
    critic = ToolRMCritic(SchemaJudge(), mode="retry", max_retries=2)
    graph = build_agent_graph(SloppyAgent(), [get_weather], critic)
    result = graph.invoke({"messages": [HumanMessage("What is the weather in Paris?")]})

    show(result["messages"])
    print()
    show_verdicts(result["toolrm_verdicts"])
    print(f"executed  : {EXECUTED}")
    usage = result["toolrm_usage"]
    print(f"critic    : {usage.get('critic_calls', 0)} calls, {usage.get('retries', 0)} retry")
    caught = result["toolrm_verdicts"]["call_1"]["decision"] == "retry"
    fixed = EXECUTED == ["get_weather(city='Paris', unit='celsius')"]
    print(f"RESULT    : bad call caught={caught}, fixed call executed={fixed}")


if __name__ == "__main__":
    main()
