"""The GRPO trainer's config: every hyperparameter in one place (those every trl run sets alike
in its base, :class:`train.trl_args.TrainerSettings`)."""

from __future__ import annotations

from dataclasses import dataclass

from toolrm_agent.core.errors import TrainingError
from train.trl_args import TrainerSettings


@dataclass(frozen=True)
class GenRMConfig(TrainerSettings):
    """GRPO on the GenRM parquet (:mod:`train.gen.grpo`)."""

    base_model: str = "default"
    """An offline model name (``default``, ``smollm2``), a local dir or a hub id."""
    max_steps: int = 100
    learning_rate: float = 1e-5
    num_generations: int = 4
    """Completions per prompt (the GRPO group)."""
    max_completion_length: int = 32
    """The plain judge answers in a few tokens; raise it for a thinking judge."""
    max_prompt_chars: int = 6000
    """Prompts longer than this are dropped from training (CPU memory)."""
    temperature: float = 1.0
    beta: float = 0.0
    """KL coefficient (0: no reference model, as trl's default)."""
    format_reward: float = 0.1
    """Weight of the small format reward (exactly one ``<choice>`` tag)."""
    sft_warmup_steps: int = 0
    """SFT steps on ``<choice>label</choice>`` answers before GRPO (0: none)."""
    use_vllm: bool = False
    """Roll out with vLLM (a GPU and ``pip install vllm``)."""
    logging_steps: int = 5
    max_rows: int | None = None

    def check(self) -> None:
        if self.num_generations < 2:
            raise TrainingError("GRPO needs num_generations >= 2 (a group to compare)")
        if self.per_device_batch_size % self.num_generations:
            raise TrainingError(
                f"per_device_batch_size ({self.per_device_batch_size}) must be a multiple of "
                f"num_generations ({self.num_generations})"
            )
        if self.max_steps < 1:
            raise TrainingError(f"max_steps must be >= 1, got {self.max_steps}")
