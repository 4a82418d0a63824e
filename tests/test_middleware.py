"""ToolRMMiddleware in ``langchain.agents.create_agent``: scripted model, scripted judge."""

from __future__ import annotations

import time
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from tests.fakes import (
    ASK,
    BAD,
    GOOD,
    TOOLS,
    AsyncOnlyJudge,
    ScriptedChatModel,
    ScriptedJudge,
    assert_every_call_answered,
    critic_app,
    critic_messages,
    malformed,
    recording_tools,
    run_graph,
    stream_messages,
    tool_call_message,
)
from toolrm_agent.core.errors import BudgetExhaustedError
from toolrm_agent.critic._options import CriticBudget
from toolrm_agent.critic.middleware import ToolRMMiddleware


def agent_with(model: ScriptedChatModel, judge: Any, tools: list[Any] | None = None, **options: Any) -> Any:
    """The middleware agent (``TOOLS`` unless ``tools``)."""
    return critic_app("middleware", model, tools or TOOLS, judge, **options)


async def test_approved_proposal_runs(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["ok"]), "Sunny."])
    judge = ScriptedJudge()
    out = await run_graph(agent_with(model, judge, tools), how)
    assert judge.calls == 1  # judged in wrap_model_call, reused in after_model
    assert executed == [("get_weather", {"city": "Paris"})]
    assert out["toolrm_verdicts"]["ok"]["decision"] == "execute"
    assert out["toolrm_usage"]["critic_calls"] == 1
    assert {t.name for t in judge.contexts[0].tools} == {"get_weather", "get_time"}
    assert_every_call_answered(out["messages"])


async def test_rejected_then_fixed(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[tool_call_message(BAD), tool_call_message(GOOD), "Sunny."])
    judge = ScriptedJudge()
    out = await run_graph(agent_with(model, judge, tools, max_retries=2), how)
    assert judge.calls == 2
    assert executed == [("get_weather", {"city": "Paris"})]
    [critique] = critic_messages(out["messages"])
    assert critique.status == "error" and "missing required argument 'city'" in critique.content
    assert any(isinstance(m, ToolMessage) and "city" in m.content for m in model.calls[1])
    assert out["messages"][-1].content == "Sunny."
    assert out["toolrm_usage"]["retries"] == 1
    assert_every_call_answered(out["messages"])


async def test_budget_raise(how: str) -> None:
    model = ScriptedChatModel(script=[tool_call_message(BAD), tool_call_message(BAD)])
    agent = agent_with(model, ScriptedJudge(), max_retries=1, on_budget_exhausted="raise")
    with pytest.raises(BudgetExhaustedError):
        await run_graph(agent, how)


