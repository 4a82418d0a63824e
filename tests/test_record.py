"""``toolrm eval record``: a policy's answers to BFCL questions, written as a recorded model's results."""

from __future__ import annotations

import json
from pathlib import Path

from langchain_core.messages import AIMessage

from eval.commands.record import errors_path, record, recorded_ids, recorded_result
from eval.tasks.runner import AgentTask
from tests.fakes import ScriptedChatModel, command_app, tool_call_message
from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall

RIDE = "live_simple_2-2-0"  # one tool, uber.ride: loc, type, time
RIGHT = {"loc": "2020 Addison Street, Berkeley, CA, USA", "type": "comfort", "time": 600}


def tasks(*ids: str) -> list[AgentTask]:
    from eval.bfcl.questions import category_of, load_questions

    return [AgentTask.from_question(load_questions(category_of(i))[i]) for i in ids]


def draw_questions(category: str, limit: int | None, seed: int) -> list[str]:
    """The ids ``toolrm eval record`` answers: the seeded draw of :func:`load_tasks`."""
    from eval.tasks.runner import load_tasks

    return [t.id for t in load_tasks(category, limit=limit, seed=seed)]


def test_the_draw_is_seeded_in_bfcl_order_and_takes_all_when_asked_for_more() -> None:
    from eval.bfcl.questions import load_questions

    everything = list(load_questions("live_parallel"))
    some = draw_questions("live_simple", 5, seed=3)
    assert some == draw_questions("live_simple", 5, seed=3) != draw_questions("live_simple", 5, seed=4)
    order = list(load_questions("live_simple"))
    assert len(some) == 5 and [order.index(i) for i in some] == sorted(order.index(i) for i in some)
    assert draw_questions("live_parallel", 10_000, seed=3) == everything == draw_questions("live_parallel", None, 0)


def test_a_result_is_what_a_function_calling_api_records() -> None:
    call = ToolCall(name="uber.ride", arguments={"loc": "Berkeley", "time": 10})
    assert recorded_result(Proposal(calls=(call,))) == [{"uber.ride": '{"loc": "Berkeley", "time": 10}'}]
    assert recorded_result(Proposal(content="No tool fits.")) == "No tool fits."
    broken = ParseFailure(name="uber.ride", raw='{"loc": ', reason="bad JSON")
    assert recorded_result(Proposal(failures=(broken,))) == [{"uber.ride": '{"loc": '}]


def test_answers_are_appended_under_bfcl_names_and_a_rerun_resumes(tmp_path: Path) -> None:
    out = tmp_path / "policy.jsonl"
    wrong = dict(RIGHT, loc="Addison Street")  # the user's words without the city
    model = ScriptedChatModel(script=[tool_call_message(("uber_ride", RIGHT)), tool_call_message(("uber_ride", wrong))])
    assert record(model, tasks(RIDE, "live_simple_3-2-1"), out) == (2, 0)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == [RIDE, "live_simple_3-2-1"]
    assert json.loads(lines[0]["result"][0]["uber.ride"]) == RIGHT  # the safe tool name mapped back
    assert all(line["latency"] >= 0 and line["input_token_count"] > 0 for line in lines)

    with out.open("a") as fh:  # a run killed mid-line
        fh.write('{"id": "live_irrelevance_0-0-0", "res')
    assert recorded_ids(out) == {RIDE, "live_simple_3-2-1"}
    again = ScriptedChatModel(default=AIMessage(content="I cannot help with that."))
    assert record(again, tasks(RIDE, "live_simple_3-2-1", "live_irrelevance_0-0-0"), out) == (1, 0)
    assert len(again.calls) == 1  # only the question not yet answered
    assert recorded_ids(out) == {RIDE, "live_simple_3-2-1", "live_irrelevance_0-0-0"}
    assert json.loads(out.read_text().splitlines()[-1])["result"] == "I cannot help with that."


