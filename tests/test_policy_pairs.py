"""Pairs from live runs: a policy's failing answers against the right answer (BFCL here)."""

from __future__ import annotations

from pathlib import Path

from eval.commands import selfcorrect
from eval.pairs import load_pairs
from eval.tasks.pairs import executed_proposal, pairs_from_runs
from tests.fakes import area_policy, area_tasks
from toolrm_agent.core.calls import Proposal
from toolrm_agent.judges.schema import SchemaJudge


def test_selfcorrect_writes_the_policys_failing_answers_as_pairs(tmp_path: Path) -> None:
    tasks = area_tasks(3)
    arms = selfcorrect.build_arms(area_policy(), SchemaJudge(), max_retries=2)
    runs = selfcorrect.run_selfcorrect(tasks, arms, max_retries=2)
    # odd widths: the baseline forgets `height` (fails); the critic arm fixes it
    path, count = selfcorrect.write_policy_pairs(tasks, runs, policy="scripted", out_dir=tmp_path)
    assert path.exists() and count == 2
    pairs = load_pairs(tmp_path / "selfcorrect_pairs.pairs.jsonl")
    assert [p.question_id for p in pairs] == ["simple_python_8001", "simple_python_8003"]
    for pair in pairs:
        assert pair.model == "scripted (baseline)"
        assert pair.chosen.calls[0].arguments["height"] == 3 and "height" not in pair.rejected.calls[0].arguments
        assert pair.context.user_request.startswith("Area of a")


def test_no_call_tasks_pair_only_answers_that_called() -> None:
    tasks = area_tasks(1)
    arms = selfcorrect.build_arms(area_policy(), SchemaJudge(), max_retries=2)
    runs = selfcorrect.run_selfcorrect(tasks, arms, max_retries=2)
    failing = [r for r in runs if not r.valid]
    assert executed_proposal(failing[0]).calls[0].name == "geometry.area"
    prose = [r.model_copy(update={"executed": []}) for r in failing]
    right = Proposal(content="no call")
    assert pairs_from_runs(tasks, prose, policy="p", chosen=lambda t: right, no_call=lambda t: True) == []
    # the same rendering twice (two arms) is one pair
    twice = failing + [r.model_copy(update={"arm": "critic"}) for r in failing]
    assert len(pairs_from_runs(tasks, twice, policy="p", chosen=lambda t: right)) == 1
