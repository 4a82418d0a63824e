"""BFCL data, the checker behind its stub, and the ground-truth proposals.

The questions and answers come from the installed ``bfcl-eval`` package (not ../shared).
"""

from __future__ import annotations

import sys

import pytest

from eval.bfcl.questions import (
    AST_CATEGORIES,
    BROKEN_ANSWERS,
    CATEGORIES,
    IRRELEVANCE_CATEGORIES,
    MULTI_TURN_CATEGORIES,
    BfclQuestion,
    category_of,
    check,
    execution_strings,
    ground_truth_proposal,
    ground_truth_turns,
    load_answers,
    load_questions,
    to_decoded,
)
from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall
from toolrm_agent.core.specs import ToolSpec


def test_categories_are_the_supported_v4_ones() -> None:
    assert CATEGORIES == (
        "simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance",
        "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple", "live_irrelevance",
        "multi_turn_base",
    )
    assert AST_CATEGORIES | IRRELEVANCE_CATEGORIES | MULTI_TURN_CATEGORIES == set(CATEGORIES)


@pytest.mark.parametrize(
    ("qid", "category"),
    [
        ("simple_python_0", "simple_python"),
        ("parallel_multiple_12", "parallel_multiple"),
        ("live_simple_3-2-0", "live_simple"),
        ("live_parallel_multiple_0-0-0", "live_parallel_multiple"),
        ("multi_turn_base_199", "multi_turn_base"),
        ("irrelevance_5", "irrelevance"),
        ("parallel_function_4", "parallel"),  # v1 ids map to v4 categories
        ("relevance_3", "irrelevance"),
        ("simple_7", "simple_python"),
    ],
)
def test_category_of(qid: str, category: str) -> None:
    assert category_of(qid) == category


def test_load_questions_and_answers() -> None:
    questions = load_questions("simple_python")
    answers = load_answers("simple_python")
    assert len(questions) == 400 and set(answers) == set(questions)
    q = questions["simple_python_0"]
    assert isinstance(q, BfclQuestion) and q.category == "simple_python"
    assert q.turns[0][0]["role"] == "user" and "triangle" in q.turns[0][0]["content"]
    assert q.function_names == ["calculate_triangle_area"]
    assert answers[q.id] == [
        {"calculate_triangle_area": {"base": [10], "height": [5], "unit": ["units", ""]}}
    ]
    assert load_answers("irrelevance") == {}
    assert len(load_questions("irrelevance")) == 240
    # a copy: callers may mutate the dict without touching the cache
    questions.clear()
    assert len(load_questions("simple_python")) == 400


def test_unknown_category_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown BFCL v4 category"):
        load_questions("simple_cobol")


def test_specs_and_context() -> None:
    q = load_questions("multiple")["multiple_0"]
    assert all(isinstance(s, ToolSpec) for s in q.specs)
    assert [s.name for s in q.specs] == q.function_names
    assert all(s.parameters["type"] == "object" for s in q.specs)  # BFCL "dict" → object
    ctx = q.context()
    assert ctx.tools == q.specs
    assert ctx.user_request == q.turns[0][-1]["content"]


def test_multi_turn_questions_carry_functions_and_simulator_state() -> None:
    q = load_questions("multi_turn_base")["multi_turn_base_0"]
    assert len(q.turns) == 4 and q.involved_classes
    assert {"cd", "mv", "post_tweet"} <= set(q.function_names)
    assert "GorillaFileSystem" in q.initial_config


def test_checker_is_imported_behind_the_stub() -> None:
    from eval.bfcl.stub import ast_checker_module

    checker = ast_checker_module()
    stub = sys.modules["bfcl_eval.constants.model_config"]
    assert getattr(stub, "__toolrm_stub__", False)
    assert stub.MODEL_CONFIG_MAPPING["any/model-name"].underscore_to_dot is False
    assert checker.MODEL_CONFIG_MAPPING["gpt-4o"].underscore_to_dot is False
    # the real registry imports every vendor SDK; none of it may be loaded
    assert not any(m.startswith("bfcl_eval.model_handler.api_inference") for m in sys.modules)


def _simple() -> BfclQuestion:
    return load_questions("simple_python")["simple_python_0"]


def test_check_accepts_right_and_rejects_wrong_calls() -> None:
    q = _simple()
    right = Proposal(
        calls=(ToolCall(name="calculate_triangle_area", arguments={"base": 10, "height": 5}),)
    )
    assert check(q, right).valid
    wrong = right.override(calls=(right.calls[0].override(arguments={"base": 10, "height": 6}),))
    result = check(q, wrong)
    assert not result.valid and result.error_type == "value_error:others"
    assert result.errors and "height" in result.errors[0]
    missing = right.override(calls=(right.calls[0].override(arguments={"base": 10}),))
    assert check(q, missing).error_type == "simple_function_checker:missing_required"
    assert check(q, Proposal()).error_type == "simple_function_checker:wrong_count"
    # decoded format and ToolCall lists are accepted as well
    assert check(q, [{"calculate_triangle_area": {"base": 10, "height": 5}}]).valid
    assert check(q, list(right.calls)).valid


def test_check_compares_names_exactly() -> None:
    q = load_questions("simple_python")["simple_python_1"]  # math.factorial
    dotted = [{"math.factorial": {"number": 5}}]
    assert check(q, dotted).valid
    underscored = check(q, [{"math_factorial": {"number": 5}}])
    assert not underscored.valid and underscored.error_type.endswith("wrong_func_name")