def test_a_question_the_policy_cannot_answer_is_listed_and_the_run_goes_on(tmp_path: Path) -> None:
    out = tmp_path / "policy.jsonl"
    too_long = ValueError("request (2415 tokens) exceeds the available context size (2048 tokens)")
    model = ScriptedChatModel(script=[too_long, tool_call_message(("uber_ride", RIGHT))])
    assert record(model, tasks(RIDE, "live_simple_3-2-1"), out) == (1, 1)
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["live_simple_3-2-1"]
    failure = json.loads(errors_path(out).read_text())
    assert failure["id"] == RIDE and "exceeds the available context" in failure["error"]
    assert recorded_ids(out) == {RIDE, "live_simple_3-2-1"}  # a resumed run skips both
    idle = ScriptedChatModel()
    assert record(idle, tasks(RIDE, "live_simple_3-2-1"), out) == (0, 0) and not idle.calls


def test_trbench_reads_the_recorded_mistakes_as_pairs(tmp_path: Path) -> None:
    from eval.options import load_all_results
    from eval.pairs import build_pairs

    folder = tmp_path / "results"
    answers = [
        tool_call_message(("uber_ride", RIGHT)),  # right: no pair
        tool_call_message(("uber_ride", dict(RIGHT, type="plus"))),  # wrong value: a pair
        AIMessage(content="Nothing here fits."),  # right on an irrelevance question: no pair
        RuntimeError("backend down"),  # no answer: listed apart, never read as a model's
    ]
    record(ScriptedChatModel(script=answers), tasks(RIDE, "live_simple_3-2-1", "live_irrelevance_0-0-0",
                                                    "live_simple_26-6-0"), folder / "policy.jsonl")
    assert errors_path(folder / "policy.jsonl").exists()
    irrelevant = ScriptedChatModel(script=[tool_call_message(("uber_ride", RIGHT))])
    record(irrelevant, tasks("live_irrelevance_1-0-1"), folder / "caller.jsonl")
    pairs, _ = build_pairs(load_all_results([folder]), seed=0)
    assert sorted((p.question_id, p.category) for p in pairs) == [
        ("live_irrelevance_1-0-1", "live_irrelevance"), ("live_simple_3-2-1", "live_simple")]


def test_command_refuses_a_category_it_cannot_answer(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import eval.commands.record as cmd

    out = tmp_path / "x.jsonl"
    for category in ("no_such_category", "multi_turn_base"):
        result = CliRunner().invoke(command_app(cmd.command), [
            "--policy", "llamacpp:default", "--out", str(out), "--category", category, "--limit", "1"])
        assert result.exit_code == 2 and "--category" in result.output, result.output
    assert not out.exists()  # refused before any model is loaded


def test_a_second_draw_leaves_out_the_first_and_keeps_its_size() -> None:
    from eval.tasks.runner import load_tasks

    first = draw_questions("live_simple", 40, seed=21)
    second = [t.id for t in load_tasks("live_simple", limit=40, seed=22, exclude=set(first))]
    assert len(second) == 40 and not set(second) & set(first)
    assert second == [t.id for t in load_tasks("live_simple", limit=40, seed=22, exclude=set(first))]
    everything = draw_questions("live_parallel", None, 0)
    assert [t.id for t in load_tasks("live_parallel", limit=5, seed=1, exclude=set(everything[2:]))] == everything[:2]


def test_command_excludes_the_questions_of_earlier_results_files(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import eval.commands.record as cmd
    from eval.bfcl.questions import load_questions

    out = tmp_path / "second.jsonl"
    args = ["--policy", "llamacpp:default", "--out", str(out), "--category", "live_parallel", "--limit", "5"]
    missing = CliRunner().invoke(command_app(cmd.command), [*args, "--exclude", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2 and "--exclude" in missing.output, missing.output
    first = tmp_path / "first.jsonl"  # every live_parallel question already answered there (or failed)
    ids = list(load_questions("live_parallel"))
    first.write_text("".join(json.dumps({"id": i, "result": "x"}) + "\n" for i in ids[1:]))
    errors_path(first).write_text(json.dumps({"id": ids[0], "error": "too long"}) + "\n")
    result = CliRunner().invoke(command_app(cmd.command), [*args, "--exclude", str(first)])
    assert result.exit_code == 0 and "0 questions" in result.output, result.output
    assert not out.exists()  # nothing left to answer: no model was loaded
