"""The shared agent-task runner: stub tools, name mapping, one run of a graph, the checker.

Offline and fast: a scripted policy (``tests/fakes.py``), the schema judge, and BFCL
questions built here (the checker is BFCL's own, given the possible answer).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from eval.bfcl.questions import BfclQuestion
from eval.tasks.runner import (
    SYSTEM_PROMPT,
    AgentTask,
    StubToolbox,
    TaskRun,
    UsageMeter,
    agent_arm,
    lift_report,
    max_steps_for,
    run_arms,
    run_task,
    safe_tool_names,
    sampling_proposer,
    summarize,
)
from tests.fakes import FACTORIAL_DOC, ScriptedChatModel, bfcl_doc, bfcl_task, factorial_task, tool_call_message
from toolrm_agent.core.specs import ToolSpec
from toolrm_agent.critic.node import ToolRMCritic, build_agent_graph
from toolrm_agent.judges.schema import SchemaJudge

WEATHER_DOC = bfcl_doc(
    "get_weather", "Current weather of a city.",
    {"city": {"type": "string", "description": "City name."},
     "unit": {"type": "string", "enum": ["C", "F"], "description": "Unit."}},
    ["city"],
)


def weather_task() -> AgentTask:
    answer = [
        {"get_weather": {"city": ["Paris"], "unit": ["C", ""]}},
        {"get_weather": {"city": ["Rome"], "unit": ["C", ""]}},
    ]
    return bfcl_task("parallel_9001", "Weather in Paris and in Rome, in C.", WEATHER_DOC, answer)


_IDS = itertools.count(1)


def fresh(message: AIMessage) -> AIMessage:
    """A copy with new message and tool call ids, as a real model gives on every call."""
    n = next(_IDS)
    calls = [{**tc, "id": f"{tc['id']}_{n}"} for tc in message.tool_calls]
    return message.model_copy(update={"id": f"msg-{n}", "tool_calls": calls})


def fixing_policy(bad: AIMessage, good: AIMessage) -> ScriptedChatModel:
    """Proposes ``bad`` first; after a critique (an error ToolMessage) proposes ``good``."""

    def answer(messages: list[BaseMessage]) -> AIMessage:
        last = messages[-1]
        if isinstance(last, ToolMessage) and last.status == "error":
            return fresh(good)
        return fresh(bad)

    return ScriptedChatModel(default=answer)


def repeating(message: AIMessage) -> ScriptedChatModel:
    """Always proposes ``message`` (with fresh ids)."""
    return ScriptedChatModel(default=lambda _messages: fresh(message))


def run_a_stubborn_policy(critic: ToolRMCritic, max_steps: int) -> tuple[TaskRun, ScriptedChatModel]:
    """The factorial task under ``critic``, with a policy that always proposes ``num=5``
    (the schema wants ``number``); the run and the policy."""
    policy = repeating(tool_call_message(("math_factorial", {"num": 5})))

    def graph(tools: list[Any]) -> Any:
        return build_agent_graph(policy, tools, critic=critic)

    return run_task(factorial_task(5), graph, arm="critic", max_steps=max_steps), policy


# ------------------------------------------------------------------------- tool names


def test_safe_tool_names_map_dots_and_stay_one_to_one() -> None:
    names = safe_tool_names(["math.factorial", "math_factorial", "a b", "ok-name"])
    assert names["math_factorial"] == "math_factorial"  # already safe: kept
    assert names["math.factorial"] == "math_factorial_2"  # would collide: suffixed
    assert names["a b"] == "a_b"
    assert names["ok-name"] == "ok-name"
    assert len(set(names.values())) == len(names)


def test_stub_tools_record_calls_under_the_original_name() -> None:
    toolbox = StubToolbox([ToolSpec.from_bfcl(FACTORIAL_DOC)])
    (tool,) = toolbox.tools
    assert tool.name == "math_factorial"
    assert tool.args_schema["properties"]["number"]["type"] == "integer"  # BFCL int → JSON schema
    ack = json.loads(tool.invoke({"number": 5}))
    assert ack == {"status": "ok", "function": "math.factorial"}
    # the stub does not validate: what the model passed is what is recorded
    tool.invoke({"num": 5})
    assert [(c.name, c.arguments) for c in toolbox.calls] == [
        ("math.factorial", {"number": 5}),
        ("math.factorial", {"num": 5}),
    ]
    assert toolbox.original_name("math_factorial") == "math.factorial"
    assert toolbox.original_name("unknown") == "unknown"


def test_task_messages_put_our_system_message_before_bfcl_turn() -> None:
    question = BfclQuestion(
        id="live_simple_1-1-0",
        category="live_simple",
        turns=[[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]],
        functions=[FACTORIAL_DOC],
    )
    task = AgentTask.from_question(question)
    assert [type(m) for m in task.messages] == [SystemMessage, SystemMessage, HumanMessage]
    assert task.messages[0].content == SYSTEM_PROMPT
    assert task.request == "Hi"
    multi = question.model_copy(update={"turns": [[{"role": "user", "content": "a"}]] * 2})
    with pytest.raises(ValueError, match="multi-turn"):
        AgentTask.from_question(multi)


# ------------------------------------------------------------------------------- runs


def test_baseline_executes_the_bad_call_and_the_checker_rejects_it() -> None:
    policy = ScriptedChatModel(script=[tool_call_message(("math_factorial", {"num": 5}))])
    run = run_task(factorial_task(5), lambda tools: build_agent_graph(policy, tools), arm="baseline")
    assert run.stop == "executed"
    assert run.executed == [{"math.factorial": {"num": 5}}]  # mapped back to the dotted name
    assert not run.valid
    assert run.error_type == "simple_function_checker:missing_required"
    assert [e.kind for e in run.events] == ["proposal", "executed"]
    # the model saw the safe tool name
    assert [t.name for t in policy.bound_tools[0]] == ["math_factorial"]


def test_critic_catches_the_bad_call_and_the_revision_passes() -> None:
    policy = fixing_policy(
        tool_call_message(("math_factorial", {"num": 5})),
        tool_call_message(("math_factorial", {"number": 5})),
    )
    meter = UsageMeter()
    arm = agent_arm("critic", policy, ToolRMCritic(SchemaJudge(), max_retries=2), meter=meter)
    run = run_task(
        factorial_task(5), arm.make_graph, arm="critic", meter=meter, max_steps=max_steps_for(2)
    )
    assert [e.kind for e in run.events] == [
        "proposal",
        "critique",
        "proposal",
        "accepted",
        "executed",
    ]
    assert "number" in run.critiques[0]
    assert run.executed == [{"math.factorial": {"number": 5}}]
    assert run.valid and run.error_type is None
    assert run.retries == 1
    assert run.policy_calls == 2
    assert run.critic_calls == 2
    assert run.policy_input_tokens > 0 and run.policy_output_tokens > 0


def test_parallel_calls_are_all_executed_and_checked_as_a_set() -> None:
    policy = ScriptedChatModel(
        script=[
            tool_call_message(
                ("get_weather", {"city": "Rome", "unit": "C"}),
                ("get_weather", {"city": "Paris", "unit": "C"}),
            )
        ]
    )
    toolboxes: list[StubToolbox] = []
    task = weather_task()
    original = task.toolbox

    class Spy(AgentTask):
        def toolbox(self) -> StubToolbox:  # keep the run's toolbox to look at its records
            box = original()
            toolboxes.append(box)
            return box

    spy = Spy(question=task.question, messages=task.messages, answer=task.answer)
    run = run_task(spy, lambda tools: build_agent_graph(policy, tools), arm="baseline")
    assert run.valid
    assert len(run.executed) == 2
    assert sorted(c.arguments["city"] for c in toolboxes[0].calls) == ["Paris", "Rome"]


def test_a_prose_answer_ends_the_run_and_counts_as_wrong() -> None:
    policy = ScriptedChatModel(script=["The factorial of 5 is 120."])
    run = run_task(factorial_task(5), lambda tools: build_agent_graph(policy, tools), arm="baseline")
    assert run.stop == "text"
    assert run.executed == []
    assert not run.valid
    assert run.events[-1].kind == "text"


def test_the_step_bound_stops_a_critic_loop() -> None:
    run, policy = run_a_stubborn_policy(ToolRMCritic(SchemaJudge(), max_retries=50), max_steps=5)
    assert run.stop == "step_limit"
    assert not run.valid
    assert len(policy.calls) <= 3


def test_exhausted_retries_let_the_last_proposal_run() -> None:
    critic = ToolRMCritic(SchemaJudge(), max_retries=1, on_budget_exhausted="execute")
    run, _ = run_a_stubborn_policy(critic, max_steps=max_steps_for(1))
    assert run.stop == "executed"
    assert run.retries == 1
    assert not run.valid
    assert run.events[-2].text.startswith("budget:")  # the accepted event says why it ran


def test_a_broken_model_ends_the_run_not_the_benchmark() -> None:
    policy = ScriptedChatModel(script=[RuntimeError("backend down")])
    run = run_task(factorial_task(5), lambda tools: build_agent_graph(policy, tools), arm="baseline")
    assert run.stop == "error"
    assert not run.valid
    assert run.error is not None and "backend down" in run.error


def test_best_of_n_with_a_sampler_swaps_in_the_winner() -> None:
    policy = repeating(tool_call_message(("math_factorial", {"num": 5})))
    sampler = repeating(tool_call_message(("math_factorial", {"number": 5})))
    meter = UsageMeter()
    critic = ToolRMCritic(SchemaJudge(), mode="best_of_n", n=3, max_retries=1)
    arm = agent_arm("critic", policy, critic, sampler=sampler, meter=meter)
    run = run_task(
        factorial_task(5), arm.make_graph, arm="critic", meter=meter, max_steps=max_steps_for(1)
    )
    kinds = [e.kind for e in run.events]
    assert kinds[:2] == ["proposal", "best_of_n"]
    assert run.valid
    assert run.executed == [{"math.factorial": {"number": 5}}]
    assert len(sampler.calls) == 2  # n - 1 extra candidates
    assert run.policy_calls == 3  # the policy's own proposal and the two samples


def test_sampling_proposer_uses_n_on_models_that_have_it() -> None:
    seen: dict[str, Any] = {}

    class NSampler(ScriptedChatModel):
        n: int = 1

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[no-untyped-def]
            from langchain_core.outputs import ChatGeneration, ChatResult

            seen.update(kwargs)
            k = kwargs["n"]
            return ChatResult(
                generations=[ChatGeneration(message=AIMessage(content=str(i))) for i in range(k)]
            )

    tools = StubToolbox([ToolSpec.from_bfcl(FACTORIAL_DOC)]).tools
    out = sampling_proposer(NSampler(), tools)([HumanMessage(content="x")], 3)
    assert [m.content for m in out] == ["0", "1", "2"]
    assert seen["n"] == 3 and [t.name for t in seen["tools"]] == ["math_factorial"]


# --------------------------------------------------------------------------- reports


def _run(id: str, arm: str, valid: bool, **kw: Any) -> TaskRun:  # noqa: A002
    return TaskRun(id=id, category="simple_python", arm=arm, stop="executed", valid=valid, **kw)


def test_summarize_and_lift_report_math() -> None:
    runs = [
        _run("a", "baseline", False, policy_calls=1, seconds=1.0),
        _run("a", "critic", True, policy_calls=2, critic_calls=2, retries=1, seconds=2.0),
        _run("b", "baseline", True, policy_calls=1, seconds=1.0),
        _run("b", "critic", False, policy_calls=1, critic_calls=1, seconds=1.5),
        _run("c", "baseline", False, policy_calls=1, seconds=1.0),
        _run("c", "critic", True, policy_calls=3, critic_calls=3, retries=2, seconds=3.0),
        _run("d", "baseline", True, policy_calls=1, seconds=1.0),
        _run("d", "critic", True, policy_calls=1, critic_calls=1, seconds=1.0),
    ]
    s = summarize(runs, "critic")
    assert (s.n, s.correct, s.accuracy) == (4, 3, 0.75)
    assert (s.policy_calls, s.critic_calls, s.retries, s.seconds) == (7, 7, 3, 7.5)
    report = lift_report(runs)
    assert report["baseline_acc"] == 0.5 and report["critic_acc"] == 0.75
    assert report["lift"] == pytest.approx(0.25)
    assert report["fixed"] == ["a", "c"] and report["broken"] == ["b"]
    assert report["n"] == 4


def test_run_arms_runs_every_task_by_every_arm_in_order() -> None:
    policy = repeating(tool_call_message(("math_factorial", {"number": 5})))
    arms = [agent_arm("baseline", policy), agent_arm("critic", policy, ToolRMCritic(SchemaJudge()))]
    seen: list[tuple[str, str]] = []
    runs = run_arms(
        [factorial_task(5), factorial_task(5)], arms, on_run=lambda t, r: seen.append((t.id, r.arm))
    )
    assert [r.arm for r in runs] == ["baseline", "critic", "baseline", "critic"]
    assert all(r.valid for r in runs)
    assert len(seen) == 4
    with pytest.raises(ValueError, match="unique"):
        run_arms([factorial_task(5)], [arms[0], arms[0]])


def test_a_halting_critic_ends_the_run_with_its_message() -> None:
    critic = ToolRMCritic(SchemaJudge(), max_retries=0, on_budget_exhausted="halt")
    run, _ = run_a_stubborn_policy(critic, max_steps=max_steps_for(0))
    assert run.stop == "halted"
    assert run.events[-1].kind == "halt" and run.events[-1].text
    assert run.executed == [] and not run.valid


def test_one_critique_event_per_rejected_parallel_proposal() -> None:
    bad_and_good = tool_call_message(
        ("get_weather", {"city": "Paris", "unit": "K"}), ("get_weather", {"city": "Rome"})
    )
    fixed = tool_call_message(
        ("get_weather", {"city": "Paris", "unit": "C"}), ("get_weather", {"city": "Rome"})
    )
    policy = fixing_policy(bad_and_good, fixed)
    critic = ToolRMCritic(SchemaJudge(), max_retries=2)
    run = run_task(
        weather_task(),
        lambda tools: build_agent_graph(policy, tools, critic=critic),
        arm="critic",
        max_steps=max_steps_for(2),
    )
    kinds = [e.kind for e in run.events]
    assert kinds.count("critique") == 1
    assert "unit" in run.critiques[0]
    assert run.valid
