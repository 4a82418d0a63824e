"""Crash and resume: an approved call that already ran never runs again.

* in-process: one of two approved parallel calls raises, the run is resumed on the same
  thread (memory and SQLite checkpointers, sync and async): only the failed call runs
  again;
* out of process: a real worker (:mod:`eval.bench.crash_worker`) is killed with
  SIGKILL at randomized points (after the proposal, during judging, after approval,
  during and after a tool call) and resumed; no tool whose result the checkpoint held
  runs again, and no proposal whose verdict it held is judged again.
  (``toolrm bench resume --kills 50`` runs the same harness at scale.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from eval.bench.resume import PHASES, run_kills
from tests.fakes import ScriptedChatModel, ScriptedJudge, tool_call_message
from toolrm_agent.critic.graph import _answered, pending_tool_calls
from toolrm_agent.critic.node import ToolRMCritic, build_agent_graph

ASK = {"messages": [HumanMessage("Weather in Paris and Rome?")]}


def flaky_weather() -> tuple[Any, list[str], dict[str, bool]]:
    """A tool that records every execution and raises for Rome while ``fail["on"]``."""
    executed: list[str] = []
    fail = {"on": True}

    @tool
    def get_weather(city: str) -> str:
        """Current weather of a city."""
        executed.append(city)
        if city == "Rome" and fail["on"]:
            raise RuntimeError("weather service down for Rome")
        return f"sunny in {city}"

    return get_weather, executed, fail


def two_calls() -> AIMessage:
    return tool_call_message(
        ("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"}), ids=["p", "r"]
    )


@pytest.fixture(params=["memory", "sqlite"])
def saver_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture()
def sync_saver(saver_kind: str, tmp_path: Path) -> Iterator[Any]:
    if saver_kind == "memory":
        yield InMemorySaver()
        return
    conn = sqlite3.connect(str(tmp_path / "cp.sqlite"), check_same_thread=False)
    yield SqliteSaver(conn)
    conn.close()


def test_resume_after_a_failed_parallel_call_runs_only_that_call(sync_saver: Any) -> None:
    weather, executed, fail = flaky_weather()
    model = ScriptedChatModel(script=[two_calls(), "Sunny in both."])
    judge = ScriptedJudge(lambda call: None)
    graph = build_agent_graph(
        model, [weather], ToolRMCritic(judge), checkpointer=sync_saver, handle_tool_errors=False
    )
    cfg = {"configurable": {"thread_id": "flaky"}}
    with pytest.raises(RuntimeError, match="down for Rome"):
        graph.invoke(ASK, cfg, durability="sync")
    assert sorted(executed) == ["Paris", "Rome"]

    fail["on"] = False
    out = graph.invoke(None, cfg, durability="sync")
    assert sorted(executed) == ["Paris", "Rome", "Rome"]  # Paris ran once
    assert judge.calls == 1  # the stored verdict held
    results = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert [(m.tool_call_id, m.content) for m in results] == [
        ("p", "sunny in Paris"),
        ("r", "sunny in Rome"),
    ]
    assert out["messages"][-1].content == "Sunny in both."


@pytest.mark.parametrize("saver_kind", ["memory", "sqlite"])
async def test_async_resume_after_a_failed_parallel_call_runs_only_that_call(
    saver_kind: str, tmp_path: Path
) -> None:
    weather, executed, fail = flaky_weather()
    model = ScriptedChatModel(script=[two_calls(), "Sunny in both."])
    judge = ScriptedJudge(lambda call: None)
    cfg = {"configurable": {"thread_id": "flaky"}}

    async def scenario(saver: Any) -> dict[str, Any]:
        graph = build_agent_graph(model, [weather], ToolRMCritic(judge), checkpointer=saver, handle_tool_errors=False)
        with pytest.raises(RuntimeError, match="down for Rome"):
            await graph.ainvoke(ASK, cfg, durability="sync")
        fail["on"] = False
        return await graph.ainvoke(None, cfg, durability="sync")

    if saver_kind == "memory":
        out = await scenario(InMemorySaver())
    else:
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "cp.sqlite")) as saver:
            out = await scenario(saver)
    assert sorted(executed) == ["Paris", "Rome", "Rome"]
    assert judge.calls == 1
    assert out["messages"][-1].content == "Sunny in both."


def test_baseline_graph_resumes_the_same_way() -> None:
    weather, executed, fail = flaky_weather()
    model = ScriptedChatModel(script=[two_calls(), "Sunny in both."])
    graph = build_agent_graph(model, [weather], checkpointer=InMemorySaver(), handle_tool_errors=False)  # no critic
    cfg = {"configurable": {"thread_id": "flaky"}}
    with pytest.raises(RuntimeError):
        graph.invoke(ASK, cfg)
    fail["on"] = False
    graph.invoke(None, cfg)
    assert sorted(executed) == ["Paris", "Rome", "Rome"]


def test_calls_already_answered_are_not_dispatched_nor_run() -> None:
    proposal = two_calls()
    answered = ToolMessage("sunny in Paris", tool_call_id="p", name="get_weather")
    assert [c["id"] for c in pending_tool_calls([HumanMessage("q"), proposal])] == ["p", "r"]
    assert [c["id"] for c in pending_tool_calls([HumanMessage("q"), proposal, answered])] == ["r"]
    # an answer to an earlier proposal that reused the id does not count
    earlier = ToolMessage("rejected", tool_call_id="p", name="get_weather")
    transcript = [HumanMessage("q"), proposal, earlier, proposal.model_copy(update={"id": "again"})]
    assert [c["id"] for c in pending_tool_calls(transcript)] == ["p", "r"]
    # the critic's own update (a best-of-N winner) is the proposal when it has one
    winner = tool_call_message(("get_weather", {"city": "Oslo"}), ids=["o"])
    assert [c["id"] for c in pending_tool_calls([HumanMessage("q"), proposal], [winner])] == ["o"]

    request = SimpleNamespace(tool_call={"id": "p"}, state={"messages": [proposal, answered]})
    assert _answered(request) is answered
    request = SimpleNamespace(tool_call={"id": "p"}, state={"messages": [earlier, proposal]})
    assert _answered(request) is None


def test_sigkill_at_random_points_never_reruns_stored_work(tmp_path: Path) -> None:
    """8 kill points, the phases in turn (sync and async workers), resumed in-process."""
    out = run_kills(8, seed=7, resume="inprocess", work_dir=tmp_path)
    totals = out["totals"]
    problems = [p["problem"] for p in out["points"] if p["problem"]]
    assert totals["kill_points"] == 8, problems
    assert set(out["per_phase"]) == set(PHASES)
    assert totals["tool_reexec_stored"] == 0, out["points"]
    assert totals["rejudge_stored"] == 0, out["points"]
    assert totals["incomplete"] == 0, problems
