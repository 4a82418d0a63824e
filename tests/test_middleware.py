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
    ModelBackedJudge,
    ScriptedChatModel,
    ScriptedJudge,
    assert_every_call_answered,
    critic_messages,
    malformed,
    recording_tools,
    tool_call_message,
)
from toolrm_agent.core.errors import BudgetExhaustedError
from toolrm_agent.critic._options import CriticBudget
from toolrm_agent.critic.middleware import ToolRMMiddleware
from toolrm_agent.prompting import _calling as calling


@pytest.fixture(params=["sync", "async"])
def how(request: pytest.FixtureRequest) -> str:
    return request.param


async def run(agent: Any, how: str, inputs: Any = ASK, config: dict[str, Any] | None = None) -> dict[str, Any]:
    if how == "sync":
        return agent.invoke(inputs, config)
    return await agent.ainvoke(inputs, config)


def agent_with(model: ScriptedChatModel, judge: Any, tools: list[Any] | None = None, **options: Any) -> Any:
    compile_options = {k: options.pop(k) for k in ("checkpointer", "interrupt_before") if k in options}
    return create_agent(
        model, tools or TOOLS, middleware=[ToolRMMiddleware(judge, **options)], **compile_options
    )


async def test_approved_proposal_runs(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["ok"]), "Sunny."])
    judge = ScriptedJudge()
    out = await run(agent_with(model, judge, tools), how)
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
    out = await run(agent_with(model, judge, tools, max_retries=2), how)
    assert judge.calls == 2
    assert executed == [("get_weather", {"city": "Paris"})]
    [critique] = critic_messages(out["messages"])
    assert critique.status == "error" and "missing required argument 'city'" in critique.content
    assert any(isinstance(m, ToolMessage) and "city" in m.content for m in model.calls[1])
    assert out["messages"][-1].content == "Sunny."
    assert out["toolrm_usage"]["retries"] == 1
    assert_every_call_answered(out["messages"])


async def test_retry_budget_spent_execute(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(
        script=[tool_call_message(BAD, ids=["a"]), tool_call_message(BAD, ids=["b"]), "Done."]
    )
    out = await run(agent_with(model, ScriptedJudge(), tools, max_retries=1), how)
    record = out["toolrm_verdicts"]["b"]
    assert (record["decision"], record["reason"]) == ("execute", "budget:max_retries")
    assert out["messages"][-1].content == "Done."
    assert_every_call_answered(out["messages"])


async def test_retry_budget_spent_halt(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(
        script=[tool_call_message(BAD, ids=["a"]), tool_call_message(BAD, ids=["b"])]
    )
    out = await run(agent_with(model, ScriptedJudge(), tools, max_retries=1, on_budget_exhausted="halt"), how)
    assert executed == [] and len(model.calls) == 2
    assert out["messages"][-1].content.startswith("I stopped")
    assert out["toolrm_usage"]["halts"] == 1
    assert_every_call_answered(out["messages"])


async def test_budget_raise(how: str) -> None:
    model = ScriptedChatModel(script=[tool_call_message(BAD), tool_call_message(BAD)])
    agent = agent_with(model, ScriptedJudge(), max_retries=1, on_budget_exhausted="raise")
    with pytest.raises(BudgetExhaustedError):
        await run(agent, how)


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
    out = await run(agent_with(model, judge, tools, mode="best_of_n", n=3), how)
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
    out = await run(agent_with(model, judge, mode="best_of_n", n=2), how)
    assert out["toolrm_verdicts"]["a"]["decision"] == "retry"
    assert out["toolrm_verdicts"]["c"]["decision"] == "execute"
    assert judge.calls == 3
    assert_every_call_answered(out["messages"])


async def test_parallel_calls_with_one_bad_call(how: str) -> None:
    tools, executed = recording_tools()
    first = tool_call_message(("get_time", {"zone": "CET"}), BAD, ids=["t1", "w1"])
    fixed = tool_call_message(("get_time", {"zone": "CET"}), GOOD, ids=["t2", "w2"])
    model = ScriptedChatModel(script=[first, fixed, "Done."])
    out = await run(agent_with(model, ScriptedJudge(), tools), how)
    answers = {m.tool_call_id: m.content for m in critic_messages(out["messages"])}
    assert set(answers) == {"t1", "w1"}
    assert "another call in this turn was rejected" in answers["t1"]
    assert sorted(executed) == [("get_time", {"zone": "CET"}), ("get_weather", {"city": "Paris"})]
    assert_every_call_answered(out["messages"])


async def test_malformed_calls_are_answered(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[malformed(), tool_call_message(GOOD, ids=["ok"]), "Sunny."])
    out = await run(agent_with(model, ScriptedJudge(lambda call: None), tools), how)
    [answer] = critic_messages(out["messages"])
    assert answer.tool_call_id == "broken" and "could not be parsed" in answer.content
    assert executed == [("get_weather", {"city": "Paris"})]
    assert_every_call_answered(out["messages"])


@pytest.mark.parametrize(("behaviour", "decision"), [("unparseable_open", "execute"), ("unparseable_closed", "retry")])
async def test_unparseable_judge_answer(how: str, behaviour: str, decision: str) -> None:
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["x"]), tool_call_message(GOOD, ids=["y"]), "Sunny."])
    out = await run(agent_with(model, ScriptedJudge(behaviour=behaviour), max_retries=1), how)  # type: ignore[arg-type]
    assert out["toolrm_verdicts"]["x"]["status"] == "unparseable"
    assert out["toolrm_verdicts"]["x"]["decision"] == decision
    assert_every_call_answered(out["messages"])


