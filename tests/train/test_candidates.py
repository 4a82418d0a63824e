"""Candidates: ground truth, corruptions and policy samples (a scripted policy here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes import ScriptedChatModel, make_record
from train.candidates import build_candidates, done_ids, origins, policy_candidates, read_candidates
from train.pairs import CandidatePairStats, make_pairs


def test_policy_samples_are_read_by_the_runtime_parser() -> None:
    record = make_record()
    policy = ScriptedChatModel(script=[
        '{"name": "get_weather", "arguments": {"city": "Paris", "unit": "fahrenheit"}}',  # JSON in text
        "I cannot help with that.",
    ])
    cands = policy_candidates(policy, "fake", record, 2)
    assert [c.origin for c in cands] == ["policy:fake", "policy:fake"]
    # the two samples are drawn as one batch: which scripted answer lands first is up to the threads
    assert sorted([c.name for c in cand.proposal.calls] for cand in cands) == [[], ["get_weather"]]
    assert sum(cand.proposal.is_empty for cand in cands) == 1
    assert policy.bound_tools and policy.calls[0][0].content == record.messages[0]["content"]


def test_a_failing_policy_gives_no_samples_and_the_build_goes_on(tmp_path: Path) -> None:
    policy = ScriptedChatModel(script=[RuntimeError("server down")], default="oops")
    out = tmp_path / "c.jsonl"
    n = build_candidates([make_record("a"), make_record("b")], out, policies=[("fake", policy)],
                         samples=1, corruptions_per_record=2)
    assert n == 2
    counts = origins(read_candidates(out))
    assert counts["ground_truth"] == 2 and counts["policy:fake"] == 1
    assert done_ids(out) == {"a", "b"}
    assert build_candidates([make_record("a"), make_record("b")], out) == 0  # resumed: nothing left


def test_pairs_keep_chosen_above_rejected_and_drop_records_without_spread(tmp_path: Path) -> None:
    good = make_record("good")
    paris = {"name": "get_weather", "arguments": {"city": "Paris", "unit": "fahrenheit"}}
    berlin = {"name": "get_weather", "arguments": {"city": "Berlin", "unit": "fahrenheit"}}
    policy = ScriptedChatModel(script=[json.dumps(paris) + "\n" + json.dumps(berlin)])
    out = tmp_path / "c.jsonl"
    build_candidates([good], out, policies=[("fake", policy)], samples=1, corruptions_per_record=3)
    stats = CandidatePairStats()
    pairs = list(make_pairs({"good": good}, read_candidates(out), stats))
    assert pairs and all(p.chosen.score > p.rejected.score for p in pairs)
    assert stats.merged == 1  # the policy wrote the ground truth: merged into it
    assert {p.chosen.origin for p in pairs if p.chosen.score == 1.0} == {"ground_truth"}
    flat = tmp_path / "flat.jsonl"
    build_candidates([good], flat, corruptions_per_record=0)  # only the ground truth: no spread
    stats = CandidatePairStats()
    assert list(make_pairs({"good": good}, read_candidates(flat), stats)) == []
    assert stats.too_easy == 1


def test_a_served_policy_spec_reaches_the_chat_model_factory_unresolved(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--policy llamacpp:default`` is a server spec, not a model directory to resolve."""
    import toolrm_agent.models.policy as policy_module
    from train import build

    seen: list[str] = []
    monkeypatch.setattr(policy_module, "load_chat_model", lambda spec, **_: seen.append(spec) or spec)
    assert build._policy("llamacpp:default", 0.7) == "llamacpp:default"
    assert build._policy("openai:m@http://127.0.0.1:1/v1", 0.7) == "openai:m@http://127.0.0.1:1/v1"
    assert seen == ["llamacpp:default", "openai:m@http://127.0.0.1:1/v1"]
