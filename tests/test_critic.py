"""ToolRMCritic as a LangGraph node: scripted policy model, scripted judge, real graph; the
behaviours the node and the middleware share (retry budget, parallel calls, streaming) on both (``kind``)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

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
    critic_app,
    critic_messages,
    malformed,
    recording_tools,
    run_graph,
    stream_messages,
    tool_call_message,
    tool_messages,
)
from toolrm_agent.core.errors import BudgetExhaustedError
from toolrm_agent.core.verdicts import Ranking
from toolrm_agent.critic.node import (
    CriticBudget,
    CriticOptions,
    ToolRMCritic,
    ToolRMState,
    add_critic,
    build_agent_graph,
)
from toolrm_agent.judges.base import JudgeCapabilities
from toolrm_agent.prompting import _calling as calling

# ------------------------------------------------------------------------ decisions


async def test_approved_proposal_runs_unchanged(how: str) -> None:
    tools, executed = recording_tools()
    proposal = tool_call_message(GOOD, ids=["call_ok"])
    model = ScriptedChatModel(script=[proposal, "Sunny."])
    judge = ScriptedJudge()
    out = await run_graph(build_agent_graph(model, tools, ToolRMCritic(judge)), how)

    assert judge.calls == 1
    assert executed == [("get_weather", {"city": "Paris"})]
    ai = out["messages"][1]
    assert ai.tool_calls == proposal.tool_calls  # unchanged
    assert out["toolrm_verdicts"]["call_ok"]["decision"] == "execute"
    assert out["toolrm_verdicts"]["call_ok"]["reason"] == "accepted"
    assert out["toolrm_usage"]["critic_calls"] == 1
    assert out["toolrm_usage"]["input_tokens"] == 10 and out["toolrm_usage"]["output_tokens"] == 5
    assert not critic_messages(out["messages"])
    assert_every_call_answered(out["messages"])


async def test_rejected_then_fixed(how: str) -> None:
    tools, executed = recording_tools()
    # both proposals use the same deterministic tool_call_id, as some models do
    model = ScriptedChatModel(script=[tool_call_message(BAD), tool_call_message(GOOD), "Sunny."])
    judge = ScriptedJudge()
    out = await run_graph(build_agent_graph(model, tools, ToolRMCritic(judge, max_retries=2)), how)

    assert judge.calls == 2
    assert executed == [("get_weather", {"city": "Paris"})]  # the bad call never ran
    [critique] = critic_messages(out["messages"])
    assert critique.status == "error"
    assert "missing required argument 'city'" in critique.content
    assert critique.artifact == {"toolrm": {"decision": "retry", "reason": "rejected"}}
    # the model saw the critique when it revised
    assert any(isinstance(m, ToolMessage) and "city" in m.content for m in model.calls[1])
    assert out["toolrm_usage"]["retries"] == 1
    assert out["messages"][-1].content == "Sunny."
    assert_every_call_answered(out["messages"])


def bad_twice() -> list[AIMessage]:
    """Two proposals that miss ``city`` (ids ``a`` then ``b``): a retry budget of one is spent."""
    return [tool_call_message(BAD, ids=["a"]), tool_call_message(BAD, ids=["b"])]


async def test_retry_budget_spent_execute(how: str, kind: str) -> None:
    tools, _ = recording_tools()
    model = ScriptedChatModel(script=[*bad_twice(), "Done."])
    judge = ScriptedJudge()
    out = await run_graph(critic_app(kind, model, tools, judge, max_retries=1, on_budget_exhausted="execute"), how)

    assert judge.calls == 2
    assert out["toolrm_verdicts"]["a"]["decision"] == "retry"
    record = out["toolrm_verdicts"]["b"]
    assert record["decision"] == "execute" and record["reason"] == "budget:max_retries"
    assert record["accepted"] is False  # the judge's verdict is kept for the record
    # it was let through to the ToolNode, which answered with its own validation error
    answer = next(m for m in tool_messages(out["messages"]) if m.tool_call_id == "b")
    assert "toolrm" not in (answer.artifact or {})
    assert out["toolrm_usage"]["budget_exhausted"] == 1
    assert out["messages"][-1].content == "Done."
    assert_every_call_answered(out["messages"])


async def test_retry_budget_spent_halt(how: str, kind: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=bad_twice())
    out = await run_graph(critic_app(kind, model, tools, ScriptedJudge(), max_retries=1, on_budget_exhausted="halt"),
                          how)

    assert executed == []
    assert len(model.calls) == 2  # no third model call: the run ended
    final = out["messages"][-1]
    assert isinstance(final, AIMessage) and not final.tool_calls
    assert final.content.startswith("I stopped") and "retry budget (1 per turn)" in final.content
    assert out["toolrm_verdicts"]["b"]["decision"] == "halt"
    assert out["toolrm_usage"]["halts"] == 1
    assert_every_call_answered(out["messages"])


async def test_retry_budget_spent_raise(how: str) -> None:
    model = ScriptedChatModel(script=[tool_call_message(BAD), tool_call_message(BAD)])
    critic = ToolRMCritic(ScriptedJudge(), max_retries=1, on_budget_exhausted="raise")
    with pytest.raises(BudgetExhaustedError, match="retry budget"):
        await run_graph(build_agent_graph(model, TOOLS, critic), how)


async def test_retries_are_counted_per_turn(how: str) -> None:
    """A new HumanMessage opens a new turn with a fresh retry budget."""
    model = ScriptedChatModel(
        script=[tool_call_message(BAD, ids=["a"]), tool_call_message(GOOD, ids=["b"]), "Sunny.",
                tool_call_message(BAD, ids=["c"]), tool_call_message(GOOD, ids=["d"]), "Still sunny."]
    )
    judge = ScriptedJudge()
    graph = build_agent_graph(
        model, TOOLS, ToolRMCritic(judge, max_retries=1, on_budget_exhausted="halt"),
        checkpointer=InMemorySaver(),
    )
    cfg = {"configurable": {"thread_id": "turns"}}
    await run_graph(graph, how, ASK, cfg)
    out = await run_graph(graph, how, {"messages": [HumanMessage("And now?")]}, cfg)
    assert out["toolrm_verdicts"]["c"]["decision"] == "retry"  # not halted: fresh turn
    assert out["messages"][-1].content == "Still sunny."
    assert out["toolrm_usage"]["retries"] == 2  # thread totals
    assert out["toolrm_run_usage"]["retries"] == 1  # this run only


async def test_critic_call_budget_per_run(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(
        script=[tool_call_message(BAD, ids=["a"]), tool_call_message(BAD, ids=["b"]), "Done."]
    )
    judge = ScriptedJudge()
    critic = ToolRMCritic(judge, budget=CriticBudget(max_retries=5, max_critic_calls=1))
    out = await run_graph(build_agent_graph(model, tools, critic), how)

    assert judge.calls == 1  # the second proposal was not judged
    record = out["toolrm_verdicts"]["b"]
    assert (record["decision"], record["reason"], record["status"]) == (
        "execute", "budget:max_critic_calls", "skipped")
    assert record["accepted"] is None


async def test_critic_token_budget_per_run(how: str) -> None:
    model = ScriptedChatModel(
        script=[tool_call_message(BAD, ids=["a"]), tool_call_message(BAD, ids=["b"])]
    )
    judge = ScriptedJudge(tokens=(10, 5))
    critic = ToolRMCritic(
        judge, budget=CriticBudget(max_retries=5, max_critic_tokens=15), on_budget_exhausted="halt"
    )
    out = await run_graph(build_agent_graph(model, TOOLS, critic), how)
    assert judge.calls == 1
    assert out["toolrm_verdicts"]["b"]["reason"] == "budget:max_critic_tokens"
    assert "token budget" in out["messages"][-1].content
    assert_every_call_answered(out["messages"])


# ------------------------------------------------------------------------- best of N


async def test_best_of_n_winner_replaces_proposal(how: str) -> None:
    tools, executed = recording_tools()
    original = tool_call_message(BAD, ids=["orig"])
    model = ScriptedChatModel(script=[original, "Sunny."])
    proposer = ScriptedChatModel(
        script=[tool_call_message(GOOD, ids=["sample_good"]),
                tool_call_message(("get_weathr", {"city": "Paris"}), ids=["sample_bad"])]
    )
    judge = ScriptedJudge()
    critic = ToolRMCritic(judge, mode="best_of_n", n=3, proposer=proposer)
    out = await run_graph(build_agent_graph(model, tools, critic), how)

    assert len(proposer.calls) == 2
    assert judge.calls == 3
    proposals = [m for m in out["messages"] if isinstance(m, AIMessage) and m.tool_calls]
    assert len(proposals) == 1  # only the winner is in the transcript
    winner = proposals[0]
    assert winner.id == "fake-1"  # the original message's id, so add_messages replaced it
    assert [c["id"] for c in winner.tool_calls] == ["sample_good"]
    assert executed == [("get_weather", {"city": "Paris"})]
    assert out["toolrm_usage"]["samples"] == 2 and out["toolrm_usage"]["replaced"] == 1
    assert out["toolrm_verdicts"]["sample_good"]["candidates"] == 3
    assert_every_call_answered(out["messages"])


async def test_best_of_n_judges_identical_samples_once(how: str) -> None:
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["o"]), "Sunny."])
    proposer = ScriptedChatModel(default=tool_call_message(GOOD, ids=["same"]))
    judge = ScriptedJudge()
    critic = ToolRMCritic(judge, mode="best_of_n", n=4, proposer=proposer)
    out = await run_graph(build_agent_graph(model, TOOLS, critic), how)
    assert len(proposer.calls) == 3
    assert judge.calls == 1  # three identical samples, one proposal to judge
    assert "replaced" not in out["toolrm_usage"]


async def test_best_of_n_rejected_winner_falls_back_to_retry(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(
        script=[tool_call_message(BAD, ids=["orig"]), tool_call_message(GOOD, ids=["fixed"]), "Sunny."]
    )
    bad_sample = tool_call_message(("get_weathr", {"city": "Paris"}), ids=["s"])
    proposer = ScriptedChatModel(default=bad_sample)
    judge = ScriptedJudge()
    critic = ToolRMCritic(judge, mode="best_of_n", n=2, proposer=proposer, max_retries=1)
    out = await run_graph(build_agent_graph(model, tools, critic), how)
    assert out["toolrm_verdicts"]["orig"]["decision"] == "retry"
    assert executed == [("get_weather", {"city": "Paris"})]
    assert_every_call_answered(out["messages"])


async def test_best_of_n_with_a_ranking_judge_and_a_callable_proposer(how: str) -> None:
    """A judge with its own ``rank`` (e.g. a pairwise tournament) ranks; the critic then
    critiques the winner only."""

    class PairwiseJudge(ScriptedJudge):
        capabilities = JudgeCapabilities(pairwise=True, native_rank=True, async_native=True)

        @property
        def ranked(self) -> int:
            return self._ranked

        def rank(self, context: Any, proposals: Any) -> Ranking:
            self._ranked = len(proposals)
            order = sorted(range(len(proposals)), key=lambda i: -len(proposals[i].calls[0].arguments.get("city", "")))
            return Ranking(order=tuple(order), judge=self.name, comparisons=len(proposals) * 2)

        async def arank(self, context: Any, proposals: Any) -> Ranking:
            return self.rank(context, proposals)

    def proposer(messages: list[Any], k: int) -> list[AIMessage]:
        return [tool_call_message(("get_weather", {"city": "Paris, FR"}), ids=[f"s{i}"]) for i in range(k)]

    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["o"]), "Sunny."])
    judge = PairwiseJudge()
    critic = ToolRMCritic(judge, mode="best_of_n", n=3, proposer=proposer)
    out = await run_graph(build_agent_graph(model, TOOLS, critic), how)
    assert judge.ranked == 2  # the two identical samples count once
    assert judge.calls == 1  # one critique: the winner's
    assert out["toolrm_verdicts"]["s0"]["decision"] == "execute"
    assert out["toolrm_usage"]["critic_calls"] == 4 + 1  # comparisons + the winner's critique


# ------------------------------------------------------------------ parallel, malformed


async def test_parallel_calls_with_one_bad_call(how: str, kind: str) -> None:
    tools, executed = recording_tools()
    first = tool_call_message(("get_time", {"zone": "CET"}), BAD, ids=["t1", "w1"])
    fixed = tool_call_message(("get_time", {"zone": "CET"}), GOOD, ids=["t2", "w2"])
    model = ScriptedChatModel(script=[first, fixed, "Done."])
    out = await run_graph(critic_app(kind, model, tools, ScriptedJudge()), how)

    answers = {m.tool_call_id: m for m in critic_messages(out["messages"])}
    assert set(answers) == {"t1", "w1"}  # the whole proposal was rejected, every id answered
    assert "another call in this turn was rejected" in answers["t1"].content
    assert "missing required argument 'city'" in answers["w1"].content
    # the two approved calls run as parallel tasks: their order is not part of the contract
    assert sorted(executed, key=str) == [("get_time", {"zone": "CET"}), ("get_weather", {"city": "Paris"})]
    assert_every_call_answered(out["messages"])


async def test_malformed_calls_are_answered_and_retried(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[malformed(valid=("get_time", {"zone": "CET"})),
                                      tool_call_message(GOOD, ids=["ok"]), "Sunny."])
    judge = ScriptedJudge(lambda call: None)  # accepts every parsed call
    out = await run_graph(build_agent_graph(model, tools, ToolRMCritic(judge)), how)

    answers = {m.tool_call_id: m.content for m in critic_messages(out["messages"])}
    assert set(answers) == {"valid", "broken"}
    assert "could not be parsed (unterminated JSON)" in answers["broken"]
    assert executed == [("get_weather", {"city": "Paris"})]
    assert out["toolrm_verdicts"]["broken"]["decision"] == "retry"
    assert_every_call_answered(out["messages"])


async def test_only_malformed_calls_let_through_ends_the_run(how: str) -> None:
    """A policy that lets a proposal with nothing runnable through ends the run."""
    model = ScriptedChatModel(script=[malformed()])
    critic = ToolRMCritic(ScriptedJudge(), max_retries=0, on_budget_exhausted="execute")
    out = await run_graph(build_agent_graph(model, TOOLS, critic), how)
    assert "could be parsed" in out["messages"][-1].content
    assert out["toolrm_verdicts"]["broken"]["decision"] == "halt"
    assert_every_call_answered(out["messages"])


# ------------------------------------------------------------------- judge failures


@pytest.mark.parametrize(("behaviour", "decision"), [("unparseable_open", "execute"), ("unparseable_closed", "retry")])
async def test_unparseable_judge_answer_follows_the_judges_policy(how: str, behaviour: str, decision: str) -> None:
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["x"]), tool_call_message(GOOD, ids=["y"]), "Sunny."])
    judge = ScriptedJudge(behaviour=behaviour)  # type: ignore[arg-type]
    out = await run_graph(build_agent_graph(model, TOOLS, ToolRMCritic(judge, max_retries=1)), how)
    record = out["toolrm_verdicts"]["x"]
    assert record["status"] == "unparseable"
    assert record["decision"] == decision
    assert_every_call_answered(out["messages"])


async def test_judge_that_raises_fails_open_by_default(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[tool_call_message(BAD, ids=["x"]), "Done."])
    out = await run_graph(build_agent_graph(model, tools, ToolRMCritic(ScriptedJudge(behaviour="raise"))), how)
    record = out["toolrm_verdicts"]["x"]
    assert (record["decision"], record["reason"], record["status"]) == ("execute", "judge_error", "error")
    assert "JudgeBackendError: backend down" in record["error"]
    assert out["toolrm_usage"]["judge_errors"] == 1
    assert out["toolrm_usage"]["input_tokens"] == 7  # billed from the post-mortem
    assert_every_call_answered(out["messages"])


async def test_judge_that_raises_with_reject_policy_stays_bounded(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=[f"c{i}"]) for i in range(4)])
    judge = ScriptedJudge(behaviour="raise")
    critic = ToolRMCritic(judge, on_judge_error="reject", max_retries=2, on_budget_exhausted="halt")
    out = await run_graph(build_agent_graph(model, tools, critic), how)
    assert len(model.calls) == 3  # the proposal, then two retries, then the halt
    assert executed == []
    assert "could not check this proposal" in critic_messages(out["messages"])[0].content
    assert out["messages"][-1].content.startswith("I stopped")
    assert_every_call_answered(out["messages"])


async def test_judge_that_raises_with_halt_policy(how: str) -> None:
    model = ScriptedChatModel(script=[tool_call_message(GOOD)])
    critic = ToolRMCritic(ScriptedJudge(behaviour="raise"), on_judge_error="halt")
    out = await run_graph(build_agent_graph(model, TOOLS, critic), how)
    assert "critic failed" in out["messages"][-1].content
    assert_every_call_answered(out["messages"])


async def test_judge_that_times_out(how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["x"]), "Sunny."])
    judge = ScriptedJudge(behaviour="sleep", sleep_s=3.0)
    critic = ToolRMCritic(judge, judge_timeout_s=0.2)
    start = time.perf_counter()
    out = await run_graph(build_agent_graph(model, tools, critic), how)
    assert time.perf_counter() - start < 2.0
    record = out["toolrm_verdicts"]["x"]
    assert record["reason"] == "judge_error" and "timed out after 0.2s" in record["error"]
    assert executed == [("get_weather", {"city": "Paris"})]  # failed open


# ------------------------------------------------------------------ checkpoints


def paused_before_tools(tools: list[Any], judge: ScriptedJudge) -> Any:
    """A checkpointed graph that stops before the tools; its model proposes ``GOOD`` (id ``x``)."""
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["x"]), "Sunny."])
    critic = ToolRMCritic(judge)
    return build_agent_graph(model, tools, critic, checkpointer=InMemorySaver(), interrupt_before=["tools"])


async def test_checkpoint_resume_neither_rejudges_nor_rebills(how: str) -> None:
    tools, executed = recording_tools()
    judge = ScriptedJudge()
    graph = paused_before_tools(tools, judge)
    cfg = {"configurable": {"thread_id": "resume"}}
    await run_graph(graph, how, ASK, cfg)
    assert graph.get_state(cfg).next == ("tools",)
    assert judge.calls == 1 and executed == []

    # re-enter the critic on the same, already judged message (as after a fork/replay)
    graph.update_state(cfg, {"messages": []}, as_node="agent")
    assert graph.get_state(cfg).next == ("critic",)
    await run_graph(graph, how, None, cfg)
    assert graph.get_state(cfg).next == ("tools",)
    assert judge.calls == 1  # the stored verdict was reused

    out = await run_graph(graph, how, None, cfg)
    assert judge.calls == 1
    assert executed == [("get_weather", {"city": "Paris"})]
    assert out["toolrm_usage"]["critic_calls"] == 1  # billed once
    assert out["messages"][-1].content == "Sunny."
    assert_every_call_answered(out["messages"])


async def test_changed_proposal_with_same_ids_is_judged_again(how: str) -> None:
    judge = ScriptedJudge()
    graph = paused_before_tools(recording_tools()[0], judge)
    cfg = {"configurable": {"thread_id": "edit"}}
    state = await run_graph(graph, how, ASK, cfg)
    edited = state["messages"][-1].model_copy(
        update={"tool_calls": [{"name": "get_weather", "args": {"town": "X"}, "id": "x", "type": "tool_call"}]}
    )
    graph.update_state(cfg, {"messages": [edited]}, as_node="agent")  # a human edits the call
    out = await run_graph(graph, how, None, cfg)
    assert judge.calls == 2
    assert out["toolrm_verdicts"]["x"]["decision"] == "retry"


# ------------------------------------------------------------------- streaming


@pytest.mark.parametrize("tagged", [True, False])
async def test_judge_tokens_never_stream(how: str, kind: str, tagged: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not tagged:  # control: without the tag the judge's answer does stream
        monkeypatch.setattr(calling, "nostream_config", lambda config: config)
    model = ScriptedChatModel(script=[tool_call_message(GOOD), "POLICY-ANSWER"])
    judge_model = ScriptedChatModel(default="JUDGE-SECRET OK", id_prefix="judge")
    graph = critic_app(kind, model, TOOLS, ModelBackedJudge(judge_model))
    chunks = await stream_messages(graph, how)
    texts = [str(message.content) for message, _ in chunks]
    assert len(judge_model.calls) == 1
    assert "POLICY-ANSWER" in texts
    assert any("JUDGE-SECRET" in t for t in texts) is (not tagged)


# ------------------------------------------------------------------- wiring


def hand_built_graph(model: ScriptedChatModel, critic: ToolRMCritic, *, via_add_critic: bool) -> Any:
    bound = model.bind_tools(TOOLS)

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [bound.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node("tools", ToolNode(TOOLS))
    builder.add_edge(START, "agent")
    if via_add_critic:
        add_critic(builder, critic)
    else:  # the critic object itself as the node
        builder.add_node("critic", critic, destinations=("tools", "agent", END))
        builder.add_conditional_edges(
            "agent", lambda s: "critic" if s["messages"][-1].tool_calls else END, ["critic", END]
        )
        builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("via_add_critic", [True, False])
async def test_critic_in_a_messages_state_graph(how: str, via_add_critic: bool) -> None:
    model = ScriptedChatModel(script=[tool_call_message(BAD), tool_call_message(GOOD), "Sunny."])
    judge = ScriptedJudge()
    critic = ToolRMCritic(judge, tools=None if via_add_critic else TOOLS)
    graph = hand_built_graph(model, critic, via_add_critic=via_add_critic)
    cfg = {"configurable": {"thread_id": "t"}}
    out = await run_graph(graph, how, ASK, cfg)
    assert judge.calls == 2
    # the critic brought its own state keys (not in MessagesState's output, but in state)
    assert "toolrm_usage" not in out
    assert graph.get_state(cfg).values["toolrm_usage"]["retries"] == 1
    assert {t.name for t in judge.contexts[0].tools} == {"get_weather", "get_time"}
    assert judge.contexts[0].user_request == "What is the weather in Paris?"
    assert_every_call_answered(out["messages"])


def test_add_critic_refuses_a_model_node_already_wired_to_the_tools() -> None:
    builder = StateGraph(ToolRMState)
    builder.add_node("agent", lambda s: s)
    builder.add_node("tools", ToolNode(TOOLS))
    builder.add_conditional_edges("agent", tools_condition)
    with pytest.raises(ValueError, match="already has outgoing edges"):
        add_critic(builder, ToolRMCritic(ScriptedJudge()))
    with pytest.raises(ValueError, match="no node 'model'"):
        add_critic(builder, ToolRMCritic(ScriptedJudge()), model_node="model")


def test_config_validation_and_override() -> None:
    with pytest.raises(ValueError, match="mode"):
        ToolRMCritic(ScriptedJudge(), mode="vote")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_retries"):
        CriticBudget(max_retries=-1)
    with pytest.raises(ValueError, match="on_judge_error"):
        CriticOptions(on_judge_error="ignore")  # type: ignore[arg-type]
    critic = ToolRMCritic(ScriptedJudge(), max_retries=3, tools=TOOLS)
    assert critic.options.budget.max_retries == 3
    changed = critic.override(max_retries=1, mode="best_of_n", n=2, tools_node="run_tools")
    assert (changed.options.budget.max_retries, changed.options.mode, changed.options.n) == (1, "best_of_n", 2)
    assert changed.tools_node == "run_tools" and changed.tools == critic.tools
    assert critic.options.budget.max_retries == 3  # the original is unchanged
    with pytest.raises(dataclasses.FrozenInstanceError):
        critic.options.mode = "best_of_n"  # type: ignore[misc]


async def test_no_tool_calls_routes_to_end() -> None:
    critic = ToolRMCritic(ScriptedJudge())
    command = critic({"messages": [HumanMessage("hi"), AIMessage("hello")]}, {})
    assert command.goto == END and not command.update
    with pytest.raises(ValueError, match="no AIMessage"):
        critic({"messages": [HumanMessage("hi")]}, {})


async def test_ainvoke_uses_the_async_judge_path() -> None:
    model = ScriptedChatModel(script=[tool_call_message(BAD), tool_call_message(GOOD), "Sunny."])
    judge = AsyncOnlyJudge()
    out = await build_agent_graph(model, TOOLS, ToolRMCritic(judge)).ainvoke(ASK)
    assert judge.calls == 2
    assert out["toolrm_usage"].get("judge_errors", 0) == 0


async def test_best_of_n_samples_do_not_stream(how: str) -> None:
    model = ScriptedChatModel(script=[tool_call_message(BAD, ids=["o"]), "POLICY-ANSWER"])
    proposer = ScriptedChatModel(default=AIMessage(
        "SAMPLE-TEXT", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "s", "type": "tool_call"}]))
    critic = ToolRMCritic(ScriptedJudge(), mode="best_of_n", n=2, proposer=proposer)
    graph = build_agent_graph(model, TOOLS, critic)
    chunks = await stream_messages(graph, how)
    streamed = [(meta.get("langgraph_node"), str(message.content)) for message, meta in chunks]
    assert len(proposer.calls) == 1
    assert ("agent", "POLICY-ANSWER") in streamed
    assert not any(text == "SAMPLE-TEXT" for _, text in streamed)  # it won, but never streamed


def test_add_critic_needs_a_proposer_for_best_of_n() -> None:
    builder = StateGraph(ToolRMState)
    builder.add_node("agent", lambda s: s)
    builder.add_node("tools", ToolNode(TOOLS))
    with pytest.raises(ValueError, match="needs a proposer"):
        add_critic(builder, ToolRMCritic(ScriptedJudge(), mode="best_of_n"))


async def test_best_of_n_proposer_that_fails_keeps_the_original(how: str) -> None:
    def proposer(messages: list[Any], k: int) -> list[AIMessage]:
        raise RuntimeError("sampler down")

    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["o"]), "Sunny."])
    judge = ScriptedJudge()
    critic = ToolRMCritic(judge, mode="best_of_n", proposer=proposer)
    out = await run_graph(build_agent_graph(model, TOOLS, critic), how)
    assert judge.calls == 1
    assert out["toolrm_verdicts"]["o"]["decision"] == "execute"
    assert out["messages"][-1].content == "Sunny."


def test_retry_model_answers_after_a_rejection_only() -> None:
    from toolrm_agent.critic.node import build_agent_graph

    bad = tool_call_message(("get_weather", {"town": "Paris"}), ids=["c1"])
    policy = ScriptedChatModel(script=[bad, "It is sunny in Paris."], id_prefix="greedy")
    retry = ScriptedChatModel(script=[tool_call_message(("get_weather", {"city": "Paris"}), ids=["c2"])],
                              id_prefix="sampled")
    critic = ToolRMCritic(ScriptedJudge(), mode="retry", max_retries=2)
    graph = build_agent_graph(policy, TOOLS, critic=critic, retry_model=retry)
    messages = graph.invoke({"messages": [HumanMessage("Weather in Paris?")]})["messages"]
    assert len(policy.calls) == 2 and len(retry.calls) == 1  # first try and final answer greedy
    executed = [m for m in messages if isinstance(m, ToolMessage) and m.status != "error"]
    assert [m.content for m in executed] == ["sunny in Paris"]
    assert messages[-1].content == "It is sunny in Paris."
    assert_every_call_answered(messages)
