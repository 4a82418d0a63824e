"""``toolrm eval acebench``: tasks through the arm runner, the report, resume, pairs, the command.

Every test builds its own tiny ACEBench-shaped data folder (no ACEBench data here).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from typer.testing import CliRunner

from eval.acebench.pairs import acebench_pairs
from eval.acebench.report import acebench_report, resume_runs, write_report
from eval.acebench.tasks import SPECIAL_PROMPT, load_ace_tasks, select_questions
from eval.tasks.arms import critic_arms, run_arms_live, without_texts
from tests.fakes import ScriptedChatModel, tool_call_message
from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.judges.schema import SchemaJudge

WEATHER = {
    "name": "get_weather",
    "description": "Current weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
SINGLE = "normal_single_turn_single_function"
INCOMPLETE = "special_incomplete"


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in rows))


def tiny_data(folder: Path) -> Path:
    """Two normal questions (weather in Oslo / Rome) and one incomplete one."""
    _write(folder / f"data_{SINGLE}.json.gz", [
        {"id": f"{SINGLE}_{i}", "question": f"user: Weather in {city}?\n", "function": [WEATHER],
         "time": "Today is 2024-05-01."}
        for i, city in enumerate(["Oslo", "Rome"])
    ])
    _write(folder / "possible_answer" / f"data_{SINGLE}.json.gz", [
        {"id": f"{SINGLE}_{i}", "ground_truth": {"get_weather": {"city": city}}}
        for i, city in enumerate(["Oslo", "Rome"])
    ])
    _write(folder / f"data_{INCOMPLETE}.json.gz",
           [{"id": f"{INCOMPLETE}_0", "question": "user: What's the weather like?", "function": [WEATHER],
             "time": ""}])
    _write(folder / "possible_answer" / f"data_{INCOMPLETE}.json.gz",
           [{"id": f"{INCOMPLETE}_0", "ground_truth": {"get_weather": ["city"]}}])
    return folder


def policy() -> ScriptedChatModel:
    """Oslo right; Rome misspelt as 'Roma'; the incomplete question: calls without the city,
    then, after a critique, names the missing parameter the way ACEBench wants."""

    def answer(messages: list[BaseMessage]) -> AIMessage:
        request = str(messages[-1].content) if messages[-1].type == "human" else ""
        request = request or next(str(m.content) for m in reversed(messages) if m.type == "human")
        if isinstance(messages[-1], ToolMessage) and messages[-1].status == "error":
            # ACEBench's own bracketed form: the call parser reads it as a broken call attempt
            return AIMessage(content='["Missing necessary parameters (city) for the api (get_weather)"]')
        if "Oslo" in request:
            return tool_call_message(("get_weather", {"city": "Oslo"}))
        if "Rome" in request:
            return tool_call_message(("get_weather", {"city": "Roma"}))
        return tool_call_message(("get_weather", {}))

    return ScriptedChatModel(default=answer)


def run_all(folder: Path) -> tuple[list, list, dict]:
    tasks = load_ace_tasks([SINGLE, INCOMPLETE], data_dir=folder)
    arms, info = critic_arms(policy(), {"schema": SchemaJudge()}, modes=["retry"], max_retries=1)
    runs = run_arms_live(tasks, arms, max_retries=1, progress=False)
    return tasks, runs, info


def test_tasks_carry_our_prompt_and_the_dialogue(tmp_path: Path) -> None:
    tasks = load_ace_tasks([SINGLE, INCOMPLETE], data_dir=tiny_data(tmp_path))
    normal, special = tasks[0], tasks[-1]
    assert "2024-05-01" in str(normal.messages[0].content)
    assert str(special.messages[0].content).startswith(SPECIAL_PROMPT)
    assert normal.request == "Weather in Oslo?" and [s.name for s in normal.specs] == ["get_weather"]


def test_the_arm_runner_checks_with_the_acebench_checker(tmp_path: Path) -> None:
    tasks, runs, info = run_all(tiny_data(tmp_path))
    verdict = {(r.id, r.arm): (r.valid, r.error_type) for r in runs}
    assert verdict[(f"{SINGLE}_0", "baseline")] == (True, None)
    assert verdict[(f"{SINGLE}_1", "baseline")] == (False, "value_error")
    # baseline: the call without a city runs; the critic sends it back and the answer names it
    assert verdict[(f"{INCOMPLETE}_0", "baseline")] == (False, "unexpected_call")
    assert verdict[(f"{INCOMPLETE}_0", "retry")] == (True, None)

    report = acebench_report(tasks, runs, info, config={"policy": "scripted", "modes": ["retry"]}, seconds=1.0)
    table = report["per_category"]
    assert table["baseline"][SINGLE] == {"n": 2, "correct": 1, "accuracy": 0.5, "ci95": [0.095, 0.905]}
    assert table["baseline"]["special"]["correct"] == 0 and table["retry"]["special"]["correct"] == 1
    assert table["retry"]["all"]["n"] == 3 and report["benchmark"] == "acebench"
    assert report["comparisons"]["retry"]["fixed"] == [f"{INCOMPLETE}_0"]


def test_pairs_are_ground_truth_or_refusal_against_failing_answers(tmp_path: Path) -> None:
    tasks, runs, _ = run_all(tiny_data(tmp_path))
    pairs = {p.question_id: p for p in acebench_pairs(tasks, runs, policy="scripted")}
    assert set(pairs) == {f"{SINGLE}_1", f"{INCOMPLETE}_0"}  # one per distinct failing answer
    rome = pairs[f"{SINGLE}_1"]
    assert rome.chosen.calls[0].arguments == {"city": "Rome"} and rome.rejected.calls[0].arguments == {"city": "Roma"}
    special = pairs[f"{INCOMPLETE}_0"]
    assert not special.chosen.calls and "Missing necessary parameters (city)" in special.chosen.content
    assert special.rejected.calls[0].name == "get_weather" and special.model == "scripted (baseline)"
    assert special.context.user_request == "What's the weather like?"


def test_a_report_resumes_only_with_its_own_config(tmp_path: Path) -> None:
    tasks, runs, info = run_all(tiny_data(tmp_path / "data"))
    config = {"policy": "scripted", "modes": ["retry"]}
    out = tmp_path / "acebench.json"
    partial = [r for r in runs if not (r.id == f"{INCOMPLETE}_0" and r.arm == "retry")]
    write_report(out, acebench_report(tasks, partial, info, config=config, seconds=1.0))
    kept, todo = resume_runs(out, config, tasks, list(info))
    assert [t.id for t in todo] == [f"{INCOMPLETE}_0"]  # its baseline run is dropped too
    assert {(r.id, r.arm) for r in kept} == {(f"{SINGLE}_{i}", a) for i in (0, 1) for a in ("baseline", "retry")}
    with pytest.raises(ConfigurationError):
        resume_runs(out, {**config, "policy": "other"}, tasks, list(info))


def test_a_report_without_texts_keeps_every_count_and_resumes(tmp_path: Path) -> None:
    tasks, runs, info = run_all(tiny_data(tmp_path / "data"))
    config = {"policy": "scripted", "modes": ["retry"]}
    full = acebench_report(tasks, runs, info, config=config, seconds=1.0)
    public = without_texts(full)
    text = json.dumps(public)
    for word in ("Oslo", "Rome", "Roma", "Weather", "Missing required"):  # requests, answers, critiques
        assert word in json.dumps(full) and word not in text
    for key in ("per_category", "comparisons", "arms", "seconds"):
        assert public[key] == full[key]
    assert without_texts(public) == public  # idempotent
    out = tmp_path / "public.json"
    write_report(out, public)
    kept, todo = resume_runs(out, config, tasks, list(info))
    assert todo == [] and all(r.texts_removed for r in kept)
    resumed = acebench_report(tasks, kept, info, config=config, seconds=1.0)
    assert resumed["per_category"] == full["per_category"] and resumed["arms"] == full["arms"]
    assert acebench_pairs(tasks, kept, policy="scripted") == []  # no answer is left to pair


def test_the_item_draw_is_seeded_and_keeps_order(tmp_path: Path) -> None:
    from eval.acebench.data import AceQuestion

    qs = [AceQuestion(id=f"{SINGLE}_{i}", category=SINGLE, question="user: x") for i in range(10)]
    first = select_questions(qs, 3, seed=0)
    assert first == select_questions(qs, 3, seed=0) and len(first) == 3
    assert [q.id for q in first] == sorted((q.id for q in first), key=lambda i: int(i.rsplit("_", 1)[1]))
    assert select_questions(qs, None, seed=0) == qs


def test_the_command_rejects_bad_options_before_loading_a_model(tmp_path: Path) -> None:
    from eval.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["acebench", "--arms", "retry,shuffle"])
    assert result.exit_code != 0 and "shuffle" in result.output
    result = runner.invoke(app, ["acebench", "--category", "agent_multi_step", "--data", str(tmp_path)])
    assert result.exit_code != 0 and "agent_multi_step" in result.output
    result = runner.invoke(app, ["acebench", "--judge", "schema", "--data", str(tmp_path / "nowhere")])
    assert result.exit_code != 0 and "ACEBench" in result.output
    help_text = runner.invoke(app, ["acebench", "--help"]).output
    for flag in ("--limit", "--category", "--policy", "--judge", "--pairs-out", "--arms", "--all"):
        assert flag in help_text


def test_the_llamacpp_policy_server_gets_the_slots_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import eval.tasks.runner as runner
    from eval.cli import app
    from toolrm_agent.core.errors import ModelProvisioningError

    asked: list[dict] = []

    def load_policy(spec: str, **options: object) -> None:
        asked.append({"spec": spec, **options})
        raise ModelProvisioningError("not here")

    monkeypatch.setattr(runner, "load_policy", load_policy)
    data = tiny_data(tmp_path / "data")
    args = ["acebench", "--judge", "schema", "--data", str(data), "--out", str(tmp_path / "r.json"),
            "--slot-ctx", "2048", "--category", SINGLE, "--category", INCOMPLETE]
    for slots in (None, "1"):
        result = CliRunner().invoke(app, args + (["--server-slots", slots] if slots else []))
        assert result.exit_code == 2 and "cannot load the policy model" in result.output
    default, one = asked[0], asked[-1]
    assert (default["n_parallel"], default["n_ctx"]) == (4, 4 * 2048)
    assert (one["n_parallel"], one["n_ctx"]) == (1, 2048)
    assert CliRunner().invoke(app, args + ["--server-slots", "0"]).exit_code != 0
