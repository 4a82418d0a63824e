"""The discriminative trainers on tiny real checkpoints: one short training each, then judging."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.errors import CheckpointError, TrainingError
from toolrm_agent.judges.loader import load_judge
from toolrm_agent.judges.trained.trained import LM_STAT_NAMES, TrainedJudge
from train.disc.cached import INPUT_SETS, compare_inputs, load_data, train_cached
from train.disc.config import CachedCriticConfig, RewardModelConfig


def _first_pair(pref_dir: Path):
    records, pairs = load_data(pref_dir)
    pair = pairs[0]
    return records[pair.record_id].context(), pair


def test_cached_critic_trains_on_a_tiny_lm_and_loads_as_disc_dir(
    pref_dir: Path, tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    config = CachedCriticConfig(base_model=str(tiny_qwen_dir), epochs=3, batch_size=16, width=8, hidden_proj=4,
                                inputs=INPUT_SETS["all"])
    lines: list[str] = []
    metrics = train_cached(config, pref_dir, tmp_path / "critic", cache=tmp_path / "lm", echo=lines.append)
    assert any(line.startswith("[read]") for line in lines)
    assert 0.0 <= metrics["val_accuracy"]["all"] <= 1.0 and metrics["train_pairs"] > 0
    assert 0.0 <= metrics["threshold"] <= 1.0
    judge = load_judge(f"disc:{tmp_path / 'critic'}")
    assert isinstance(judge, TrainedJudge) and judge.manifest.hidden == "mean"
    context, pair = _first_pair(pref_dir)
    a, b = judge.critique_many(context, [pair.chosen.proposal, pair.rejected.proposal])
    assert 0.0 <= a.score <= 1.0 and a.usage.input_tokens > 0
    pref = judge.compare(context, pair.chosen.proposal, pair.rejected.proposal)
    assert pref.scores == pytest.approx((a.score, b.score), abs=1e-4)  # batch of two = one by one
    # the LM readings were cached: a second training reads nothing
    lines.clear()
    train_cached(config, pref_dir, tmp_path / "critic2", cache=tmp_path / "lm", echo=lines.append)
    assert any("already read" in line for line in lines)


def test_a_limited_read_fits_on_the_records_read_and_two_workers_resume_it(
    pref_dir: Path, tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    from train.disc.cached import read_record_ids

    config = CachedCriticConfig(base_model=str(tiny_qwen_dir), epochs=2, batch_size=16, width=8, hidden_proj=4,
                                inputs=INPUT_SETS["all"], read_limit=3, lm_tools="called")
    lines: list[str] = []
    metrics = train_cached(config, pref_dir, tmp_path / "c", cache=tmp_path / "lm", echo=lines.append)
    assert len(read_record_ids(tmp_path / "lm")) == 3
    assert any("whose candidates were read" in line for line in lines)
    _, pairs = load_data(pref_dir)
    assert 0 < metrics["train_pairs"] + metrics["val_pairs"] < len(pairs)
    assert TrainedJudge(tmp_path / "c").manifest.lm_tools == "called"
    # the rest is read by two worker processes, resuming after the three records
    train_cached(replace(config, read_limit=None, read_workers=2), pref_dir, tmp_path / "c2",
                 cache=tmp_path / "lm", echo=lines.append)
    assert read_record_ids(tmp_path / "lm") == {p.record_id for p in pairs}


def test_a_critic_that_skips_the_tags_reads_at_inference_what_it_trained_on(
    pref_dir: Path, tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    """``lm_tags="skip"`` travels from the config to the manifest and the judge's reader: the
    statistics the head trained on are the ones the judge reads for the same candidate."""
    import numpy as np

    from train.disc.cached import candidate_key

    config = CachedCriticConfig(base_model=str(tiny_qwen_dir), epochs=2, batch_size=16, width=8,
                                inputs=INPUT_SETS["features+relevance+lm_stats"], read_limit=2, lm_tags="skip")
    train_cached(config, pref_dir, tmp_path / "c", cache=tmp_path / "lm", echo=lambda _: None)
    judge = TrainedJudge(tmp_path / "c")
    assert judge.manifest.lm_tags == "skip" and judge.reader.lm_tags == "skip"
    assert json.loads((tmp_path / "lm" / "readings.json").read_text())["lm_tags"] == "skip"
    shard = np.load(next((tmp_path / "lm").glob("shard_*.npz")))
    records, pairs = load_data(pref_dir)
    pair = next(p for p in pairs if p.record_id == str(shard["records"][0]))
    proposal = pair.chosen.proposal
    row = list(shard["keys"]).index(candidate_key(pair.record_id, proposal))
    x = judge.reader.inputs(records[pair.record_id].context(), [proposal])[0]  # the LM statistics come last
    assert judge.manifest.input_names[-4:] == list(LM_STAT_NAMES)
    assert shard["lm_stats"][row] == pytest.approx(x[0, -4:], abs=1e-3)


def test_a_critic_on_the_verifier_reading_trains_caches_and_loads(
    pref_dir: Path, tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    from train.disc.cached import read_record_ids, verify_cache

    config = CachedCriticConfig(base_model=str(tiny_qwen_dir), epochs=2, batch_size=16, width=8,
                                inputs=INPUT_SETS["features+relevance+lm_verify"], read_limit=3)
    lines: list[str] = []
    train_cached(config, pref_dir, tmp_path / "c", cache=tmp_path / "lm", echo=lines.append)
    assert len(read_record_ids(verify_cache(tmp_path / "lm"))) == 3
    assert not read_record_ids(tmp_path / "lm")  # no likelihood pass: the inputs read none
    judge = load_judge(f"disc:{tmp_path / 'c'}")
    assert isinstance(judge, TrainedJudge) and judge.manifest.lm_verify and not judge.manifest.lm_stats
    assert judge.manifest.input_names[-1] == "lm_verify_logodds"
    context, pair = _first_pair(pref_dir)
    assert all(0.0 <= c.score <= 1.0 for c in judge.critique_many(context, [pair.chosen.proposal]))
    lines.clear()
    train_cached(config, pref_dir, tmp_path / "c2", cache=tmp_path / "lm", echo=lines.append)
    assert any("already read" in line for line in lines)


def test_feature_only_critic_separates_its_own_training_pairs(pref_dir: Path, tmp_path: Path) -> None:
    config = CachedCriticConfig(base_model=None, inputs=("features", "relevance"), epochs=60, batch_size=32)
    train_cached(config, pref_dir, tmp_path / "critic", echo=lambda _: None)
    judge = TrainedJudge(tmp_path / "critic")
    records, pairs = load_data(pref_dir)
    right = 0
    for p in pairs:
        a, b = judge.critique_many(records[p.record_id].context(), [p.chosen.proposal, p.rejected.proposal])
        right += a.score > b.score
    assert right / len(pairs) > 0.8


def test_compare_inputs_writes_one_critic_per_set(pref_dir: Path, tmp_path: Path) -> None:
    config = CachedCriticConfig(base_model=None, epochs=2, batch_size=32)
    report = compare_inputs(config, pref_dir, tmp_path, sets=["features", "features+relevance"],
                            echo=lambda _: None)
    assert set(report) == {"features", "features+relevance"}
    for name in report:
        assert (tmp_path / name / "critic.json").is_file()
    assert "all" in INPUT_SETS


def test_a_rejection_names_what_to_fix(pref_dir: Path, tmp_path: Path) -> None:
    train_cached(CachedCriticConfig(base_model=None, inputs=("features", "relevance"), epochs=60),
                 pref_dir, tmp_path / "critic", echo=lambda _: None)
    judge = TrainedJudge(tmp_path / "critic", threshold=0.999)
    context, _ = _first_pair(pref_dir)
    bad = Proposal(calls=(ToolCall(id="x", name="get_weather", arguments={"city": "Atlantis", "days": 99}),))
    critique = judge.critique(context, bad)
    assert not critique.accepted
    assert "Atlantis" in critique.text and "not in the request" in critique.text
    assert critique.calls[0].tool_call_id == "x" and critique.calls[0].issues


def test_misconfiguration_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not a trained critic"):
        TrainedJudge(tmp_path)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_judge(f"disc:{tmp_path / 'nowhere'}")
    with pytest.raises(TrainingError, match="base_model"):
        CachedCriticConfig(base_model=None, inputs=("hidden",)).check()
    with pytest.raises(TrainingError, match="base_model"):
        CachedCriticConfig(base_model=None, inputs=("features", "lm_verify")).check()
    with pytest.raises(TrainingError, match="subset"):
        CachedCriticConfig(inputs=("magic",)).check()
    with pytest.raises(TrainingError, match="no records.jsonl"):
        load_data(tmp_path)


def test_reward_trainer_lora_on_a_tiny_decoder(pref_dir: Path, tiny_qwen_dir: Path, tmp_path: Path) -> None:
    from toolrm_agent.judges.trained.discriminative import DiscriminativeJudge
    from train.disc.reward_trainer import train_reward_model

    config = RewardModelConfig(base_model=str(tiny_qwen_dir), max_steps=2, per_device_batch_size=2,
                               gradient_accumulation_steps=1, max_length=512, lora_r=4, max_pairs=12)
    metrics = train_reward_model(config, pref_dir, tmp_path / "rm", echo=lambda _: None)
    assert metrics["steps"] == 2 and (tmp_path / "rm" / "adapter" / "adapter_config.json").is_file()
    judge = load_judge(f"disc:{tmp_path / 'rm'}")
    assert isinstance(judge, DiscriminativeJudge)
    context, pair = _first_pair(pref_dir)
    assert 0.0 <= judge.critique(context, pair.chosen.proposal).score <= 1.0


@pytest.mark.slow
def test_reward_trainer_lora_on_the_minilm_encoder(pref_dir: Path, tmp_path: Path) -> None:
    from train.disc.reward_trainer import train_reward_model

    config = RewardModelConfig(base_model="minilm", max_steps=1, per_device_batch_size=2,
                               gradient_accumulation_steps=1, max_length=256, lora_r=4, max_pairs=8)
    metrics = train_reward_model(config, pref_dir, tmp_path / "rm", echo=lambda _: None)
    assert metrics["steps"] == 1
    judge = load_judge(f"disc:{tmp_path / 'rm'}")
    context, pair = _first_pair(pref_dir)
    assert 0.0 <= judge.critique(context, pair.chosen.proposal).score <= 1.0
