"""The arguments every trl trainer of the wing takes alike (``RewardConfig``, ``SFTConfig``,
``GRPOConfig``): where it writes, how long and how fast it learns, and the settings all
runs share (no checkpoints, no gradient checkpointing, the CPU when there is no GPU)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class RunSettings(Protocol):
    """The fields of a trainer config (:class:`train.disc.config.RewardModelConfig`,
    :class:`train.gen.config.GenRMConfig`) that every trl run reads."""

    @property
    def per_device_batch_size(self) -> int: ...
    @property
    def logging_steps(self) -> int: ...
    @property
    def report_to(self) -> list[str]: ...
    @property
    def bf16(self) -> bool: ...
    @property
    def seed(self) -> int: ...


def trainer_args(config: RunSettings, output_dir: Path, *, max_steps: int, learning_rate: float) -> dict[str, Any]:
    """Keyword arguments for a trl ``*Config`` (``TrainingArguments``), the run-specific ones added by the caller."""
    import torch

    return {
        "output_dir": str(output_dir),
        "max_steps": max_steps,
        "learning_rate": learning_rate,
        "per_device_train_batch_size": config.per_device_batch_size,
        "logging_steps": config.logging_steps,
        "save_strategy": "no",
        "report_to": config.report_to,
        "bf16": config.bf16,
        "use_cpu": not torch.cuda.is_available(),
        "seed": config.seed,
        "gradient_checkpointing": False,
    }
