"""GRPO for a generative pairwise judge, with the verifiable reward of ToolRM.

Data: ``genrm.parquet`` of ``toolrm data build`` — the runtime's own pairwise prompt
(:func:`toolrm_agent.judges.generative.templates.pairwise_messages`) in both orders, with
``reward_model.ground_truth`` = the position of the better answer. Rewards:

* :func:`choice_reward` — 1.0 when the completion's ``<choice>`` (parsed by the runtime's
  :func:`~toolrm_agent.judges.generative.answers.parse_choice`) equals the label, else 0.0;
* :func:`format_reward` — ``format_reward`` (0.1 by default) when the completion holds
  exactly one ``<choice>N</choice>`` tag, else 0.

An optional SFT warm-up (``sft_warmup_steps``) first teaches the answer format on
``<choice>label</choice>`` targets. Training uses LoRA (peft); the adapter is merged and the
full model saved, so ``--judge gen:DIR`` loads it like any local model.

GPU recipe (same code path)::

    toolrm train gen --data data/pref --base default --out runs/genrm --use-vllm --bf16 \\
        --batch-size 32 --num-generations 8 --max-steps 2000 --max-completion-length 512
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from toolrm_agent.core.errors import TrainingError
from toolrm_agent.judges.generative.answers import parse_choice
from train.gen.config import GenRMConfig
from train.trl_args import trainer_args

_TAG = re.compile(r"<choice>\s*[12]\s*</choice>", re.IGNORECASE)


def _text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content") or "")
    return str(completion)


def choice_reward(completions: Sequence[Any], ground_truth: Sequence[str], **_: Any) -> list[float]:
    """1.0 where the parsed choice equals the label."""
    out = []
    for completion, label in zip(completions, ground_truth, strict=True):
        choice = parse_choice(_text(completion))
        out.append(1.0 if choice is not None and str(choice) == str(label) else 0.0)
    return out


def format_reward(completions: Sequence[Any], **_: Any) -> list[float]:
    """1.0 when there is exactly one ``<choice>N</choice>`` tag (weighted in the trainer)."""
    return [1.0 if len(_TAG.findall(_text(c))) == 1 else 0.0 for c in completions]


def load_rows(data: Path, config: GenRMConfig) -> list[dict[str, Any]]:
    from datasets import Dataset

    path = data / "genrm.parquet"
    if not path.is_file():
        raise TrainingError(f"{data} has no genrm.parquet: build it with `toolrm data build --out {data}`")
    rows = []
    for row in Dataset.from_parquet(str(path)):
        prompt = row["prompt"]
        if sum(len(m["content"]) for m in prompt) > config.max_prompt_chars:
            continue
        rows.append({"prompt": prompt, "ground_truth": str(row["reward_model"]["ground_truth"])})
    if config.max_rows is not None:
        rows = rows[: config.max_rows]
    if not rows:
        raise TrainingError(f"no GenRM rows under {config.max_prompt_chars} prompt characters in {path}")
    return rows


def _sft_warmup(model_dir: Path | str, rows: list[dict[str, Any]], config: GenRMConfig, out: Path) -> Path | str:
    """A few SFT steps on ``<choice>label</choice>``; the merged model's directory."""
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    data = Dataset.from_list([
        {
            "prompt": r["prompt"],
            "completion": [{"role": "assistant", "content": f"<choice>{r['ground_truth']}</choice>"}],
        }
        for r in rows
    ])
    args = SFTConfig(**trainer_args(config, out / "sft", max_steps=config.sft_warmup_steps, learning_rate=1e-4))
    trainer = SFTTrainer(model=str(model_dir), args=args, train_dataset=data,
                         peft_config=LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha,
                                                target_modules="all-linear", task_type="CAUSAL_LM"))
    trainer.train()
    # a PeftModel (peft_config given) and its tokenizer; trl types them as unions with None
    peft_model: Any = trainer.model
    processing: Any = trainer.processing_class
    merged = peft_model.merge_and_unload()
    path = out / "sft-merged"
    merged.save_pretrained(path)
    processing.save_pretrained(path)
    return path


def train_genrm(config: GenRMConfig, data: Path, out: Path, *, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """GRPO-train a pairwise judge; its metrics (see the module docstring)."""
    from datasets import Dataset
    from peft import LoraConfig
    from trl import GRPOConfig, GRPOTrainer

    from train.disc.reward_trainer import resolve_base

    config.check()
    rows = load_rows(data, config)
    base: Path | str = resolve_base(config.base_model)
    start = time.perf_counter()
    if config.sft_warmup_steps > 0:
        base = _sft_warmup(base, rows, config, out)
    args = GRPOConfig(
        **trainer_args(config, out / "trainer", max_steps=config.max_steps, learning_rate=config.learning_rate),
        num_generations=config.num_generations,
        max_completion_length=config.max_completion_length,
        temperature=config.temperature,
        beta=config.beta,
        reward_weights=[1.0, config.format_reward],
        use_vllm=config.use_vllm,
    )
    # trl asks for Callable[..., list[float | None]]: a list[float] one is fine, but lists are invariant
    reward_funcs: list[Any] = [choice_reward, format_reward]
    trainer = GRPOTrainer(
        model=str(base),
        reward_funcs=reward_funcs,
        args=args,
        train_dataset=Dataset.from_list(rows),
        peft_config=LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha,
                               target_modules="all-linear", task_type="CAUSAL_LM"),
    )
    result = trainer.train()
    out.mkdir(parents=True, exist_ok=True)
    # a PeftModel (peft_config given) and its tokenizer; trl types them as unions with None
    peft_model: Any = trainer.model
    processing: Any = trainer.processing_class
    peft_model.save_pretrained(out / "adapter")
    merged = peft_model.merge_and_unload()
    merged.save_pretrained(out)
    processing.save_pretrained(out)
    history = [h for h in trainer.state.log_history if "reward" in h]
    metrics = {
        "steps": int(result.global_step),
        "train_loss": float(result.training_loss),
        "rows": len(rows),
        "reward_first": history[0].get("reward") if history else None,
        "reward_last": history[-1].get("reward") if history else None,
        "choice_reward_by_log": [h.get("rewards/choice_reward/mean") for h in history],
        "format_reward_by_log": [h.get("rewards/format_reward/mean") for h in history],
        "seconds": round(time.perf_counter() - start, 1),
    }
    (out / "toolrm_genrm.json").write_text(
        json.dumps({"config": asdict(config), "data": str(data), "metrics": metrics}, indent=2) + "\n"
    )
    echo(f"[grpo] {out}: {metrics}")
    return metrics


__all__ = ["choice_reward", "format_reward", "load_rows", "train_genrm"]
