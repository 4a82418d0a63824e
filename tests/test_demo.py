"""``toolrm demo``: the task set, the per-task printout, the summary and the JSON report.

A scripted policy stands in for the real model (a bad call that the schema critic
catches and the policy fixes); one ``slow`` test runs the real offline Qwen model.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from rich.console import Console
from typer.testing import CliRunner

from eval.commands import demo
from tests.fakes import ScriptedChatModel, factorial_task, tool_call_message
from toolrm_agent.judges.schema import SchemaJudge

_IDS = itertools.count(1)


def asked_number(messages: list[BaseMessage]) -> int:
    """The number a task asks the factorial of ("Factorial of N?")."""
    request = next(m.content for m in messages if m.type == "human")
    return int(str(request).split()[-1].rstrip("?"))


def policy_that_fixes_after_critique() -> ScriptedChatModel:
    """Task 1: right at once. Task 2: a wrong argument name, fixed after a critique."""

    def answer(messages: list[BaseMessage]) -> AIMessage:
        n = next(_IDS)
        number = asked_number(messages)
        critiqued = isinstance(messages[-1], ToolMessage) and messages[-1].status == "error"
        key = "number" if number == 1 or critiqued else "num"
        msg = tool_call_message(("math_factorial", {key: number}), ids=[f"call_{n}"])
        return msg.model_copy(update={"id": f"msg-{n}"})

    return ScriptedChatModel(default=answer)


def right_sampler() -> ScriptedChatModel:
    """A sampler that proposes the right call for every task."""

    def sample(messages: list[BaseMessage]) -> AIMessage:
        n = next(_IDS)
        msg = tool_call_message(("math_factorial", {"number": asked_number(messages)}), ids=[f"s_{n}"])
        return msg.model_copy(update={"id": f"sample-{n}"})

    return ScriptedChatModel(default=sample)


def run_scripted(judges: dict[str, object]) -> tuple[dict, str]:
    console = Console(record=True, width=160)
    report = demo.run_demo(
        [factorial_task(1), factorial_task(2)],
        policy_that_fixes_after_critique(),
        judges,
        policy_name="scripted",
        console=console,
        progress=False,
    )
    return report, console.export_text()


def test_demo_report_shows_the_critic_fixing_a_bad_call() -> None:
    report, text = run_scripted({"schema": SchemaJudge()})
    assert report["n_tasks"] == 2
    names = [a["name"] for a in report["arms"]]
    assert names == ["baseline", "retry"]
    base, crit = (a["summary"] for a in report["arms"])
    assert base["accuracy"] == 0.5 and crit["accuracy"] == 1.0
    assert base["critic_calls"] == 0 and crit["critic_calls"] >= 2
    assert crit["policy_calls"] == base["policy_calls"] + 1  # one revision
    assert crit["retry_answers"] == 1 and crit["retries_changed"] == 1
    assert base["accuracy_ci95"][0] < 0.5 < base["accuracy_ci95"][1]
    cmp = report["comparisons"]["retry"]
    assert cmp["lift"] == pytest.approx(0.5)
    assert cmp["fixed"] == ["simple_python_9002"] and cmp["broken"] == []
    assert len(report["runs"]) == 4
    assert report["selection_rule"] == demo.SELECTION_RULE
    json.dumps(report)  # the --json output is plain JSON
    # the per-task printout: proposal, critique, revision, executed, verdict
    for word in (
        "proposal",
        "critique",
        "revision",
        "executed",
        "BFCL checker accepts",
        "BFCL checker rejects",
    ):
        assert word in text
    assert "math.factorial(num=2)" in text and "math.factorial(number=2)" in text


def test_summary_table_has_a_row_per_arm() -> None:
    report, _ = run_scripted(
        {"schema": SchemaJudge(), "schema?check_grounding=false": SchemaJudge()}
    )
    console = Console(record=True, width=200)
    demo.print_summary(console, report)
    text = console.export_text()
    assert [a["name"] for a in report["arms"]] == [
        "baseline",
        "retry[schema]",
        "retry[schema?check_grounding=false]",
    ]
    assert "1/2 50%" in text and "2/2 100%" in text
    assert "fixed: simple_python_9002" in text
    assert "1 (1/1)" in text  # one retry, answered with a changed call
    assert set(report["comparisons"]) == {"retry[schema]", "retry[schema?check_grounding=false]"}


def test_demo_task_set_is_fixed_and_filterable() -> None:
    tasks = demo.demo_tasks()
    ids = [t.id for t in tasks]
    assert ids == [i for c in demo.CATEGORIES for i in demo.DEMO_TASKS[c]]
    assert len(ids) == 12
    assert {t.category for t in tasks} == {"simple_python", "multiple", "parallel", "parallel_multiple"}
    only = demo.demo_tasks(["parallel"], limit=2)
    assert [t.id for t in only] == list(demo.DEMO_TASKS["parallel"][:2])
    with pytest.raises(ValueError, match="unknown demo category"):
        demo.demo_tasks(["java"])


def test_cli_help_shows_the_demo_options() -> None:
    result = CliRunner().invoke(demo.app, ["--help"])
    assert result.exit_code == 0
    for option in ("--limit", "--category", "--judge", "--json", "--policy"):
        assert option in result.output


def test_toolrm_demo_dispatches_to_the_demo_app(capsys: pytest.CaptureFixture[str]) -> None:
    from toolrm_cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--help"])
    assert exit_info.value.code == 0
    assert "--judge" in capsys.readouterr().out


def test_cli_rejects_a_bad_judge_spec_before_loading_any_model() -> None:
    result = CliRunner().invoke(demo.app, ["--judge", "nonsense:x", "--limit", "1"])
    assert result.exit_code != 0
    assert "judge" in result.output.lower()


@pytest.mark.slow
def test_real_demo_on_one_task(tmp_path: Path) -> None:
    """The real offline Qwen policy and the schema critic on the first demo task."""
    out = tmp_path / "demo.json"
    result = CliRunner().invoke(
        demo.app, ["--limit", "1", "--judge", "schema", "--mode", "retry", "--policy", "default",
                   "--json", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["n_tasks"] == 1 and len(report["runs"]) == 2
    assert all(r["policy_calls"] >= 1 for r in report["runs"])
    assert all(r["policy_output_tokens"] > 0 for r in report["runs"])


def test_best_of_n_mode_swaps_in_a_sampled_fix() -> None:
    console = Console(record=True, width=160)
    report = demo.run_demo(
        [factorial_task(2)],
        policy_that_fixes_after_critique(),
        {"schema": SchemaJudge()},
        policy_name="scripted",
        modes=["best_of_n"],
        n=3,
        sampler=right_sampler(),
        console=console,
        progress=False,
    )
    assert report["modes"] == ["best_of_n"] and report["candidates"] == 3
    cmp = report["comparisons"]["best_of_n"]
    assert (cmp["baseline_acc"], cmp["critic_acc"]) == (0.0, 1.0)
    critic_run = next(r for r in report["runs"] if r["arm"] == "best_of_n")
    assert [e["kind"] for e in critic_run["events"]][:2] == ["proposal", "best_of_n"]
    assert critic_run["retries"] == 0
    assert "best_of_n" in console.export_text()


def test_cli_reports_a_policy_it_cannot_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOLRM_CACHE", str(tmp_path / "cache"))
    result = CliRunner().invoke(
        demo.app, ["--policy", str(tmp_path / "no-such-model"), "--limit", "1"]
    )
    assert result.exit_code == 2
    assert "cannot load the policy model" in result.output


def test_the_four_arms_and_resample_samples_only_for_the_rejected_task() -> None:
    sampler = right_sampler()
    console = Console(record=True, width=200)
    report = demo.run_demo(
        [factorial_task(1), factorial_task(2)],
        policy_that_fixes_after_critique(),
        {"schema": SchemaJudge()},
        policy_name="scripted",
        modes=list(demo.DEFAULT_MODES),
        n=3,
        sampler=sampler,
        console=console,
        progress=False,
    )
    assert [a["name"] for a in report["arms"]] == ["baseline", "retry", "resample", "best_of_n"]
    assert report["candidates"] == 3
    summaries = {a["name"]: a["summary"] for a in report["arms"]}
    # task 1 is right at once: resample judges it once and draws nothing; best-of-N samples both
    assert summaries["resample"]["policy_calls"] < summaries["best_of_n"]["policy_calls"]
    resample_runs = {r["id"]: r for r in report["runs"] if r["arm"] == "resample"}
    assert [e["kind"] for e in resample_runs["simple_python_9001"]["events"]][:2] == ["proposal", "accepted"]
    assert [e["kind"] for e in resample_runs["simple_python_9002"]["events"]][:2] == ["proposal", "best_of_n"]
    assert all(r["valid"] for r in resample_runs.values())
    demo.print_summary(console, report)
    text = console.export_text()
    assert "resample (schema)" in text and "best_of_n (schema)" in text and "resample n=3" in text
