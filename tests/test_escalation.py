"""Escalation to a human (the uncertain band, ``on_uncertain="ask"``): LangGraph's
``interrupt`` and ``Command(resume=...)`` with approve / edit / reject / timeout, on the
node and the middleware, sync and async."""

from __future__ import annotations

import time
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from tests.fakes import (
    ASK,
    ScriptedChatModel,
    assert_every_call_answered,
    critic_app,
    recording_tools,
    run_graph,
    tool_call_message,
)
from toolrm_agent import DecisionBands, ToolRMCritic
from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.core.verdicts import CallVerdict, Critique
from toolrm_agent.judges.base import BaseJudge

BANDS = DecisionBands(accept=0.8, uncertain=0.5, on_uncertain="ask")


class CityJudge(BaseJudge):
    """Paris 0.9 (accept), Lyon 0.6 (uncertain), Nice 0.1 (reject)."""

    name = "cities"
    SCORES = {"Paris": 0.9, "Lyon": 0.6, "Nice": 0.1, "UTC": 0.9}

    def __init__(self) -> None:
        self.seen: list[Proposal] = []

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        self.seen.append(proposal)
        verdicts = [
            CallVerdict(tool_call_id=c.id, name=c.name, ok=s >= 0.5, score=s)
            for c in proposal.calls
            for s in [self.SCORES.get(str(next(iter(c.arguments.values()), "")), 0.0)]
        ]
        score = min(v.score for v in verdicts)
        return Critique(accepted=score >= 0.5, score=score, text="" if score >= 0.5 else f"scored {score}",
                        judge=self.name, calls=tuple(verdicts))


def weather(city: str, call_id: str) -> AIMessage:
    return tool_call_message(("get_weather", {"city": city}), ids=[call_id])


def build(kind: str, script: list[Any], judge: Any, bands: DecisionBands = BANDS) -> tuple[Any, list[Any]]:
    tools, executed = recording_tools()
    app = critic_app(kind, ScriptedChatModel(script=script), tools, judge, bands=bands, checkpointer=InMemorySaver())
    return app, executed


async def step(app: Any, how: str, inputs: Any, thread: str = "t") -> dict[str, Any]:
    return await run_graph(app, how, inputs, {"configurable": {"thread_id": thread}})


def asked(out: dict[str, Any]) -> dict[str, Any]:
    interrupts = out.get("__interrupt__") or []
    assert len(interrupts) == 1, out.keys()
    return interrupts[0].value


async def test_approve_runs_the_call_without_judging_it_again(how: str, kind: str) -> None:
    judge = CityJudge()
    app, executed = build(kind, [weather("Lyon", "l"), "Mild."], judge)
    out = await step(app, how, ASK)
    request = asked(out)
    assert request["type"] == "toolrm_review" and executed == []
    (action,) = request["action_requests"]
    assert (action["name"], action["args"], action["tool_call_id"]) == ("get_weather", {"city": "Lyon"}, "l")
    assert action["score"] == 0.6 and action["band"] == "uncertain" and "0.60" in action["description"]
    assert request["review_configs"] == [{"action_name": "get_weather", "allowed_decisions": ["approve", "edit",
                                                                                               "reject"]}]
    assert out["toolrm_verdicts"]["l"]["decision"] == "ask"
    out = await step(app, how, Command(resume={"decisions": [{"type": "approve"}]}))
    assert executed == [("get_weather", {"city": "Lyon"})]
    assert len(judge.seen) == 1  # resumed: the stored verdict, not a second judgement
    record = out["toolrm_verdicts"]["l"]
    assert (record["decision"], record["human"], record["reason"]) == ("execute", "approve", "human:approve")
    assert out["toolrm_usage"]["escalations"] == 1 and out["toolrm_usage"]["critic_calls"] == 1
    assert out["messages"][-1].content == "Mild."
    assert_every_call_answered(out["messages"])


async def test_reject_sends_the_humans_message_back(how: str, kind: str) -> None:
    judge = CityJudge()
    app, executed = build(kind, [weather("Lyon", "l"), weather("Paris", "p"), "Sunny."], judge)
    asked(await step(app, how, ASK))
    out = await step(app, how, Command(resume={"decisions": [{"type": "reject", "message": "Ask about Paris."}]}))
    answer = next(m for m in out["messages"] if isinstance(m, ToolMessage) and m.tool_call_id == "l")
    assert "a human reviewer rejected this call. Ask about Paris." in str(answer.content)
    assert executed == [("get_weather", {"city": "Paris"})]
    assert out["toolrm_verdicts"]["l"]["human"] == "reject"
    assert_every_call_answered(out["messages"])