def test_parse_failure_makes_an_ast_answer_invalid() -> None:
    q = _simple()
    broken = Proposal(
        calls=(ToolCall(name="calculate_triangle_area", arguments={"base": 10, "height": 5}),),
        failures=(ParseFailure(raw="calculate_triangle_area(base=", reason="truncated"),),
    )
    result = check(q, broken)
    assert not result.valid and result.error_type == "ast_decoder:decoder_failed"


def test_irrelevance_is_correct_iff_no_call() -> None:
    q = load_questions("irrelevance")["irrelevance_0"]
    assert check(q, Proposal(content="I cannot help with that.")).valid
    assert check(q, Proposal(failures=(ParseFailure(raw="[f(", reason="bad"),))).valid
    assert check(q, []).valid and check(q, [{}]).valid
    called = check(q, Proposal(calls=(ToolCall(name=q.function_names[0], arguments={}),)))
    assert not called.valid and called.error_type == "irrelevance_error:decoder_success"


def test_checker_exceptions_become_results(monkeypatch: pytest.MonkeyPatch) -> None:
    from eval.bfcl.stub import ast_checker_module

    def boom(*args: object, **kwargs: object) -> None:
        raise TypeError("unhashable type: 'dict'")

    monkeypatch.setattr(ast_checker_module(), "ast_checker", boom)
    result = check(_simple(), [{"calculate_triangle_area": {"base": 10, "height": 5}}])
    assert not result.valid and result.error_type == "checker:exception"
    assert "unhashable" in result.errors[0]


def test_ground_truth_rule() -> None:
    q = _simple()
    gt = ground_truth_proposal(q, load_answers("simple_python")[q.id])
    # first acceptable value; "unit" is optional (its acceptable values include "")
    assert [(c.name, c.arguments) for c in gt.calls] == [
        ("calculate_triangle_area", {"base": 10, "height": 5})
    ]
    answer = [{"calculate_triangle_area": {"base": [7, 8], "height": [5], "unit": ["cm", ""]}}]
    assert ground_truth_proposal(q, answer).calls[0].arguments == {"base": 7, "height": 5}
    assert ground_truth_proposal(load_questions("irrelevance")["irrelevance_0"]) == Proposal()


def test_ground_truth_keeps_required_arguments_marked_optional() -> None:
    q = load_questions("parallel")["parallel_88"]  # initial_velocity: [0, ""] but required
    gt = ground_truth_proposal(q)
    assert all("initial_velocity" in c.arguments for c in gt.calls)
    assert check(q, gt).valid


def test_ground_truth_resolves_nested_dict_answers() -> None:
    # a dict parameter's possible answer is a dict of acceptable-value lists
    seen = 0
    for q in load_questions("simple_python").values():
        (item,) = load_answers("simple_python")[q.id]
        ((name, params),) = item.items()
        for param, values in params.items():
            if values and isinstance(values[0], dict):
                expected = {k: v[0] for k, v in values[0].items() if "" not in v}
                assert ground_truth_proposal(q).calls[0].arguments[param] == expected
                seen += 1
    assert seen >= 3


@pytest.mark.parametrize("category", sorted(AST_CATEGORIES | IRRELEVANCE_CATEGORIES))
def test_ground_truth_passes_the_checker_for_every_question(category: str) -> None:
    failing = []
    for qid, q in load_questions(category).items():
        result = check(q, ground_truth_proposal(q))
        if not result.valid:
            failing.append(qid)
    expected = sorted(i for i in BROKEN_ANSWERS if category_of(i) == category)
    assert sorted(failing) == expected


def test_ground_truth_of_every_multi_turn_question_passes() -> None:
    failing = []
    for qid, q in load_questions("multi_turn_base").items():
        turns = ground_truth_turns(q)
        assert all(not t.failures for t in turns), qid
        if not check(q, turns).valid:
            failing.append(qid)
    assert failing == []


def test_multi_turn_checker_executes_calls() -> None:
    q = load_questions("multi_turn_base")["multi_turn_base_0"]
    turns = ground_truth_turns(q)
    assert check(q, [[t] for t in turns]).valid
    # steps may also be call strings or decoded calls
    as_strings = [[execution_strings(t)] for t in turns]
    assert check(q, as_strings).valid
    # leaving out a call of the first turn leaves the file system in another state
    short = [[turns[0].override(calls=turns[0].calls[:1])]] + [[t] for t in turns[1:]]
    result = check(q, short)
    assert not result.valid and result.error_type.startswith("multi_turn:")
    # a turn with no call at all, and a missing turn
    assert (
        check(q, [[t] for t in turns[:-1]] + [[]]).error_type
        == "multi_turn:empty_turn_model_response"
    )
    assert check(q, [[t] for t in turns[:-1]]).error_type == "multi_turn:force_terminated"
    # each check runs on a fresh simulator: the same answer passes twice
    assert check(q, [[t] for t in turns]).valid


def test_multi_turn_refuses_code_as_function_names() -> None:
    q = load_questions("multi_turn_base")["multi_turn_base_0"]
    evil = Proposal(calls=(ToolCall(name="__import__('os').system", arguments={}),))
    result = check(q, [[evil]] * len(q.turns))
    assert not result.valid and result.error_type == "multi_turn:decoder_failed"
    with pytest.raises(ValueError):
        execution_strings(["__import__('os').getcwd()"])


def test_to_decoded() -> None:
    p = Proposal(calls=(ToolCall(name="f", arguments={"a": 1}), ToolCall(name="g")))
    assert to_decoded(p) == [{"f": {"a": 1}}, {"g": {}}]