async def test_best_of_n_returns_only_the_winner(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(
        script=[
            tool_call_message(BAD, ids=["first"]),
            tool_call_message(GOOD, ids=["good"]),
            tool_call_message(("get_weathr", {"city": "Paris"}), ids=["typo"]),
            "Sunny.",  # the final answer is not sampled: it proposes no call
        ]
    )
    judge = ScriptedJudge()
    out = await run_graph(agent_with(model, judge, tools, mode="best_of_n", n=3), how)
    assert len(model.calls) == 4
    assert judge.calls == 3
    proposals = [m for m in out["messages"] if isinstance(m, AIMessage) and m.tool_calls]
    assert [c["id"] for p in proposals for c in p.tool_calls] == ["good"]
    assert proposals[0].id == "fake-1"  # the winner carries the first answer's id
    assert executed == [("get_weather", {"city": "Paris"})]
    assert out["toolrm_usage"]["samples"] == 2 and out["toolrm_usage"]["replaced"] == 1
    assert_every_call_answered(out["messages"])


async def test_best_of_n_rejected_winner_is_sent_back(how: str) -> None:
    model = ScriptedChatModel(
        script=[
            tool_call_message(BAD, ids=["a"]),
            tool_call_message(("get_weathr", {"city": "Paris"}), ids=["b"]),
            tool_call_message(GOOD, ids=["c"]),
            tool_call_message(GOOD, ids=["d"]),  # identical to "c": judged once
            "Sunny.",
        ]
    )
    judge = ScriptedJudge()
    out = await run_graph(agent_with(model, judge, mode="best_of_n", n=2), how)
    assert out["toolrm_verdicts"]["a"]["decision"] == "retry"
    assert out["toolrm_verdicts"]["c"]["decision"] == "execute"
    assert judge.calls == 3
    assert_every_call_answered(out["messages"])


async def test_malformed_calls_are_answered(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[malformed(), tool_call_message(GOOD, ids=["ok"]), "Sunny."])
    out = await run_graph(agent_with(model, ScriptedJudge(lambda call: None), tools), how)
    [answer] = critic_messages(out["messages"])
    assert answer.tool_call_id == "broken" and "could not be parsed" in answer.content
    assert executed == [("get_weather", {"city": "Paris"})]
    assert_every_call_answered(out["messages"])


@pytest.mark.parametrize(("behaviour", "decision"), [("unparseable_open", "execute"), ("unparseable_closed", "retry")])
async def test_unparseable_judge_answer(how: str, behaviour: str, decision: str) -> None:
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["x"]), tool_call_message(GOOD, ids=["y"]), "Sunny."])
    out = await run_graph(agent_with(model, ScriptedJudge(behaviour=behaviour), max_retries=1), how)  # type: ignore[arg-type]
    assert out["toolrm_verdicts"]["x"]["status"] == "unparseable"
    assert out["toolrm_verdicts"]["x"]["decision"] == decision
    assert_every_call_answered(out["messages"])


@pytest.mark.parametrize("policy", ["execute", "reject", "halt"])
async def test_judge_that_raises(how: str, policy: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=[f"c{i}"]) for i in range(3)] + ["Done."])
    judge = ScriptedJudge(behaviour="raise")
    out = await run_graph(
        agent_with(model, judge, tools, on_judge_error=policy, max_retries=1, on_budget_exhausted="halt"), how
    )
    assert out["toolrm_usage"]["judge_errors"] >= 1
    assert out["toolrm_verdicts"]["c0"]["status"] == "error"
    if policy == "execute":  # fail open: every proposal ran
        assert executed == [("get_weather", {"city": "Paris"})] * 3
        assert out["messages"][-1].content == "Done."
    else:
        assert executed == []
        assert out["messages"][-1].content.startswith("I stopped")
    assert_every_call_answered(out["messages"])


async def test_judge_that_times_out(how: str) -> None:
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["x"]), "Sunny."])
    judge = ScriptedJudge(behaviour="sleep", sleep_s=3.0)
    start = time.perf_counter()
    out = await run_graph(agent_with(model, judge, judge_timeout_s=0.2, on_judge_error="execute"), how)
    assert time.perf_counter() - start < 2.0
    assert "timed out" in out["toolrm_verdicts"]["x"]["error"]
    assert out["messages"][-1].content == "Sunny."


async def test_checkpoint_resume_does_not_rejudge(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["x"]), "Sunny."])
    judge = ScriptedJudge()
    agent = agent_with(model, judge, tools, checkpointer=InMemorySaver(), interrupt_before=["tools"])
    cfg = {"configurable": {"thread_id": "resume"}}
    await run_graph(agent, how, ASK, cfg)
    assert agent.get_state(cfg).next == ("tools",) and judge.calls == 1

    agent.update_state(cfg, {"messages": []}, as_node="model")  # re-enter after_model
    await run_graph(agent, how, None, cfg)
    assert agent.get_state(cfg).next == ("tools",)
    out = await run_graph(agent, how, None, cfg)
    assert judge.calls == 1
    assert out["toolrm_usage"]["critic_calls"] == 1
    assert executed == [("get_weather", {"city": "Paris"})]
    assert_every_call_answered(out["messages"])


