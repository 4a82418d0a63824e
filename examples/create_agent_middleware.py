"""A ``create_agent`` agent whose bad parallel call is caught, critiqued and fixed, offline.

    python examples/create_agent_middleware.py

The scripted policy answers "weather in Paris and time in Tokyo?" with two parallel calls,
one of them to a function that does not exist (``get_wether``). ``ToolRMMiddleware`` with
a ``SchemaJudge`` rejects the whole proposal before anything runs: the bad call gets the
critique ("did you mean `get_weather`?"), the good call is told it did not run because its
sibling was rejected. The model fixes the name and both calls run.
"""

from __future__ import annotations

from typing import Any

from _common import ScriptedPolicy, show, show_verdicts, tool_call
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from toolrm_agent import SchemaJudge, ToolRMMiddleware

EXECUTED: list[str] = []


@tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    EXECUTED.append(f"get_weather(city={city!r})")
    return f"sunny in {city}"


@tool
def get_time(city: str) -> str:
    """Local time in a city."""
    EXECUTED.append(f"get_time(city={city!r})")
    return f"21:00 in {city}"


class SloppyAgent(ScriptedPolicy):
    """A scripted policy: a misspelt function first, fixed once it reads a critique."""

    def reply(self, messages: list[BaseMessage]) -> AIMessage:
        answers = [m for m in messages if isinstance(m, ToolMessage)]
        critiques = [m for m in answers if m.status == "error"]
        if not answers:  # the user's question: two parallel calls, one misspelt
            return AIMessage("", tool_calls=[_call("get_wether", "Paris", "w1"), _call("get_time", "Tokyo", "t1")])
        if len(answers) == len(critiques):  # everything came back rejected: fix and retry
            return AIMessage("", tool_calls=[_call("get_weather", "Paris", "w2"), _call("get_time", "Tokyo", "t2")])
        results = [str(m.content) for m in answers if m.status != "error"]
        return AIMessage("It is " + " and ".join(results) + ".")


def _call(name: str, city: str, call_id: str) -> dict[str, Any]:
    return tool_call(name, {"city": city}, call_id)


def main() -> None:
    agent = create_agent(
        SloppyAgent(),
        [get_weather, get_time],
        middleware=[ToolRMMiddleware(SchemaJudge(), mode="retry", max_retries=2)],
    )
    result = agent.invoke({"messages": [HumanMessage("What is the weather in Paris and the time in Tokyo?")]})

    show(result["messages"])
    print()
    show_verdicts(result["toolrm_verdicts"])
    print(f"executed  : {EXECUTED}")
    w1 = result["toolrm_verdicts"]["w1"]
    caught = w1["decision"] == "retry" and "unknown_function" in w1["codes"]
    fixed = sorted(EXECUTED) == ["get_time(city='Tokyo')", "get_weather(city='Paris')"]
    print(f"RESULT    : bad call caught={caught}, fixed calls executed={fixed}")


if __name__ == "__main__":
    main()
