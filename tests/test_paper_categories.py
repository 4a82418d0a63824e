"""TRBench in the paper's nine categories: names, weighting, the few-pairs flag."""

from __future__ import annotations

from eval.commands.trbench import PairOutcome, summarize
from eval.paper_categories import MIN_PAIRS, PAPER_CATEGORIES, paper_line, paper_view


def test_the_nine_categories_in_the_papers_order() -> None:
    assert list(PAPER_CATEGORIES) == ["S", "M", "P", "PM", "LS", "LM", "LP", "LPM", "MTB"]
    assert PAPER_CATEGORIES["LPM"] == "live_parallel_multiple" and MIN_PAIRS == 30


def test_weighted_average_over_the_categories_present_and_the_few_pairs_flag() -> None:
    per_category = {
        "simple_python": {"n": 100, "acc": 0.9},
        "live_parallel": {"n": 10, "acc": 0.2},
        "irrelevance": {"n": 500, "acc": 0.0},  # not one of the nine: left out
    }
    view = paper_view(per_category)
    assert view["present"] == ["S", "LP"] and view["few_pairs"] == ["LP"]
    assert view["missing"] == ["M", "P", "PM", "LS", "LM", "LPM", "MTB"]
    assert view["n_pairs"] == 110
    assert abs(view["w_avg"] - (90 + 2) / 110) < 1e-12
    assert view["categories"]["MTB"] == {"category": "multi_turn_base", "n": 0, "acc": None, "few_pairs": False}
    line = paper_line(view)
    assert "S 0.900 (n=100)" in line and "LP 0.200 (n=10, < 30 pairs)" in line and "missing: M" in line
    assert paper_view({})["w_avg"] is None and "none present" in paper_line(paper_view({}))


def test_the_trbench_report_keeps_its_fields_and_adds_the_paper_view() -> None:
    outcomes = [
        PairOutcome(pair_id=f"p{i}", category=cat, error_type="e", model="m", correct=ok)
        for i, (cat, ok) in enumerate(
            [("simple_python", True), ("simple_python", False), ("live_simple", True), ("irrelevance", False)]
        )
    ]
    report = summarize(outcomes, judge="schema", comparison="pointwise", seconds=1.0)
    assert report["w_avg"] == 0.5 and set(report["per_category"]) == {"simple_python", "live_simple", "irrelevance"}
    assert report["paper"]["present"] == ["S", "LS"] and abs(report["paper"]["w_avg"] - 2 / 3) < 1e-12