async def test_ainvoke_uses_the_async_judge_path() -> None:
    model = ScriptedChatModel(script=[tool_call_message(BAD), tool_call_message(GOOD), "Sunny."])
    judge = AsyncOnlyJudge()
    out = await agent_with(model, judge).ainvoke(ASK)
    assert judge.calls == 2 and "judge_errors" not in out["toolrm_usage"]


async def test_after_model_judges_a_message_without_a_stored_verdict(how: str) -> None:
    """A message that another middleware rewrote is judged in after_model itself."""
    judge = ScriptedJudge()
    middleware = ToolRMMiddleware(judge, tools=TOOLS)
    state = {"messages": [HumanMessage("weather?"), tool_call_message(BAD, ids=["w"])]}
    if how == "sync":
        update = middleware.after_model(state, None)  # type: ignore[arg-type]
    else:
        update = await middleware.aafter_model(state, None)  # type: ignore[arg-type]
    assert update is not None and update["jump_to"] == "model"
    [answer] = update["messages"]
    assert answer.tool_call_id == "w" and answer.status == "error"
    assert update["toolrm_verdicts"]["w"]["decision"] == "retry"
    assert {t.name for t in judge.contexts[0].tools} == {"get_weather", "get_time"}


def test_after_model_leaves_final_answers_alone() -> None:
    judge = ScriptedJudge()
    middleware = ToolRMMiddleware(judge)
    assert middleware.after_model({"messages": [HumanMessage("hi"), AIMessage("hello")]}, None) is None  # type: ignore[arg-type]
    assert judge.calls == 0


def test_override_keeps_the_original() -> None:
    middleware = ToolRMMiddleware(ScriptedJudge(), max_retries=3)
    changed = middleware.override(mode="best_of_n", n=2)
    assert (changed.options.mode, changed.options.n, changed.options.budget.max_retries) == ("best_of_n", 2, 3)
    assert middleware.options.mode == "retry"


async def test_critic_call_budget_per_run(how: str) -> None:
    model = ScriptedChatModel(
        script=[tool_call_message(BAD, ids=["a"]), tool_call_message(BAD, ids=["b"]), "Done."]
    )
    judge = ScriptedJudge()
    out = await run_graph(agent_with(model, judge, budget=CriticBudget(max_retries=5, max_critic_calls=1)), how)
    assert judge.calls == 1
    record = out["toolrm_verdicts"]["b"]
    assert (record["decision"], record["reason"]) == ("execute", "budget:max_critic_calls")
    assert_every_call_answered(out["messages"])


async def test_structured_final_answer_is_not_judged(how: str) -> None:
    from pydantic import BaseModel

    class Weather(BaseModel):
        city: str
        sky: str

    answer = tool_call_message(("Weather", {"city": "Paris", "sky": "sunny"}), ids=["so"])
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["w"]), answer])
    judge = ScriptedJudge()
    agent = create_agent(model, TOOLS, middleware=[ToolRMMiddleware(judge)], response_format=Weather)
    out = await run_graph(agent, how)
    assert out["structured_response"] == Weather(city="Paris", sky="sunny")
    assert judge.calls == 1  # only the get_weather proposal


async def test_best_of_n_samples_do_not_stream(how: str) -> None:
    sample = AIMessage(
        "SAMPLE-TEXT", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "s", "type": "tool_call"}]
    )
    model = ScriptedChatModel(script=[AIMessage("FIRST-TEXT", tool_calls=tool_call_message(BAD, ids=["o"]).tool_calls),
                                      sample, "POLICY-ANSWER"])
    agent = agent_with(model, ScriptedJudge(), mode="best_of_n", n=2)
    chunks = await stream_messages(agent, how)
    texts = [str(message.content) for message, _ in chunks]
    assert len(model.calls) == 3
    assert "FIRST-TEXT" in texts and "POLICY-ANSWER" in texts
    assert "SAMPLE-TEXT" not in texts  # the sample won, but its tokens never streamed
