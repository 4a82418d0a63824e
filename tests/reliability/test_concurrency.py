"""Concurrent runs through one critic: no verdict crosses threads, the judge cap holds.

A small version of ``toolrm bench concurrency`` (no timing asserts).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from eval.bench.concurrency import LatencyJudge, RunScriptModel, check_isolation, load_test, lookup
from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.critic.node import CriticOptions, ToolRMCritic, build_agent_graph


async def test_thirty_async_runs_stay_isolated_and_capped() -> None:
    out = await load_test(30, limit=3, judge_latency_s=0.01, seed=3)
    assert out["isolation"]["violations"] == 0, out["isolation"]["examples"]
    assert out["isolation"]["judge_calls"] == 30 * 2
    assert out["cap"]["max_in_flight"] <= 3
    assert out["cap"]["max_in_flight"] >= 2  # the runs did overlap


async def test_sync_runs_in_threads_share_one_cap() -> None:
    judge = LatencyJudge(0.01, seed=5)
    critic = ToolRMCritic(judge, options=CriticOptions(max_concurrent_judge_calls=2))
    graph = build_agent_graph(RunScriptModel(), [lookup], critic, checkpointer=InMemorySaver())

    def one(i: int) -> None:
        graph.invoke({"messages": [HumanMessage(f"run {i}")]}, {"configurable": {"thread_id": f"t{i}"}})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(16)))
    assert judge.max_in_flight <= 2
    isolation = await check_isolation(graph, judge, 16)
    assert isolation["violations"] == 0, isolation["examples"]


async def test_no_cap_by_default_and_a_bad_cap_is_refused() -> None:
    out = await load_test(12, limit=100, judge_latency_s=0.01, seed=1)
    assert out["cap"]["max_in_flight"] > 3  # nothing held the calls back
    with pytest.raises(ConfigurationError, match="max_concurrent_judge_calls"):
        CriticOptions(max_concurrent_judge_calls=0)
    with pytest.raises(ValueError):  # still a ValueError for callers that catch that
        ToolRMCritic(LatencyJudge()).override(max_concurrent_judge_calls=-1)
