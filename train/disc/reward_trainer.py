"""Bradley-Terry reward model with trl's ``RewardTrainer`` and a peft LoRA adapter.

The standard recipe, for a GPU (or a small base on a CPU): a sequence-classification
model with one label (a fresh scalar head on the base), LoRA on its layers, the loss
``-log sigmoid(r(chosen) - r(rejected))`` (+ reward centring). Every pair is rendered with
:func:`toolrm_agent.judges.trained.discriminative.format_for_reward` — the same text
:class:`~toolrm_agent.judges.trained.discriminative.DiscriminativeJudge` scores at inference —
through the base's chat template when it has one (Qwen, SmolLM2), as plain ``### role``
text when it has none (MiniLM and other encoders).

Bases: an offline model name (``default``, ``smollm2``: :func:`resolve_model`), ``minilm``
(the offline all-MiniLM-L6-v2), a local directory or a hub id (hub ids need network).

Output (``--out DIR``): ``adapter/`` (the LoRA adapter and the head), the merged model and
tokenizer at ``DIR`` itself (what ``--judge disc:DIR`` loads), and ``toolrm_reward.json``
(the config, the training loss, the held-out pairwise accuracy).

GPU recipe (same code path as the CPU tests)::

    toolrm train disc --method reward-trainer --data data/pref --base default --out runs/rm \\
        --bf16 --batch-size 16 --grad-accum 2 --epochs 2 --max-length 2048
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from toolrm_agent.core.errors import CheckpointError, TrainingError
from train.disc.config import RewardModelConfig
from train.pairs import TrainPair
from train.records import TrainRecord
from train.trl_args import trainer_args


def resolve_base(name: str) -> Path | str:
    """A base model name → a local directory (or a hub id, returned as is)."""
    from toolrm_agent.judges.relevance import DEFAULT_ENCODER, encoder_path
    from toolrm_agent.models import resolve_model
    from toolrm_agent.models.registry import lookup

    if name == DEFAULT_ENCODER:
        return encoder_path(name)
    if lookup(name) is not None:
        return Path(resolve_model(name))
    path = Path(name)
    if path.is_dir():
        return path
    if "/" in name and not path.exists():
        return name  # a hub id: loading it needs network
    raise CheckpointError(f"base model {name!r} is not an offline model, a directory or a hub id")


def pair_texts(
    pairs: Sequence[TrainPair], records: dict[str, TrainRecord], tokenizer: Any
) -> list[dict[str, str]]:
    """``{"chosen", "rejected"}`` texts, rendered as the judge renders them."""
    from toolrm_agent.judges.trained.discriminative import format_for_reward

    rows = []
    for p in pairs:
        ctx = records[p.record_id].context()
        rows.append(
            {
                "chosen": format_for_reward(ctx, p.chosen.proposal, tokenizer),
                "rejected": format_for_reward(ctx, p.rejected.proposal, tokenizer),
            }
        )
    return rows


def _split(pairs: Sequence[TrainPair], seed: int, share: float = 0.1) -> tuple[list[TrainPair], list[TrainPair]]:
    train: list[TrainPair] = []
    val: list[TrainPair] = []
    for p in pairs:
        (val if random.Random(f"{seed}|split|{p.record_id}").random() < share else train).append(p)
    return train, val


def pairwise_accuracy(model: Any, tokenizer: Any, rows: Sequence[dict[str, str]], max_length: int) -> float:
    """Share of rows whose chosen text gets the higher reward."""
    import torch

    if not rows:
        return float("nan")
    right = 0
    model.eval()
    add_special = not getattr(tokenizer, "chat_template", None)
    with torch.no_grad():
        for row in rows:
            batch = tokenizer([row["chosen"], row["rejected"]], return_tensors="pt", padding=True,
                              truncation=True, max_length=max_length, add_special_tokens=add_special)
            batch = {k: v.to(model.device) for k, v in batch.items()}
            logits = model(**batch).logits.float().reshape(-1)
            right += int(logits[0] > logits[1])
    return right / len(rows)


def train_reward_model(
    config: RewardModelConfig, data: Path, out: Path, *, echo: Callable[[str], None] = print
) -> dict[str, Any]:
    """Train, merge and save a LoRA reward model; its metrics (see the module docstring)."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig, TaskType
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    from train.disc.cached import load_data

    config.check()
    records, pairs = load_data(data)
    if config.max_pairs is not None and len(pairs) > config.max_pairs:
        pairs = random.Random(f"{config.seed}|max_pairs").sample(pairs, config.max_pairs)
    train_pairs, val_pairs = _split(pairs, config.seed)
    if not train_pairs:
        raise TrainingError(f"no training pairs in {data}")
    base = resolve_base(config.base_model)
    tok = AutoTokenizer.from_pretrained(base)
    if tok.eos_token is None:  # encoders (BERT, MiniLM) end a text with [SEP]
        tok.eos_token = tok.sep_token or tok.pad_token
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.truncation_side = "left"  # the proposal is at the end: keep it
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1, dtype=torch.float32)
    model.config.pad_token_id = tok.pad_token_id
    lora = LoraConfig(
        task_type=TaskType.SEQ_CLS,
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules) if config.target_modules else "all-linear",
    )
    train_rows = pair_texts(train_pairs, records, tok)
    val_rows = pair_texts(val_pairs, records, tok)
    args = RewardConfig(
        **trainer_args(config, out / "trainer", max_steps=config.max_steps, learning_rate=config.learning_rate),
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        num_train_epochs=config.epochs,
        max_length=config.max_length,
        center_rewards_coefficient=config.center_rewards_coefficient,
        dataloader_pin_memory=False,
    )
    start = time.perf_counter()
    trainer = RewardTrainer(
        model=model, args=args, train_dataset=Dataset.from_list(train_rows),
        processing_class=tok, peft_config=lora,
    )
    result = trainer.train()
    seconds = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    peft_model: Any = trainer.model  # a PeftModel (peft_config given); trl types it PreTrainedModel | Module | None
    peft_model.save_pretrained(out / "adapter")
    merged = peft_model.merge_and_unload()
    merged.save_pretrained(out)
    tok.save_pretrained(out)
    metrics = {
        "train_loss": float(result.training_loss),
        "train_pairs": len(train_rows),
        "val_pairs": len(val_rows),
        "val_accuracy": round(pairwise_accuracy(merged, tok, val_rows[:500], config.max_length), 4),
        "train_seconds": round(seconds, 1),
        "steps": int(result.global_step),
    }
    (out / "toolrm_reward.json").write_text(
        json.dumps({"config": asdict(config), "data": str(data), "metrics": metrics}, indent=2) + "\n"
    )
    echo(f"[reward-trainer] {out}: {metrics}")
    return metrics


__all__ = ["pair_texts", "pairwise_accuracy", "resolve_base", "train_reward_model"]
