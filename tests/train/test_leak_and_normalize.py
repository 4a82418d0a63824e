"""The BFCL-leak filter and the normalize stage's drops."""

from __future__ import annotations

import json

from tests.fakes import make_record
from train.leak import bfcl_question_hashes, is_leak, normalize_text
from train.normalize import NormalizeStats, normalize
from train.records import GroundTruthCall


def _bfcl_question() -> str:
    from train.leak import bfcl_data_dir

    line = (bfcl_data_dir() / "BFCL_v4_simple_python.json").read_text().splitlines()[0]
    return json.loads(line)["question"][0][0]["content"]


def test_every_bfcl_category_is_hashed() -> None:
    hashes = bfcl_question_hashes()
    assert len(hashes) > 4000
    q = _bfcl_question()
    assert is_leak([q]) and is_leak(["  " + q.upper() + " !"])
    assert not is_leak(["What is the weather in Paris today?"])
    assert normalize_text("Hello,   World!") == "hello world"


def test_normalize_drops_leaks_bad_schema_errors_repeats_and_duplicates() -> None:
    good = make_record("a/s/0/0")
    leak = make_record("a/s/1/0", text=_bfcl_question())
    bad_schema = make_record("a/s/2/0", calls=[("get_weather", {"town": "Paris"})])
    after_error = make_record("a/s/3/0").model_copy(update={"messages": [
        {"role": "user", "content": "weather in Paris"},
        {"role": "assistant", "content": "",
         "tool_calls": [{"id": "1", "name": "get_weather", "arguments": {"city": "Pari"}}]},
        {"role": "tool", "tool_call_id": "1", "content": "Error: unknown city"},
    ]})
    repeated = make_record("a/s/4/0").model_copy(update={
        "messages": [{"role": "user", "content": "weather in Paris"},
                     {"role": "assistant", "content": "",
                      "tool_calls": [{"id": "1", "name": "get_weather", "arguments": {"city": "Paris"}}]},
                     {"role": "tool", "tool_call_id": "1", "content": "sunny"}],
        "calls": [GroundTruthCall(name="get_weather", arguments={"city": "Paris"})]})
    duplicate = make_record("a/s/5/0")
    stats = NormalizeStats()
    kept = normalize([good, leak, bad_schema, after_error, repeated, duplicate],
                     irrelevance_share=0.0, stats=stats)
    assert [r.id for r in kept] == ["a/s/0/0"]
    assert stats.to_dict()["dropped"] == {"bad_schema": 1, "after_error": 1, "repeated_call": 1,
                                          "duplicate": 1, "bfcl_leak": 1}


def test_normalize_adds_seeded_irrelevance_variants() -> None:
    records = [make_record(f"a/s/{i}/0", text=f"weather in city number {i}?",
                           calls=[("get_weather", {"city": f"city number {i}"})]) for i in range(40)]
    out = normalize(records, irrelevance_share=0.5, seed=3)
    variants = [r for r in out if r.no_call]
    assert 8 <= len(variants) <= 32
    assert [r.id for r in normalize(records, irrelevance_share=0.5, seed=3)] == [r.id for r in out]
