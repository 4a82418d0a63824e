"""TRBench pair construction on small fixtures (BFCL questions from the bfcl-eval package)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from eval.bfcl.questions import load_answers, load_questions
from eval.bfcl.results import ModelResults, load_results
from eval.pairs import (
    NO_CALL_REPLY,
    PAIR_COLUMNS,
    GradedOutput,
    Pair,
    RecordedPairStats,
    chosen_proposal,
    export_pairs,
    grade_outputs,
    load_pairs,
    pair_rows,
    pairs_for_question,
    pairs_from_graded,
    sample_pairs,
)
from tests.fakes import BFCL_OUTPUTS, fake_results, recorded_results, write_results_dir
from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall


@pytest.fixture(scope="module")
def graded() -> dict[str, dict[str, list[GradedOutput]]]:
    graded, skipped = grade_outputs(fake_results())
    assert skipped == []
    return graded


@pytest.fixture(scope="module")
def pairs(graded) -> list[Pair]:
    return pairs_from_graded(graded, max_per_question=10, seed=0)


def test_grading_decodes_and_checks_every_output(graded) -> None:
    assert list(graded) == ["simple_python", "parallel", "irrelevance"]  # BFCL's order
    sp0 = {o.model: o for o in graded["simple_python"]["simple_python_0"]}
    assert sorted(sp0) == sorted(BFCL_OUTPUTS["simple_python_0"])
    assert sp0["good"].valid and not sp0["unit"].valid
    assert sp0["unit"].error_type == "value_error:string"
    assert sp0["fc"].error_type == "simple_function_checker:missing_required"
    assert [o.model for o in graded["simple_python"]["simple_python_1"]] == sorted(
        BFCL_OUTPUTS["simple_python_1"]
    )  # sorted by model
    fc = {o.model: o for o in graded["simple_python"]["simple_python_1"]}["fc"]
    assert fc.valid, "FC name math_factorial maps back to math.factorial"
    irr = {o.model: o for o in graded["irrelevance"]["irrelevance_0"]}
    assert irr["good"].valid and irr["broken"].valid and irr["fc"].valid
    assert not irr["unit"].valid


def test_chosen_is_ground_truth_or_no_call_and_passes_the_checker(pairs: list[Pair]) -> None:
    from eval.bfcl.questions import check

    for pair in pairs:
        question = load_questions(pair.category)[pair.question_id]
        assert check(question, pair.chosen).valid
        assert not check(question, pair.rejected).valid
        if pair.category == "irrelevance":
            assert pair.chosen.is_empty and pair.chosen.content == NO_CALL_REPLY
            assert pair.chosen.render() == "(no function call)"
            assert pair.error_type == "irrelevance_error:decoder_success"
        else:
            assert pair.chosen == chosen_proposal(
                question, load_answers(pair.category)[question.id]
            )


def test_pairs_and_labels(pairs: list[Pair]) -> None:
    by_q: dict[str, list[Pair]] = {}
    for p in pairs:
        by_q.setdefault(p.question_id, []).append(p)
    # simple_python_0: unit (2 models, one rendering), prose (no call), fc; broken is unparsed
    sp0 = by_q["simple_python_0"]
    assert len(sp0) == 3
    assert {p.error_type for p in sp0} == {
        "value_error:string",
        "simple_function_checker:wrong_count",
        "simple_function_checker:missing_required",
    }
    unit = next(p for p in sp0 if p.error_type == "value_error:string")
    assert unit.model in ("unit", "unit_too")
    # parallel_0: the reordered calls are correct, so no pair; four failing renderings
    assert len(by_q["parallel_0"]) == 4
    assert {p.category for p in pairs} == {"simple_python", "parallel", "irrelevance"}
    # irrelevance_0: the two identical calls merge; the float call renders differently
    assert len(by_q["irrelevance_0"]) == 2
    assert all(p.context.tools and p.context.user_request for p in pairs)
    assert len({p.id for p in pairs}) == len(pairs)


def _signature(text: str) -> tuple[Any, ...]:
    """Formatting only: line kinds, JSON layout conventions, prose, whitespace."""
    kinds, canonical = set(), True
    for line in text.split("\n"):
        if line in ("<tool_call>", "</tool_call>", "(no function call)"):
            kinds.add(line)
        elif line.startswith("{"):
            kinds.add("json")
            obj = json.loads(line)
            canonical &= list(obj) == ["name", "arguments"]
            canonical &= line == json.dumps(
                {"name": obj["name"], "arguments": obj["arguments"]}, ensure_ascii=False
            )
            canonical &= json.dumps(obj["arguments"], sort_keys=True, ensure_ascii=False) in line
        else:
            kinds.add("prose")
    return (
        "prose" in kinds,
        canonical,
        bool(re.search(r"[ \t]+$", text, re.MULTILINE)),
        text.startswith((" ", "\n")) or text.endswith((" ", "\n")),
        "\r" in text,
        "'" in re.sub(r'"(?:[^"\\]|\\.)*"', "", text),  # single-quoted strings outside JSON strings
    )


def test_no_formatting_tells_chosen_from_rejected(pairs: list[Pair]) -> None:
    for pair in pairs:
        assert pair.rejected.content == "" and not pair.rejected.failures
        chosen, rejected = pair.chosen.render(), pair.rejected.render()
        assert (
            _signature(chosen) == _signature(rejected) == (False, True, False, False, False, False)
        )


def test_a_formatting_only_judge_cannot_beat_chance(pairs: list[Pair]) -> None:
    from eval.commands.trbench import evaluate
    from toolrm_agent.core.verdicts import Critique
    from toolrm_agent.judges.base import BaseJudge

    class FormatJudge(BaseJudge):
        name = "format"

        def critique(self, context, proposal):  # noqa: ANN001, ANN201
            score = sum(1 << i for i, flag in enumerate(_signature(proposal.render())) if flag)
            return Critique(accepted=True, score=score / 64, judge=self.name)

    outcomes = evaluate(FormatJudge(), pairs)
    assert outcomes and not any(o.correct for o in outcomes)  # every pair is a tie
    assert all(o.scores[0] == o.scores[1] for o in outcomes)


def test_unparsed_outputs_are_left_out_unless_asked(graded) -> None:
    stats = RecordedPairStats()
    default = pairs_from_graded(graded, max_per_question=10, stats=stats)
    assert stats.unparsed_skipped == 1  # simple_python_0 "broken"
    assert stats.duplicate_renderings == 2  # "unit"/"unit_too" on sp0 and irrelevance_0
    assert stats.pairs == len(default)
    keep = pairs_from_graded(graded, max_per_question=10, include_unparsed=True)
    extra = [p for p in keep if p.rejected.failures]
    assert len(keep) == len(default) + 1 and len(extra) == 1
    assert extra[0].error_type == "ast_decoder:decoder_failed"


def _outputs(n: int) -> list[GradedOutput]:
    return [
        GradedOutput(
            model=f"m{i:02d}",
            proposal=Proposal(
                calls=(
                    ToolCall(name="calculate_triangle_area", arguments={"base": i, "height": 5}),
                ),
                content=f"raw {i}",
            ),
            valid=False,
            error_type="value_error:integer",
        )
        for i in range(n)
    ]


def test_cap_per_question_dedupe_and_determinism() -> None:
    question = load_questions("simple_python")["simple_python_0"]
    chosen = chosen_proposal(question)
    outputs = _outputs(8) + [_outputs(8)[3].model_copy(update={"model": "copycat"})]
    stats = RecordedPairStats()
    first = pairs_for_question(question, chosen, outputs, max_per_question=3, seed=7, stats=stats)
    assert len(first) == 3
    assert stats.capped == 5 and stats.duplicate_renderings == 1 and stats.failing_outputs == 9
    # same seed → same pairs, whatever order the outputs come in
    shuffled = outputs[:]
    random.Random(1).shuffle(shuffled)
    again = pairs_for_question(question, chosen, shuffled, max_per_question=3, seed=7)
    assert [p.model_dump() for p in again] == [p.model_dump() for p in first]
    # other seeds draw other subsets
    draws = {
        tuple(
            p.id for p in pairs_for_question(question, chosen, outputs, max_per_question=3, seed=s)
        )
        for s in range(10)
    }
    assert len(draws) > 1
    # a rejected rendering equal to the chosen one carries no signal and is dropped
    same = GradedOutput(model="x", proposal=chosen, valid=False, error_type="odd")
    assert pairs_for_question(question, chosen, [same]) == []


def test_ground_truth_that_fails_the_checker_skips_the_question() -> None:
    qid = "live_simple_106-63-0"  # a v4 question whose possible answer no output can pass
    graded = {"live_simple": {qid: _outputs(2)}}
    stats = RecordedPairStats()
    assert pairs_from_graded(graded, stats=stats) == []
    assert stats.skipped_ground_truth == [qid]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="max_per_question"):
        pairs_from_graded({}, max_per_question=0)
    with pytest.raises(ValueError, match="unsupported categories"):
        grade_outputs(fake_results(), categories=["multi_turn_base"])


def test_sample_pairs_is_seeded_and_keeps_order(pairs: list[Pair]) -> None:
    picked = sample_pairs(pairs, 4, seed=3)
    assert picked == sample_pairs(pairs, 4, seed=3)
    assert len(picked) == 4
    positions = [pairs.index(p) for p in picked]
    assert positions == sorted(positions)
    assert sample_pairs(pairs, None) == pairs and sample_pairs(pairs, 10_000) == pairs


def test_export_parquet_in_trbench_layout(pairs: list[Pair], tmp_path: Path) -> None:
    from datasets import Dataset

    path = export_pairs(pairs, tmp_path / "out")
    ds = Dataset.from_parquet(str(path))
    assert tuple(ds.column_names) == PAIR_COLUMNS
    assert len(ds) == len(pairs)
    row = ds[0]
    assert row["chosen_response"] == pairs[0].chosen.render()
    assert row["reject_response"] == pairs[0].rejected.render()
    assert row["task_source"] == pairs[0].category and row["raw_id"] == pairs[0].question_id
    assert row["reject_response_from"] == pairs[0].model
    assert row["reward_model"] == {"ground_truth": "1", "style": "rule"}
    assert row["extra_info"]["reject_response_reward_message"] == pairs[0].error_type
    assert [m["role"] for m in row["chat_history"]][:2] == ["system", "user"]
    assert pairs[0].context.user_request in row["chat_history"][-1]["content"]
    assert row["prompt"] and row["prompt"][-1]["role"] == "user"
    assert load_pairs(tmp_path / "out" / "trbench_pairs.pairs.jsonl") == pairs
    assert pair_rows(pairs)[0]["uuid"] == 0


def test_failures_only_output_keeps_no_content() -> None:
    from eval.pairs import rejected_candidate

    failing = GradedOutput(
        model="m",
        proposal=Proposal(failures=(ParseFailure(raw="f(", reason="bad"),), content="f("),
        valid=False,
        error_type="ast_decoder:decoder_failed",
    )
    assert rejected_candidate(failing) is None
    assert rejected_candidate(failing, include_unparsed=True).content == ""
    assert rejected_candidate(failing.model_copy(update={"valid": True})) is None


def test_results_dir_round_trip(tmp_path: Path) -> None:
    loaded = load_results(write_results_dir(tmp_path / "results"))
    assert sorted(r.model for r in loaded) == sorted(BFCL_OUTPUTS["simple_python_0"])

    def summary(graded) -> list[tuple]:  # noqa: ANN001
        return [
            (c, q, o.model, o.proposal.render(), o.valid, o.error_type)
            for c, per_q in graded.items()
            for q, outs in per_q.items()
            for o in outs
        ]

    assert summary(grade_outputs(loaded)[0]) == summary(grade_outputs(fake_results())[0])


# ------------------------------------------- lenient reading of the rejected side

# One question that needs a call and one irrelevance question, answered in the styles
# the leaderboard read as "no call": the rejected side must be what each model meant.
LENIENT_OUTPUTS: dict[str, dict[str, Any]] = {
    "simple_python_0": {
        "fenced_right": "```json\n[calculate_triangle_area(base=10, height=5)]\n```",
        "fenced_wrong": "```python\n[calculate_triangle_area(base=10, height=6)]\n```",
        "template": '<|im_start|>\n{"arguments": {"base": 10, "height": 5, "unit": "cm"}, '
        '"name": "calculate_triangle_area"}\n<|im_start|>',
        "attempt": "```python\nb, h = 10, 5\narea = calculate_triangle_area(base=b, height=h)\n```",
        "prose": "Which unit are the base and the height in?",
        "api_error": "Internal error occurred.",
    },
    "irrelevance_0": {
        "fenced_right": "No function fits. You could use one like this:\n"
        "```python\ndetermine_body_mass_index(weight=10, height=5)\n```",
        "fenced_wrong": "[determine_body_mass_index(weight=10, height=5)]",
        "template": "I cannot help with that.",
        "attempt": "No.",
        "prose": "No function applies.",
        "api_error": "Internal error occurred.",
    },
}


def lenient_results() -> list[ModelResults]:
    return recorded_results(LENIENT_OUTPUTS, lambda _model: "python")


def test_lenient_grading_checks_what_the_model_meant() -> None:
    strict = grade_outputs(lenient_results())[0]["simple_python"]["simple_python_0"]
    lenient = grade_outputs(lenient_results(), lenient=True)[0]["simple_python"]["simple_python_0"]
    by_strict = {o.model: o for o in strict}
    by_lenient = {o.model: o for o in lenient}
    # the leaderboard read none of these as a call
    assert all(by_strict[m].proposal.calls == () for m in ("fenced_right", "template", "attempt"))
    assert not by_strict["fenced_right"].valid
    # the lenient reading: a fenced right answer passes; others fail on what they called
    assert by_lenient["fenced_right"].valid
    assert not by_lenient["fenced_wrong"].valid and by_lenient["fenced_wrong"].proposal.calls
    assert by_lenient["template"].proposal.calls[0].arguments["unit"] == "cm"
    assert by_lenient["template"].error_type == "value_error:string"
    # an unreadable attempt is a parse failure, prose stays no call
    assert by_lenient["attempt"].proposal.failures and not by_lenient["attempt"].proposal.calls
    assert by_lenient["attempt"].proposal.failures[0].name == "calculate_triangle_area"
    assert by_lenient["prose"].proposal.is_empty and not by_lenient["prose"].valid


def test_lenient_pairs_reject_what_was_meant_and_skip_attempts_and_api_errors() -> None:
    graded, _ = grade_outputs(lenient_results(), lenient=True)
    stats = RecordedPairStats()
    pairs = pairs_from_graded(graded, max_per_question=10, stats=stats)
    sp0 = {p.model: p for p in pairs if p.question_id == "simple_python_0"}
    assert sorted(sp0) == ["fenced_wrong", "prose", "template"]
    assert sp0["template"].rejected.calls[0].arguments == {"base": 10, "height": 5, "unit": "cm"}
    # the one empty rejected side left: a model that answered in prose
    assert [m for m, p in sp0.items() if p.rejected.is_empty] == ["prose"]
    assert stats.unparsed_skipped == 1  # "attempt"
    assert stats.recording_errors_skipped == 1  # "Internal error occurred." on simple_python_0
    # irrelevance is read strictly: a usage example in prose is not a call
    irr = [p for p in pairs if p.question_id == "irrelevance_0"]
    assert [p.model for p in irr] == ["fenced_wrong"]


def test_build_pairs_reads_leniently_unless_told_not_to() -> None:
    from eval.pairs import build_pairs

    lenient, _ = build_pairs(lenient_results(), categories=["simple_python"], max_per_question=10)
    strict, _ = build_pairs(
        lenient_results(), categories=["simple_python"], max_per_question=10, lenient=False
    )
    assert {p.model for p in lenient} == {"fenced_wrong", "prose", "template"}
    # strictly, every misread output is one merged "no call" rejected side
    assert [p.rejected.is_empty for p in strict] == [True]


def test_recording_errors_are_recognised() -> None:
    from eval.pairs import is_recording_error

    for text in (
        "Internal error occurred.",
        "Invalid JSON payload received. Unknown name \"optional\" at 'tools'",
        'Parsing error: {"candidates": [{"finishReason": "SAFETY"}]}',
    ):
        assert is_recording_error(Proposal(content=text))
    assert not is_recording_error(Proposal(content="Error, not enough information provided."))
    assert not is_recording_error(
        Proposal(calls=(ToolCall(name="f"),), content="Internal error occurred.")
    )
