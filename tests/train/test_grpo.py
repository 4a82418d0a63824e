"""GRPO for a generative judge: the verifiable reward, and one step on a tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrm_agent.core.errors import TrainingError
from train.gen.config import GenRMConfig
from train.gen.grpo import choice_reward, format_reward, load_rows, train_genrm


def test_choice_reward_is_one_only_for_the_labelled_choice() -> None:
    completions = ["<choice>1</choice>", "<choice>2</choice>", "I think 1", "",
                   [{"role": "assistant", "content": "<choice>2</choice>"}]]
    labels = ["1", "1", "2", "1", "2"]
    assert choice_reward(completions, labels) == [1.0, 0.0, 0.0, 0.0, 1.0]


def test_format_reward_wants_exactly_one_tag() -> None:
    out = format_reward(["<choice>1</choice>", "<choice>1</choice><choice>2</choice>", "1"])
    assert out == [1.0, 0.0, 0.0]


def test_rows_come_from_the_genrm_parquet(pref_dir: Path) -> None:
    rows = load_rows(pref_dir, GenRMConfig())
    assert rows and {r["ground_truth"] for r in rows} == {"1", "2"}
    assert rows[0]["prompt"][0]["role"] == "system"
    with pytest.raises(TrainingError, match="under 10 prompt characters"):
        load_rows(pref_dir, GenRMConfig(max_prompt_chars=10))


def test_config_checks() -> None:
    with pytest.raises(TrainingError, match="num_generations"):
        GenRMConfig(num_generations=1).check()
    with pytest.raises(TrainingError, match="multiple"):
        GenRMConfig(per_device_batch_size=3, num_generations=2).check()


def test_one_grpo_step_on_a_tiny_model_saves_a_loadable_judge(
    pref_dir: Path, tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    from toolrm_agent.judges.loader import load_judge

    config = GenRMConfig(base_model=str(tiny_qwen_dir), max_steps=1, per_device_batch_size=2,
                         num_generations=2, max_completion_length=8, max_rows=4, max_prompt_chars=100000)
    metrics = train_genrm(config, pref_dir, tmp_path / "genrm", echo=lambda _: None)
    assert metrics["steps"] == 1 and (tmp_path / "genrm" / "adapter" / "adapter_config.json").is_file()
    judge = load_judge(f"gen:{tmp_path / 'genrm'}")
    assert judge.name.startswith("gen:")
