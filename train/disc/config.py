"""One config dataclass per discriminative trainer: every hyperparameter in one place (the
reward trainer's run settings in its base, :class:`train.trl_args.TrainerSettings`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from toolrm_agent.core.errors import TrainingError
from train.trl_args import TrainerSettings


@dataclass(frozen=True)
class CachedCriticConfig:
    """The cached-trunk critic (:mod:`train.disc.cached`)."""

    base_model: str | None = None
    """Frozen LM whose readings are cached (``default`` = offline Qwen2.5-Coder-0.5B);
    ``None`` (the default: the recipe of ``disc:default``, minutes on CPU) reads no LM."""
    encoder: str = "minilm"
    lm_tools: Literal["all", "called"] = "called"
    """Which tools the LM reading's prefix lists: only those the proposal calls (cheap:
    what a value's rightness depends on), or all offered tools."""
    lm_tags: Literal["read", "skip"] = "read"
    """Whether the LM statistics count the rendering's tag tokens (``<tool_call>``, ``</tool_call>``,
    the end-of-turn token), or only the proposal's own text (``skip``)."""
    read_workers: int = 1
    """Processes that read the LM at once (one torch thread each)."""
    read_limit: int | None = None
    """Read the LM over at most this many records (the fit uses the pairs of those read)."""
    inputs: tuple[str, ...] = ("features", "relevance")
    """Which inputs the head reads: any of features, relevance, lm_stats, lm_verify, hidden
    (``lm_verify``: the verifier's yes/no log-odds, one more LM pass per record)."""
    hidden: Literal["mean", "last", "both"] = "mean"
    hidden_proj: int = 32
    """Width of the learned projection of the LM hidden state."""
    width: int = 64
    """Hidden units of the head's MLP."""
    epochs: int = 40
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 1e-3
    dropout: float = 0.1
    val_share: float = 0.1
    """Share of the records held out (by record) for validation and the threshold."""
    seed: int = 0
    threads: int | None = None

    def check(self) -> None:
        known = {"features", "relevance", "lm_stats", "lm_verify", "hidden"}
        bad = set(self.inputs) - known
        if bad or not self.inputs:
            raise TrainingError(f"inputs must be a non-empty subset of {sorted(known)}, got {self.inputs}")
        if {"lm_stats", "lm_verify", "hidden"} & set(self.inputs) and self.base_model is None:
            raise TrainingError(
                "lm_stats / lm_verify / hidden inputs need a base_model (--base default); without one (--base none) "
                "use --inputs features,relevance"
            )
        if self.read_limit is not None and self.read_limit < 1:
            raise TrainingError(f"read_limit must be >= 1 (or None), got {self.read_limit}")
        if self.read_workers < 1:
            raise TrainingError(f"read_workers must be >= 1, got {self.read_workers}")
        if self.lm_tools not in ("all", "called"):
            raise TrainingError(f"lm_tools must be 'all' or 'called', got {self.lm_tools!r}")
        if self.lm_tags not in ("read", "skip"):
            raise TrainingError(f"lm_tags must be 'read' or 'skip', got {self.lm_tags!r}")
        if not 0.0 < self.val_share < 0.5:
            raise TrainingError(f"val_share must be in (0, 0.5), got {self.val_share}")
        if self.epochs < 0 or self.batch_size < 1 or self.width < 1:
            raise TrainingError("epochs >= 0, batch_size >= 1 and width >= 1 are required")


@dataclass(frozen=True)
class RewardModelConfig(TrainerSettings):
    """trl ``RewardTrainer`` + peft LoRA on a sequence-classification head."""

    base_model: str = "default"
    """An offline model name (``default``, ``smollm2``), ``minilm``, a local dir or a hub id."""
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] | None = None
    """None: peft's defaults for the architecture (all linear layers for unknown ones)."""
    learning_rate: float = 1e-4
    epochs: float = 1.0
    max_steps: int = -1
    gradient_accumulation_steps: int = 4
    max_length: int = 1024
    center_rewards_coefficient: float | None = 0.01
    max_pairs: int | None = None
    """Train on at most this many pairs (seeded draw)."""

    def check(self) -> None:
        if self.lora_r < 1:
            raise TrainingError(f"lora_r must be >= 1, got {self.lora_r}")
        if self.max_length < 16:
            raise TrainingError(f"max_length must be >= 16, got {self.max_length}")
