"""Balanced sampling over complexity × intensity × source."""

from __future__ import annotations

from collections import Counter

from toolrm_agent.core.calls import Proposal, ToolCall
from train.balance import allocate, balance, cell_of, histograms, intensity
from train.pairs import ScoredCandidate, TrainPair


def pair(i: int, source: str, complexity: str, gap: float, record: str | None = None) -> TrainPair:
    def side(score: float, n: int) -> ScoredCandidate:
        return ScoredCandidate(origin="x", score=score, message="",
                               proposal=Proposal(calls=(ToolCall(name=f"f{n}", arguments={}),)))
    return TrainPair(id=f"p{i}", record_id=record or f"r{i}", source=source, complexity=complexity,
                     chosen=side(1.0, i), rejected=side(round(1.0 - gap, 6), -i))


def test_intensity_bins() -> None:
    assert [intensity(g) for g in (0.1, 1 / 3, 0.5, 0.7, 1.0)] == ["low", "low", "mid", "high", "high"]


def test_allocate_fills_equally_then_gives_leftovers_to_harder_cells() -> None:
    sizes = {("simple", "high", "a"): 100, ("simple", "low", "a"): 100, ("simple", "mid", "a"): 5}
    quota = allocate(sizes, 60)
    assert sum(quota.values()) == 60
    assert quota[("simple", "mid", "a")] == 5
    assert quota[("simple", "low", "a")] >= quota[("simple", "high", "a")]
    assert allocate(sizes, 1000) == sizes


def test_balance_evens_out_a_skewed_source_and_is_seeded() -> None:
    pairs = [pair(i, "big", "simple", 1.0) for i in range(300)]
    pairs += [pair(1000 + i, "small", "parallel", 0.5) for i in range(30)]
    out = balance(pairs, 100, seed=0)
    counts = Counter(p.source for p in out)
    assert len(out) == 100 and counts["small"] == 30 and counts["big"] == 70
    assert [p.id for p in balance(pairs, 100, seed=0)] == [p.id for p in out]
    assert [p.id for p in balance(pairs, 100, seed=1)] != [p.id for p in out]
    h = histograms(out)
    assert h["source"] == {"big": 70, "small": 30} and sum(h["intensity"].values()) == 100


def test_balance_spreads_over_records_inside_a_cell() -> None:
    pairs = [pair(i, "a", "simple", 1.0, record=f"r{i % 3}") for i in range(30)]
    out = balance(pairs, 3)
    assert {p.record_id for p in out} == {"r0", "r1", "r2"}
    assert cell_of(out[0]) == ("simple", "high", "a")
