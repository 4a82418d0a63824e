"""Our ACEBench checker on hand-made cases of every category kind (no ACEBench data here)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from eval.acebench.checker import (
    check,
    check_normal,
    check_special,
    match_value,
    normalize,
    right_refusal,
)
from eval.acebench.data import AceBenchDataError, category_of, dialogue_turns, load_questions
from toolrm_agent.core.calls import ToolCall

PLAN = {
    "name": "plan_trip",
    "description": "Plan a trip",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"}, "days": {"type": "integer"}, "budget": {"type": "number"},
            "hotel": {"type": "boolean"}, "interests": {"type": "array", "items": {"type": "string"}},
            "traveller": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "prefs": {"type": "object", "properties": {"seat": {"type": "string"}}},
                },
            },
            "note": {"type": "string"},
        },
        "required": ["city", "days"],
    },
}
WEATHER = {
    "name": "get_weather",
    "description": "Weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
NOARGS = {"name": "ping", "description": "", "parameters": {}}
FUNCS = [PLAN, WEATHER, NOARGS]


def call(name: str, **arguments: object) -> ToolCall:
    return ToolCall(name=name, arguments=arguments)


# ---------------------------------------------------------------------------- values


def test_strings_are_normalised_and_the_expected_one_may_be_contained() -> None:
    assert normalize("New-York, U.S.") == "newyorkus"
    assert match_value("the City of new york", "New York", where="x") is None
    assert match_value("Boston", "New York", where="x")
    assert match_value(5, "New York", where="x")  # a number is no string
    # inside a list the strings must be equal, not contained
    assert match_value(["art museums"], ["museums"], where="x")
    assert match_value(["Art-Museums"], ["art museums"], where="x") is None


def test_numbers_and_booleans_are_compared_by_value() -> None:
    assert match_value(3, 3.0, where="x") is None
    assert match_value(4, 3, where="x")  # the reference would not even look
    assert match_value(True, 1, where="x")  # a bool is no number
    assert match_value("true", True, where="x") is None
    assert match_value(False, True, where="x")


def test_lists_keep_order_and_length() -> None:
    assert match_value(["a", "b"], ["a", "b"], where="x") is None
    assert match_value(["b", "a"], ["a", "b"], where="x")
    assert match_value(["a"], ["a", "b"], where="x")
    assert match_value("a", ["a"], where="x")


def test_nested_objects_match_key_by_key_at_any_depth() -> None:
    expected = {"name": "Ann", "prefs": {"seat": "window"}}
    assert match_value({"name": "ann", "prefs": {"seat": "Window"}}, expected, where="t") is None
    why = match_value({"name": "Ann", "prefs": {"seat": "aisle"}}, expected, where="t")
    assert why and "t.prefs.seat" in why
    assert match_value({"name": "Ann"}, expected, where="t")  # a key missing
    assert match_value({**expected, "age": 3}, expected, where="t")  # a key too many
    # a list of objects: in order, each object matched
    rows = [{"d": "2023-01-01", "v": 1000}, {"d": "2023-02-01", "v": 1050}]
    assert match_value([dict(r) for r in rows], rows, where="h") is None
    assert match_value([rows[0], {"d": "2023-02-01", "v": 1051}], rows, where="h")


# ----------------------------------------------------------------- normal categories


def test_a_single_call_with_values_types_and_nested_objects() -> None:
    gt = {"plan_trip": {"city": "Paris", "days": 3, "traveller": {"name": "Ann", "prefs": {"seat": "window"}}}}
    good = call("plan_trip", city="paris", days=3, traveller={"name": "Ann", "prefs": {"seat": "window"}})
    assert check_normal(FUNCS, [good], gt).valid
    # an optional parameter the ground truth has may be left out (the reference's rule)
    assert check_normal(FUNCS, [call("plan_trip", city="Paris", days=3)], gt).valid
    wrong_number = check_normal(FUNCS, [call("plan_trip", city="Paris", days=4)], gt)
    assert not wrong_number.valid and wrong_number.error_type == "value_error"
    missing = check_normal(FUNCS, [call("plan_trip", city="Paris")], gt)
    assert missing.error_type == "lack_args"
    extra = check_normal(FUNCS, [call("plan_trip", city="Paris", days=3, note="hi")], gt)
    assert extra.error_type == "addition_args"  # an optional argument nobody asked for
    deep = check_normal(
        FUNCS, [call("plan_trip", city="Paris", days=3, traveller={"name": "Ann", "prefs": {"seat": "aisle"}})], gt
    )
    assert deep.error_type == "value_error" and "prefs.seat" in deep.errors[0]


def test_wrong_function_no_call_and_wrong_count() -> None:
    gt = {"get_weather": {"city": "Oslo"}}
    assert check_normal(FUNCS, [call("plan_trip", city="Oslo", days=1)], gt).error_type == "function_mismatch"
    assert check_normal(FUNCS, [], gt).error_type == "no_call"
    two = [call("get_weather", city="Oslo"), call("get_weather", city="Oslo")]
    assert check_normal(FUNCS, two, gt).error_type == "wrong_count"


def test_parallel_calls_are_order_free_and_matched_one_to_one() -> None:
    gt = {
        "get_weather_1": {"city": "Oslo"},
        "get_weather_2": {"city": "Rome"},
        "plan_trip": {"city": "Rome", "days": 2},
    }
    answer = [
        call("plan_trip", city="Rome", days=2), call("get_weather", city="Rome"), call("get_weather", city="Oslo")
    ]
    assert check_normal(FUNCS, answer, gt).valid
    # both weather calls for Rome: one expected call is left without a partner
    twice = [call("plan_trip", city="Rome", days=2), call("get_weather", city="Rome"), call("get_weather", city="Rome")]
    assert not check_normal(FUNCS, twice, gt).valid


def test_alternatives_any_one_passing_is_enough() -> None:
    gt = [{"get_weather": {"city": "Saint Petersburg"}}, {"get_weather": {"city": "St Petersburg"}}]
    assert check_normal(FUNCS, [call("get_weather", city="St. Petersburg")], gt).valid
    assert not check_normal(FUNCS, [call("get_weather", city="Moscow")], gt).valid


def test_a_function_without_parameters() -> None:
    assert check_normal(FUNCS, [call("ping")], {"ping": {}}).valid


def test_profile_and_time_dependent_values_are_checked_as_values() -> None:
    # the value comes from the profile or the date in the question; the checker only
    # sees the ground truth's resolved value
    gt = {"plan_trip": {"city": "Chicago, IL", "days": 2, "note": "2024-11-23"}}
    assert check_normal(FUNCS, [call("plan_trip", city="Chicago IL", days=2, note="2024-11-23")], gt).valid
    assert not check_normal(FUNCS, [call("plan_trip", city="Chicago IL", days=2, note="2024-11-22")], gt).valid


# ---------------------------------------------------------------- special categories


def test_incomplete_wants_no_call_and_the_missing_parameters_named() -> None:
    gt = {"plan_trip": ["city ", " days"]}  # ACEBench's lists carry stray spaces
    right = right_refusal("special_incomplete", gt)
    assert right == "Missing necessary parameters (city, days) for the api (plan_trip)"
    assert check_special("special_incomplete", [], right, gt).valid
    half = check_special("special_incomplete", [], "Missing necessary parameters (city) for the api (plan_trip)", gt)
    assert half.error_type == "error_correction"
    called = check_special("special_incomplete", [call("plan_trip", city="x", days=1)], right, gt)
    assert called.error_type == "unexpected_call"
    prose = "Which city, and for how many days?"
    assert check_special("special_incomplete", [], prose, gt).error_type == "error_detection"
    prose = "Please tell me the city and the days."
    assert check_special("special_incomplete", [], prose, gt, phrases=False).valid


def test_error_param_wants_the_wrong_values_quoted() -> None:
    gt = {"plan_id": ["1234WrongID"]}
    right = right_refusal("special_error_param", gt)
    assert check_special("special_error_param", [], right, gt).valid
    vague = "There is incorrect value (an id) for the parameters (plan_id) in the conversation history."
    assert check_special("special_error_param", [], vague, gt).error_type == "error_correction"
    assert check_special("special_error_param", [], "1234WrongID looks wrong", gt).error_type == "error_detection"
    assert check_special("special_error_param", [], "1234WrongID looks wrong", gt, phrases=False).valid


def test_irrelevant_wants_a_decline() -> None:
    gt = "Due to the limitations of the function, I cannot solve this problem."
    assert check_special("special_irrelevant", [], right_refusal("special_irrelevant", gt), gt).valid
    assert check_special("special_irrelevant", [call("get_weather", city="x")], gt, gt).error_type == "unexpected_call"
    assert not check_special("special_irrelevant", [], "Sure! Here you go.", gt).valid
    assert check_special("special_irrelevant", [], "I can't do that.", gt, phrases=False).valid


# ------------------------------------------------------------------------------ data


def _write(folder: Path, name: str, rows: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / name, "wt", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in rows))


def test_loading_a_tiny_data_folder_and_checking_through_the_question(tmp_path: Path) -> None:
    cat = "normal_multi_turn_user_adjust"
    dialogue = "user: Weather please.\nsystem: Which city?\nuser: Oslo,\nthe capital.\n"
    row = {"id": f"{cat}_0_1", "question": dialogue, "function": [WEATHER], "time": "t"}
    _write(tmp_path, f"data_{cat}.json.gz", [row])
    _write(tmp_path / "possible_answer", f"data_{cat}.json.gz",
           [{"id": f"{cat}_0_1", "ground_truth": {"get_weather": {"city": "Oslo"}}}])
    [q] = load_questions(cat, tmp_path)
    assert q.category == category_of(q.id) == cat and q.time == "t"
    assert [s.name for s in q.specs] == ["get_weather"]
    assert q.turns == [("user", "Weather please."), ("assistant", "Which city?"), ("user", "Oslo,\nthe capital.")]
    assert check(q, [call("get_weather", city="oslo")]).valid
    with pytest.raises(AceBenchDataError):
        load_questions("agent_multi_step", tmp_path)
    with pytest.raises(AceBenchDataError):
        load_questions("special_irrelevant", tmp_path)  # no file


def test_dialogue_without_roles_is_one_user_turn() -> None:
    assert dialogue_turns("just a question") == [("user", "just a question")]
