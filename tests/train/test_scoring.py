"""The rule-based scorer: partial credit on hand-made cases."""

from __future__ import annotations

import pytest

from toolrm_agent.core.calls import Proposal, ToolCall
from train.scoring import score_candidate, standardize, values_equal


def P(*calls: tuple[str, dict]) -> Proposal:
    return Proposal(calls=tuple(ToolCall(name=n, arguments=a) for n, a in calls))


GT = P(("get_weather", {"city": "Paris", "unit": "celsius"}))


def test_ground_truth_scores_one() -> None:
    s = score_candidate(GT, GT)
    assert s.value == 1.0 and s.passed and s.message == "correct"


def test_bfcl_style_coercion() -> None:
    assert values_equal(5, 5.0)
    assert values_equal("New York", "new-york")
    assert values_equal([1, 2], (1.0, 2))
    assert not values_equal(True, 1)
    assert not values_equal("5", 5)
    assert standardize("Hello, World!") == "helloworld!"
    assert score_candidate(GT, P(("get_weather", {"city": "paris", "unit": "Celsius"}))).passed


def test_one_wrong_value_of_two_is_half() -> None:
    s = score_candidate(GT, P(("get_weather", {"city": "Paris, France", "unit": "celsius"})))
    assert s.value == pytest.approx(0.5)
    assert "city" in s.message and "Paris, France" in s.message


def test_missing_and_extra_keys_count_over_the_union() -> None:
    missing = score_candidate(GT, P(("get_weather", {"city": "Paris"})))
    assert missing.value == pytest.approx(0.5) and "unit" in missing.message
    extra = score_candidate(GT, P(("get_weather", {"city": "Paris", "unit": "celsius", "days": 3})))
    assert extra.value == pytest.approx(2 / 3) and "days" in extra.message


def test_wrong_function_scores_zero() -> None:
    s = score_candidate(GT, P(("get_time", {"city": "Paris", "unit": "celsius"})))
    assert s.value == 0.0 and "get_time" in s.message


def test_parallel_calls_match_in_any_order_and_missing_calls_cost_their_share() -> None:
    gt = P(("f", {"x": 1}), ("f", {"x": 2}), ("f", {"x": 3}))
    assert score_candidate(gt, P(("f", {"x": 3}), ("f", {"x": 1}), ("f", {"x": 2}))).passed
    two = score_candidate(gt, P(("f", {"x": 3}), ("f", {"x": 1})))
    assert two.value == pytest.approx(2 / 3) and "expected 3" in two.message
    extra = score_candidate(gt, P(("f", {"x": 1}), ("f", {"x": 2}), ("f", {"x": 3}), ("f", {"x": 3})))
    assert extra.value == pytest.approx(3 / 4)


def test_no_call_records() -> None:
    assert score_candidate(Proposal(), Proposal(), no_call=True).value == 1.0
    s = score_candidate(Proposal(), GT, no_call=True)
    assert s.value == 0.0 and "no offered function fits" in s.message
    assert score_candidate(GT, Proposal()).value == 0.0


def test_scores_are_ordered_by_how_wrong() -> None:
    gt = P(("f", {"a": 1, "b": "x"}), ("g", {"c": True}))
    ranked = [
        P(("f", {"a": 1, "b": "x"}), ("g", {"c": True})),
        P(("f", {"a": 1, "b": "y"}), ("g", {"c": True})),
        P(("f", {"a": 1, "b": "x"})),
        P(("h", {"a": 1})),
    ]
    values = [score_candidate(gt, c).value for c in ranked]
    assert values == sorted(values, reverse=True) and len(set(values)) == 4
