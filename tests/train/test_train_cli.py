"""``toolrm train``: the config dataclass of each trainer is the one source of defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from train.cli import app
from train.disc.config import CachedCriticConfig, RewardModelConfig
from train.gen.config import GenRMConfig


def _capture(monkeypatch: pytest.MonkeyPatch, module: str, name: str) -> list[Any]:
    import importlib

    seen: list[Any] = []
    monkeypatch.setattr(importlib.import_module(module), name, lambda config, *a, **k: seen.append(config))
    return seen


def test_reward_trainer_defaults_are_its_config_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen = _capture(monkeypatch, "train.disc.reward_trainer", "train_reward_model")
    result = CliRunner().invoke(app, ["disc", "--method", "reward-trainer", "--data", str(tmp_path),
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert seen == [RewardModelConfig()]  # 1 epoch, not the cached trainer's 40
    CliRunner().invoke(app, ["disc", "--method", "reward-trainer", "--data", str(tmp_path), "--out",
                             str(tmp_path / "o"), "--epochs", "2", "--lr", "0.5"])
    assert (seen[1].epochs, seen[1].learning_rate, seen[1].max_steps) == (2.0, 0.5, RewardModelConfig.max_steps)


def test_cached_and_gen_defaults_are_their_config_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cached = _capture(monkeypatch, "train.disc.cached", "train_cached")
    gen = _capture(monkeypatch, "train.gen.grpo", "train_genrm")
    runner = CliRunner()
    assert runner.invoke(app, ["disc", "--data", str(tmp_path), "--out", str(tmp_path / "o")]).exit_code == 0
    assert cached == [CachedCriticConfig()]
    runner.invoke(app, ["disc", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--base", "none",
                        "--inputs", "features,relevance", "--epochs", "5"])
    assert (cached[1].base_model, cached[1].inputs, cached[1].epochs) == (None, ("features", "relevance"), 5)
    assert runner.invoke(app, ["gen", "--data", str(tmp_path), "--out", str(tmp_path / "o")]).exit_code == 0
    assert gen == [GenRMConfig()]