@pytest.mark.parametrize("policy", ["execute", "reject", "halt"])
async def test_judge_that_raises(how: str, policy: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=[f"c{i}"]) for i in range(3)] + ["Done."])
    judge = ScriptedJudge(behaviour="raise")
    out = await run(
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
    out = await run(agent_with(model, judge, judge_timeout_s=0.2, on_judge_error="execute"), how)
    assert time.perf_counter() - start < 2.0
    assert "timed out" in out["toolrm_verdicts"]["x"]["error"]
    assert out["messages"][-1].content == "Sunny."


async def test_checkpoint_resume_does_not_rejudge(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["x"]), "Sunny."])
    judge = ScriptedJudge()
    agent = agent_with(model, judge, tools, checkpointer=InMemorySaver(), interrupt_before=["tools"])
    cfg = {"configurable": {"thread_id": "resume"}}
    await run(agent, how, ASK, cfg)
    assert agent.get_state(cfg).next == ("tools",) and judge.calls == 1

    agent.update_state(cfg, {"messages": []}, as_node="model")  # re-enter after_model
    await run(agent, how, None, cfg)
    assert agent.get_state(cfg).next == ("tools",)
    out = await run(agent, how, None, cfg)
    assert judge.calls == 1
    assert out["toolrm_usage"]["critic_calls"] == 1
    assert executed == [("get_weather", {"city": "Paris"})]
    assert_every_call_answered(out["messages"])


@pytest.mark.parametrize("tagged", [True, False])
async def test_judge_tokens_never_stream(how: str, tagged: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not tagged:  # control: without the tag the judge's answer does stream
        monkeypatch.setattr(calling, "nostream_config", lambda config: config)
    model = ScriptedChatModel(script=[tool_call_message(GOOD), "POLICY-ANSWER"])
    judge_model = ScriptedChatModel(default="JUDGE-SECRET OK", id_prefix="judge")
    agent = agent_with(model, ModelBackedJudge(judge_model))
    if how == "sync":
        chunks = list(agent.stream(ASK, stream_mode="messages"))
    else:
        chunks = [c async for c in agent.astream(ASK, stream_mode="messages")]
    texts = [str(message.content) for message, _ in chunks]
    assert len(judge_model.calls) == 1
    assert "POLICY-ANSWER" in texts
    assert any("JUDGE-SECRET" in t for t in texts) is (not tagged)


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
    out = await run(agent_with(model, judge, budget=CriticBudget(max_retries=5, max_critic_calls=1)), how)
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
    out = await run(agent, how)
    assert out["structured_response"] == Weather(city="Paris", sky="sunny")
    assert judge.calls == 1  # only the get_weather proposal


async def test_best_of_n_samples_do_not_stream(how: str) -> None:
    sample = AIMessage(
        "SAMPLE-TEXT", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "s", "type": "tool_call"}]
    )
    model = ScriptedChatModel(script=[AIMessage("FIRST-TEXT", tool_calls=tool_call_message(BAD, ids=["o"]).tool_calls),
                                      sample, "POLICY-ANSWER"])
    agent = agent_with(model, ScriptedJudge(), mode="best_of_n", n=2)
    if how == "sync":
        chunks = list(agent.stream(ASK, stream_mode="messages"))
    else:
        chunks = [c async for c in agent.astream(ASK, stream_mode="messages")]
    texts = [str(message.content) for message, _ in chunks]
    assert len(model.calls) == 3
    assert "FIRST-TEXT" in texts and "POLICY-ANSWER" in texts
    assert "SAMPLE-TEXT" not in texts  # the sample won, but its tokens never streamed
