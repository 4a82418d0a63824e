"""``toolrm eval selfcorrect``: arms, report schema, lift math, best-of-N, the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eval.commands import selfcorrect
from eval.tasks.runner import TaskRun
from tests.fakes import ScriptedChatModel, area_call, area_policy, area_tasks, area_width, command_app
from toolrm_agent.judges.schema import SchemaJudge


def report_for(runs: list[TaskRun], **kw: object) -> dict:
    defaults: dict = dict(
        policy="scripted",
        judge="schema",
        category="simple_python",
        mode="retry",
        max_retries=2,
        seconds=1.0,
    )
    defaults.update(kw)
    return selfcorrect.selfcorrect_report(runs, **defaults)


def test_retry_report_schema_and_lift() -> None:
    arms = selfcorrect.build_arms(area_policy(), SchemaJudge(), max_retries=2)
    runs = selfcorrect.run_selfcorrect(area_tasks(4), arms, max_retries=2)
    report = report_for(runs)
    for key in (
        "baseline_acc",
        "critic_acc",
        "lift",
        "n",
        "policy_calls",
        "critic_calls",
        "policy_tokens",
        "critic_tokens",
        "seconds",
        "questions",
        "runs",
    ):
        assert key in report
    assert report["n"] == 4
    assert report["baseline_acc"] == 0.5  # widths 2 and 4 right, 1 and 3 wrong
    assert report["critic_acc"] == 1.0
    assert report["lift"] == pytest.approx(report["critic_acc"] - report["baseline_acc"])
    assert report["fixed"] == ["simple_python_8001", "simple_python_8003"]
    assert report["broken"] == []
    assert report["policy_calls"] == {"baseline": 4, "critic": 6}  # two revisions
    assert report["critic_calls"] >= 6
    assert report["retries"] == 2
    assert report["candidates"] is None and report["temperature"] is None
    rows = {r["id"]: r for r in report["questions"]}
    assert rows["simple_python_8001"]["baseline_valid"] is False
    assert rows["simple_python_8001"]["critic_valid"] is True
    assert rows["simple_python_8001"]["retries"] == 1
    assert "height" in rows["simple_python_8001"]["critiques"][0]
    json.dumps(report)


def test_lift_is_negative_when_the_critic_breaks_answers() -> None:
    def run(id: str, arm: str, valid: bool) -> TaskRun:  # noqa: A002
        return TaskRun(id=id, category="simple_python", arm=arm, stop="executed", valid=valid)

    runs = [
        run("a", "baseline", True),
        run("a", "critic", False),
        run("b", "baseline", True),
        run("b", "critic", True),
    ]
    report = report_for(runs)
    assert report["baseline_acc"] == 1.0 and report["critic_acc"] == 0.5
    assert report["lift"] == pytest.approx(-0.5)
    assert report["broken"] == ["a"]


def test_best_of_n_samples_from_the_sampler_and_counts_them_as_policy_calls() -> None:
    greedy = ScriptedChatModel(
        default=lambda m: area_call({"width": area_width(m)})
    )  # always incomplete
    sampler = ScriptedChatModel(default=lambda m: area_call({"width": area_width(m), "height": 3}))
    arms = selfcorrect.build_arms(
        greedy, SchemaJudge(), mode="best_of_n", n=3, max_retries=1, sampler=sampler
    )
    runs = selfcorrect.run_selfcorrect(area_tasks(2), arms, max_retries=1)
    report = report_for(runs, mode="best_of_n", n_candidates=3, temperature=0.7, max_retries=1)
    assert report["baseline_acc"] == 0.0 and report["critic_acc"] == 1.0
    assert report["candidates"] == 3 and report["temperature"] == 0.7
    assert len(sampler.calls) == 4  # two extra candidates per question
    assert report["policy_calls"]["critic"] == 2 + 4
    crit_runs = [r for r in runs if r.arm == "critic"]
    assert all(any(e.kind == "best_of_n" for e in r.events) for r in crit_runs)


def test_resample_samples_only_for_rejected_proposals_and_counts_them() -> None:
    """One question the greedy policy gets right (judged once, no sample), one it gets
    wrong (two samples, the complete one wins): policy calls per arm say so."""

    def greedy_answer(m: list[Any]) -> Any:
        width = area_width(m)
        return area_call({"width": width, "height": 3} if width == 1 else {"width": width})

    greedy = ScriptedChatModel(default=greedy_answer)
    sampler = ScriptedChatModel(default=lambda m: area_call({"width": area_width(m), "height": 3}))
    arms = selfcorrect.build_arms(greedy, SchemaJudge(), mode="resample", n=3, max_retries=1, sampler=sampler)
    runs = selfcorrect.run_selfcorrect(area_tasks(2), arms, max_retries=1)
    report = report_for(runs, mode="resample", n_candidates=3, temperature=0.7, max_retries=1)
    assert report["baseline_acc"] == 0.5 and report["critic_acc"] == 1.0
    assert report["candidates"] == 3 and report["mode"] == "resample"
    assert len(sampler.calls) == 2  # only the rejected question drew samples
    assert report["policy_calls"]["critic"] == 2 + 2


def test_command_validates_its_options(tmp_path: Path) -> None:
    app = command_app(selfcorrect.command)
    runner = CliRunner()
    out = tmp_path / "r.json"
    bad_mode = runner.invoke(app, ["--mode", "vote", "--out", str(out)])
    assert bad_mode.exit_code != 0 and "retry, resample or best_of_n" in bad_mode.output
    bad_cat = runner.invoke(app, ["--category", "multi_turn_base", "--out", str(out)])
    assert bad_cat.exit_code != 0 and "single-turn" in bad_cat.output
    bad_judge = runner.invoke(app, ["--judge", "what:ever", "--out", str(out)])
    assert bad_judge.exit_code != 0
    assert not out.exists()


def test_the_llamacpp_policy_and_its_sampler_share_one_server_of_the_slots_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolrm_agent.core.errors import ModelProvisioningError

    asked: list[dict[str, Any]] = []

    def load_policy(spec: str, **options: Any) -> Any:
        asked.append({"spec": spec, **options})
        if options.get("temperature"):  # the sampler: refused, after the policy loaded
            raise ModelProvisioningError("not here")
        return object()

    monkeypatch.setattr(selfcorrect, "load_policy", load_policy)
    app = command_app(selfcorrect.command)
    args = ["--policy", "llamacpp:default", "--judge", "schema", "--mode", "resample", "--limit", "1",
            "--out", str(tmp_path / "r.json")]
    for slots in (None, "1"):
        result = CliRunner().invoke(app, args + (["--server-slots", slots] if slots else []))
        assert result.exit_code == 2 and "cannot load the policy model" in result.output
    assert [(a["n_parallel"], a["n_ctx"]) for a in asked] == [(4, 4 * 2048)] * 2 + [(1, 2048)] * 2
    assert "temperature" not in asked[0] and asked[1]["temperature"] == 0.7  # the greedy policy, then the sampler
    asked.clear()
    result = CliRunner().invoke(app, ["--policy", "default", *args[2:], "--server-slots", "1"])
    assert result.exit_code == 2 and all("n_parallel" not in a for a in asked)  # no server for other policies
    assert CliRunner().invoke(app, args + ["--server-slots", "0"]).exit_code != 0
    assert not (tmp_path / "r.json").exists()


def test_command_is_registered_in_toolrm_eval() -> None:
    from eval.cli import app

    result = CliRunner().invoke(app, ["selfcorrect", "--help"])
    assert result.exit_code == 0
    for option in (
        "--policy",
        "--judge",
        "--category",
        "--limit",
        "--max-retries",
        "--out",
        "--mode",
        "--n",
    ):
        assert option in result.output


def test_print_summary_shows_both_arms_and_the_lift() -> None:
    from rich.console import Console

    arms = selfcorrect.build_arms(area_policy(), SchemaJudge(), max_retries=2)
    report = report_for(selfcorrect.run_selfcorrect(area_tasks(2), arms, max_retries=2))
    console = Console(record=True, width=120)
    selfcorrect.print_summary(console, report)
    text = console.export_text()
    assert "baseline" in text and "critic" in text
    assert "50.0%" in text and "100.0%" in text
    assert "lift +50.0 points" in text
