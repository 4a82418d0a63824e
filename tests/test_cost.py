"""``toolrm eval cost``: judge cost per context and per proposal, and the policy's step beside it."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from eval.commands.cost import PolicyCost, agent_steps, ratios, time_judge, time_policy
from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.errors import JudgeBackendError, JudgePostMortem
from toolrm_agent.core.verdicts import Ranking
from toolrm_agent.judges.base import Judge


class Clock:
    """A clock that the timed code moves: every ``advance`` adds seconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CostedJudge:
    """Ranks in ``per_proposal`` seconds of the fake clock per proposal; the first call also
    pays ``load``; contexts named in ``fail`` raise a backend error. A critique takes ``critique``
    seconds (and fails in the contexts named in ``fail_critique``)."""

    def __init__(self, clock: Clock, *, per_proposal: float, load: float, fail: Sequence[str] = (),
                 critique: float = 0.0, fail_critique: Sequence[str] = ()) -> None:
        self.clock, self.per_proposal, self.load, self.fail = clock, per_proposal, load, set(fail)
        self.critique_s, self.fail_critique = critique, set(fail_critique)
        self.seen: list[int] = []
        self.critiqued: list[Proposal] = []

    def rank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        if not self.seen:
            self.clock.advance(self.load)
        self.seen.append(len(proposals))
        self.clock.advance(self.per_proposal * len(proposals))
        if context.turns[-1].content in self.fail:
            raise JudgeBackendError("down", JudgePostMortem(judge="costed", attempts=1))
        return Ranking(order=tuple(reversed(range(len(proposals)))), judge="costed")  # the last is best

    def critique(self, context: JudgeContext, proposal: Proposal) -> None:
        self.critiqued.append(proposal)
        self.clock.advance(self.critique_s)
        if context.turns[-1].content in self.fail_critique:
            raise JudgeBackendError("down", JudgePostMortem(judge="costed", attempts=1))


def contexts(n: int, proposals: int = 2) -> list[tuple[JudgeContext, tuple[Proposal, ...]]]:
    calls = tuple(Proposal(calls=(ToolCall(name="f", arguments={"a": k}, id="c1"),)) for k in range(proposals))
    return [(JudgeContext.build([Turn(role="user", content=f"q{i}")]), calls) for i in range(n)]


def test_a_judge_is_timed_per_context_and_per_proposal_without_its_warm_up() -> None:
    clock = Clock()
    judge = CostedJudge(clock, per_proposal=0.5, load=30.0)

    def build(spec: str) -> Judge:
        clock.advance(2.0)
        return judge  # type: ignore[return-value]

    cost = time_judge("fake", build, contexts(5), clock=clock)
    assert judge.seen == [2] * 5  # each context's proposals in one call
    assert (cost.load_seconds, cost.warmup_seconds) == (2.0, 31.0)
    assert (cost.contexts, cost.proposals, cost.errors) == (4, 8, 0)
    assert (cost.ms_per_context, cost.ms_per_context_median, cost.ms_per_proposal) == (1000.0, 1000.0, 500.0)


def test_the_winners_critique_is_timed_apart_from_the_ranking() -> None:
    clock = Clock()
    judge = CostedJudge(clock, per_proposal=0.5, load=0.0, critique=0.25, fail_critique=["q3"])
    cost = time_judge("fake", lambda _: judge, contexts(5, proposals=3), clock=clock)  # type: ignore[arg-type,return-value]
    assert [p.calls[0].arguments for p in judge.critiqued] == [{"a": 2}] * 5  # the proposal ranked best
    assert (cost.ms_per_context, cost.ms_per_proposal, cost.ms_winner_critique) == (1500.0, 500.0, 250.0)
    assert cost.errors == 1  # a failed critique counts, and is timed all the same


def test_a_failing_context_is_counted_and_still_timed() -> None:
    clock = Clock()
    judge = CostedJudge(clock, per_proposal=0.25, load=0.0, fail=["q2"])
    cost = time_judge("fake", lambda _: judge, contexts(4, proposals=4), clock=clock)  # type: ignore[arg-type,return-value]
    assert cost.errors == 1 and cost.contexts == 3
    assert cost.ms_per_context == 1000.0 and cost.ms_per_proposal == 250.0


def test_timing_needs_a_context_beside_the_warm_up() -> None:
    with pytest.raises(ValueError, match="warm-up"):
        time_judge("fake", lambda _: CostedJudge(Clock(), per_proposal=1, load=0), contexts(1))  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError, match="warm-up"):
        time_policy("fake", lambda _: None, [lambda _: None])


def test_a_policy_step_is_timed_without_its_warm_up_and_ratios_compare_the_two() -> None:
    clock = Clock()
    lengths = iter([9.0, 1.0, 3.0, 2.0])

    def step(model: Any) -> object:
        clock.advance(next(lengths))
        return model

    steps: list[Callable[[Any], object]] = [step] * 4
    policy = time_policy("fake-policy", lambda _: "model", steps, clock=clock)
    assert (policy.steps, policy.warmup_seconds) == (3, 9.0)
    assert (policy.ms_per_step, policy.ms_per_step_median) == (2000.0, 2000.0)
    judge = time_judge("fake", lambda _: CostedJudge(clock, per_proposal=0.5, load=0), contexts(3),  # type: ignore[arg-type,return-value]
                       clock=clock)
    idle = PolicyCost(spec="idle", load_seconds=0, warmup_seconds=0, steps=0, ms_per_step=0, ms_per_step_median=0)
    assert ratios([judge], [policy, idle]) == {"fake": {"fake-policy": 0.5}}  # a policy never timed has no ratio


def test_agent_steps_take_one_step_per_distinct_question(tmp_path: Path) -> None:
    from eval.options import load_all_results
    from eval.pairs import build_pairs
    from tests.fakes import ScriptedChatModel, write_results_dir

    pairs, _ = build_pairs(load_all_results([write_results_dir(tmp_path / "results")]), seed=0)
    questions = {p.question_id for p in pairs}
    assert len(pairs) > len(questions) >= 2  # several failing answers share a question
    model = ScriptedChatModel(default="no call")
    steps = agent_steps(pairs)
    for step in steps:
        step(model)
    assert len(steps) == len(model.calls) == len(model.bound_tools) == len(questions)
    assert all(tools for tools in model.bound_tools)  # each step offers the question's stub tools
    assert {m[-1].content for m in model.calls} == {p.context.turns[-1].content for p in pairs}


def test_command_end_to_end(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import eval.commands.cost as cost
    from tests.fakes import command_app, write_results_dir

    out = tmp_path / "cost.json"
    result = CliRunner().invoke(command_app(cost.command), [
        "--results", str(write_results_dir(tmp_path / "results")), "--judge", "schema", "--judge", "disc:default",
        "--limit", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert [j["spec"] for j in report["judges"]] == ["schema", "disc:default"]
    assert all(j["contexts"] == 2 and j["proposals"] == 4 and j["errors"] == 0 for j in report["judges"])
    assert report["policies"] == [] and report["ratios"] == {"schema": {}, "disc:default": {}}
    bad = CliRunner().invoke(command_app(cost.command), [
        "--results", str(tmp_path / "results"), "--judge", "schema", "--limit", "1"])
    assert bad.exit_code == 2 and "warm-up" in bad.output