async def test_an_edit_is_judged_again(how: str, kind: str) -> None:
    judge = CityJudge()
    app, executed = build(kind, [weather("Lyon", "l"), "Sunny."], judge)
    asked(await step(app, how, ASK))
    edit = {"type": "edit", "edited_action": {"name": "get_weather", "args": {"city": "Paris"}}}
    out = await step(app, how, Command(resume={"decisions": [edit]}))
    assert executed == [("get_weather", {"city": "Paris"})]
    assert [str(p.calls[0].arguments["city"]) for p in judge.seen] == ["Lyon", "Paris"]
    proposals = [m for m in out["messages"] if isinstance(m, AIMessage) and m.tool_calls]
    assert [c["args"] for p in proposals for c in p.tool_calls] == [{"city": "Paris"}]  # replaced, same id
    assert out["toolrm_verdicts"]["l"]["human"] == "edit"
    assert_every_call_answered(out["messages"])


async def test_an_edit_the_critic_rejects_goes_back_with_the_critique(how: str, kind: str) -> None:
    judge = CityJudge()
    app, executed = build(kind, [weather("Lyon", "l"), weather("Paris", "p"), "Sunny."], judge)
    asked(await step(app, how, ASK))
    edit = {"type": "edit", "edited_action": {"name": "get_weather", "args": {"city": "Nice"}}}
    out = await step(app, how, Command(resume={"decisions": [edit]}))
    answer = next(m for m in out["messages"] if isinstance(m, ToolMessage) and m.tool_call_id == "l")
    assert "the critic rejected the edited call" in str(answer.content) and "scored 0.1" in str(answer.content)
    assert executed == [("get_weather", {"city": "Paris"})]
    assert out["toolrm_verdicts"]["l"]["reason"] == "human:edit_rejected"


async def test_no_answer_in_time_applies_the_default(how: str, kind: str) -> None:
    judge = CityJudge()
    bands = BANDS.override(ask_timeout_s=0.05, on_ask_timeout="reject")
    app, executed = build(kind, [weather("Lyon", "l"), "Gave up."], judge, bands)
    request = asked(await step(app, how, ASK))
    assert request["deadline"] and request["on_timeout"] == "reject"
    time.sleep(0.1)
    out = await step(app, how, Command(resume={"decisions": [{"type": "approve"}]}))  # too late
    assert executed == [] and out["toolrm_verdicts"]["l"]["human"] == "timeout"
    assert "got no answer in time" in str(next(m for m in out["messages"] if isinstance(m, ToolMessage)).content)

    approving = BANDS.override(on_ask_timeout="approve")
    app, executed = build(kind, [weather("Lyon", "l"), "Mild."], judge, approving)
    asked(await step(app, how, ASK, thread="u"))
    out = await step(app, how, Command(resume="timeout"), thread="u")  # an unattended run lets it go
    assert executed == [("get_weather", {"city": "Lyon"})] and out["toolrm_verdicts"]["l"]["human"] == "timeout"


async def test_a_parallel_message_escalates_only_its_uncertain_call(how: str, kind: str) -> None:
    judge = CityJudge()
    both = tool_call_message(("get_weather", {"city": "Lyon"}), ("get_time", {"zone": "UTC"}), ids=["l", "u"])
    app, executed = build(kind, [both, "Done."], judge)
    request = asked(await step(app, how, ASK))
    assert [a["tool_call_id"] for a in request["action_requests"]] == ["l"]
    out = await step(app, how, Command(resume={"decisions": [{"type": "reject"}]}))
    assert executed == [("get_time", {"zone": "UTC"})]  # the sibling ran, undisturbed
    verdicts = out["toolrm_verdicts"]
    assert verdicts["u"]["decision"] == "execute" and verdicts["u"]["human"] is None
    assert verdicts["l"]["decision"] == "retry"
    assert_every_call_answered(out["messages"])


async def test_a_malformed_answer_is_asked_again(how: str, kind: str) -> None:
    judge = CityJudge()
    app, executed = build(kind, [weather("Lyon", "l"), "Mild."], judge)
    asked(await step(app, how, ASK))
    again = asked(await step(app, how, Command(resume={"decisions": []})))
    assert "one decision per escalated call" in again["error"]
    again = asked(await step(app, how, Command(resume={"decisions": [{"type": "edit"}]})))
    assert "edited_action" in again["error"] and executed == []
    out = await step(app, how, Command(resume={"decisions": [{"type": "approve"}]}))
    assert executed == [("get_weather", {"city": "Lyon"})] and len(judge.seen) == 1
    assert_every_call_answered(out["messages"])


def test_ask_needs_a_graph() -> None:
    state = {"messages": [ASK["messages"][0], weather("Lyon", "l")]}
    with pytest.raises(ConfigurationError, match="interrupt"):
        ToolRMCritic(CityJudge(), bands=BANDS)(state, {})
    with pytest.raises(ConfigurationError, match="ask_timeout_s"):
        DecisionBands(on_uncertain="ask", ask_timeout_s=0)
