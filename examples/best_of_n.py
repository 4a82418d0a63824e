"""Best-of-N: the critic samples more proposals and keeps the best one, offline.

    python examples/best_of_n.py

The scripted policy is a noisy sampler: each time it is asked it writes the next of four
attempts at ``book_table`` (a missing argument, a value outside the enum, a misspelt
function, a correct call). Its first attempt is wrong; ``ToolRMCritic(mode="best_of_n",
n=4)`` draws three more samples from the same model, the ``SchemaJudge`` ranks the four,
and the correct call replaces the first attempt before any tool runs: only the winner is
in the transcript.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from _common import ScriptedPolicy, show, tool_call
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import Field

from toolrm_agent import SchemaJudge, ToolRMCritic, build_agent_graph

EXECUTED: list[str] = []
_LOCK = threading.Lock()


@tool
def book_table(restaurant: str, people: int, time: str, seating: Literal["inside", "terrace"] = "inside") -> str:
    """Book a table at a restaurant."""
    EXECUTED.append(f"book_table({restaurant!r}, people={people}, time={time!r}, seating={seating!r})")
    return f"booked: {people} people at {restaurant}, {time}, {seating}"


ATTEMPTS: list[tuple[str, dict[str, Any]]] = [
    ("book_table", {"restaurant": "Chez Paul", "time": "19:30"}),  # people missing
    ("book_table", {"restaurant": "Chez Paul", "people": 4, "time": "19:30", "seating": "roof"}),
    ("book_tabel", {"restaurant": "Chez Paul", "people": 4, "time": "19:30"}),
    ("book_table", {"restaurant": "Chez Paul", "people": 4, "time": "19:30", "seating": "terrace"}),
]


class NoisySampler(ScriptedPolicy):
    """A scripted policy that cycles through ``ATTEMPTS`` (thread-safe: samples are drawn
    in parallel) and answers in words once a tool has answered."""

    proposed: list[str] = Field(default_factory=list)

    def reply(self, messages: list[BaseMessage]) -> AIMessage:
        last = messages[-1]
        if isinstance(last, ToolMessage) and last.status != "error":
            return AIMessage(f"Done: {last.content}.")
        with _LOCK:
            n = len(self.proposed)
            name, args = ATTEMPTS[n % len(ATTEMPTS)]
            self.proposed.append(f"{name}({args})")
        return AIMessage("", tool_calls=[tool_call(name, args, f"call_{n}")])


def main() -> None:
    policy = NoisySampler()
    critic = ToolRMCritic(SchemaJudge(), mode="best_of_n", n=4)
    graph = build_agent_graph(policy, [book_table], critic)
    request = "Book a table for 4 at Chez Paul at 19:30, on the terrace."
    result = graph.invoke({"messages": [HumanMessage(request)]})

    print(f"user      : {request}")
    print("sampled   :")
    for text in policy.proposed:
        print(f"            {text}")
    show(result["messages"][1:], proposal="winner")
    usage = result["toolrm_usage"]
    print(f"critic    : {usage.get('critic_calls', 0)} judge calls, {usage.get('samples', 0)} extra samples, "
          f"replaced={usage.get('replaced', 0)}")
    proposals = [m for m in result["messages"] if isinstance(m, AIMessage) and m.tool_calls]
    first_was_bad = policy.proposed[0].startswith("book_table({'restaurant': 'Chez Paul', 'time'")
    fixed = EXECUTED == ["book_table('Chez Paul', people=4, time='19:30', seating='terrace')"]
    print(f"RESULT    : bad call caught={first_was_bad and usage.get('replaced') == 1}, "
          f"fixed call executed={fixed}, proposals in transcript={len(proposals)}")


if __name__ == "__main__":
    main()
