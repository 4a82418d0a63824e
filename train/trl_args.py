"""The arguments every trl trainer of the wing takes alike (``RewardConfig``, ``SFTConfig``,
``GRPOConfig``): where it writes, how long and how fast it learns, and the settings all
runs share (no checkpoints, no gradient checkpointing, the CPU when there is no GPU)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TrainerSettings:
    """What every LoRA trl run of the wing sets alike: the base of the trainer configs
    (:class:`train.disc.config.RewardModelConfig`, :class:`train.gen.config.GenRMConfig`)."""

    lora_r: int = 16
    lora_alpha: int = 32
    per_device_batch_size: int = 4
    bf16: bool = False
    logging_steps: int = 10
    seed: int = 0
    report_to: list[str] = field(default_factory=list)


def trainer_args(config: TrainerSettings, output_dir: Path, *, max_steps: int, learning_rate: float) -> dict[str, Any]:
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
