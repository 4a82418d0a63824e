"""Corruptions: each applies where it should, breaks the answer, and is deterministic."""

from __future__ import annotations

import random

import pytest

from tests.fakes import make_record
from train.corruptions import CORRUPTIONS, Situation, corrupt
from train.records import TrainRecord
from train.scoring import score_candidate

POOL = ["London", "Tokyo", "AAPL"]


def apply(name: str, record: TrainRecord, seed: int = 0):
    return CORRUPTIONS[name](Situation.of(record, POOL), random.Random(seed))


SHAPED = {
    "swap_values": make_record(calls=[("get_weather", {"city": "Paris", "days": 1}),
                                      ("get_weather", {"city": "Berlin", "days": 3})],
                               text="Paris for 1 day and Berlin for 3 days"),
    "extra_call": make_record(calls=[("get_weather", {"city": "Paris", "unit": "celsius"})],
                               text="Weather in Paris in celsius"),
    "split_list": make_record(calls=[("get_stock_price", {"symbol": ["AAPL", "MSFT"]})],
                              text="Prices of AAPL and MSFT"),
    "surface_form": make_record(calls=[("get_weather", {"city": "Paris", "date": "2022-12-10"})],
                                text="Weather in Paris on 10th December 2022"),
    "extra_words": make_record(calls=[("get_weather", {"city": "Paris"})],
                               text="Weather in Paris, France today"),
    "item_for_category": make_record(calls=[("get_stock_price", {"symbol": "AAPL"})],
                                     text="What is the price of Apple shares?"),
}


@pytest.mark.parametrize("name", sorted(set(CORRUPTIONS) - {"irrelevant_call"}))
def test_every_corruption_applies_and_is_wrong(name: str, record: TrainRecord) -> None:
    rec = SHAPED.get(name, record)
    out = apply(name, rec)
    assert out is not None, name
    score = score_candidate(rec.ground_truth(), out)
    assert score.value < 1.0, (name, out.render())


def test_the_parallel_record_admits_most_corruptions(record: TrainRecord) -> None:
    applied = {n for n in CORRUPTIONS if apply(n, record) is not None}
    assert applied >= {"drop_call", "duplicate_call", "merge_parallel", "ungrounded_value",
                       "paraphrase_value", "drop_optional", "add_optional", "drop_required",
                       "type_change", "wrong_function", "unknown_function", "no_call"}
    assert "irrelevant_call" not in applied


def test_what_specific_corruptions_do(record: TrainRecord) -> None:
    assert len(apply("drop_call", record).calls) == 1
    assert len(apply("duplicate_call", record).calls) == 3
    merged = apply("merge_parallel", record).calls
    assert len(merged) == 1 and merged[0].arguments["city"] == ["Paris", "Berlin"]
    dropped = apply("drop_optional", record).calls
    assert any("unit" not in c.arguments for c in dropped)
    ungrounded = apply("ungrounded_value", record)
    text = record.messages[0]["content"].lower()
    new_values = {str(v).lower() for c in ungrounded.calls for v in c.arguments.values()}
    assert any(v not in text for v in new_values)
    assert apply("wrong_function", record).calls[0].name in {"get_stock_price", "get_weather"}
    assert apply("no_call", record).is_empty


def test_swap_values_needs_two_calls_differing_in_two_keys() -> None:
    rec = make_record(calls=[("get_weather", {"city": "Paris", "days": 1}),
                             ("get_weather", {"city": "Berlin", "days": 3})],
                      text="Paris for 1 day and Berlin for 3 days")
    out = apply("swap_values", rec)
    assert out is not None
    pairs = {(c.arguments["city"], c.arguments["days"]) for c in out.calls}
    assert pairs in ({("Paris", 3), ("Berlin", 1)},)


def test_irrelevant_call_only_for_no_call_records() -> None:
    rec = make_record(no_call=True, text="Book a table for 'Chez Paul' at 7")
    out = apply("irrelevant_call", rec)
    assert out is not None and out.calls
    assert score_candidate(rec.ground_truth(), out, no_call=True).value == 0.0
    assert apply("drop_call", rec) is None


def test_corrupt_is_deterministic_distinct_and_tagged(record: TrainRecord) -> None:
    a = corrupt(record, rng=random.Random(1), limit=6, pool=POOL)
    b = corrupt(record, rng=random.Random(1), limit=6, pool=POOL)
    assert [(n, p.render()) for n, p in a] == [(n, p.render()) for n, p in b]
    renders = [p.render() for _, p in a]
    assert len(set(renders)) == len(renders) == 6
    assert record.ground_truth().render() not in renders
    assert all(n in CORRUPTIONS for n, _ in a)


def test_extra_call_repeats_a_call_with_a_variant() -> None:
    rec = make_record(calls=[("get_weather", {"city": "Paris", "unit": "celsius"})],
                      text="Weather in Paris in celsius")
    for seed in range(6):
        out = apply("extra_call", rec, seed)
        assert out is not None and len(out.calls) == 2
        assert out.calls[0].arguments == {"city": "Paris", "unit": "celsius"}
        assert out.calls[1].name == "get_weather" and out.calls[1].arguments != out.calls[0].arguments


def test_irrelevant_call_sometimes_invents_values() -> None:
    rec = make_record(no_call=True, text="Tell me a joke about Paris")
    outs = [apply("irrelevant_call", rec, seed) for seed in range(10)]
    assert all(o is not None and len(o.calls) == 1 for o in outs)
    values = [str(v) for o in outs for v in o.calls[0].arguments.values()]
    assert any("Paris" not in v for v in values)
