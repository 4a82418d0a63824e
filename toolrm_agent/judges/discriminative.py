"""A scalar reward model as judge: one number per proposal from a classification head.

The checkpoint is any transformers sequence-classification model with one label
(``num_labels=1``), such as a Bradley-Terry critic trained on preference pairs. It reads
the conversation, the offered tools and the proposal rendered canonically
(:meth:`Proposal.render`), all formatted by :func:`format_for_reward`; the trainer
(``toolrm train disc --method reward-trainer``, :mod:`train.disc.reward_trainer`) renders
its pairs with the same function, so what the model learned on is exactly what it is
shown here. (The CPU critic of ``toolrm train disc --method cached`` is a different
judge: :mod:`toolrm_agent.judges.trained`.)

``score = sigmoid(logit)`` in [0, 1]; a proposal is accepted when ``score >= threshold``.
``compare`` prefers the higher score (a tie is ``choice=None``) and ``rank`` sorts by
score; both score their proposals in one batch. The model is loaded lazily on first use,
on the CPU by default, and inference runs under ``torch.no_grad``.

torch and transformers are imported inside the functions, never at module import.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from toolrm_agent.calls import Proposal
from toolrm_agent.context import JudgeContext
from toolrm_agent.errors import CheckpointError, ConfigurationError
from toolrm_agent.judges.base import BatchJudge
from toolrm_agent.verdicts import (
    CallVerdict,
    Critique,
    Issue,
    IssueCode,
    TokenUsage,
)

TOOLS_HEADER = "The assistant may call these functions:"


def reward_messages(context: JudgeContext, proposal: Proposal) -> list[dict[str, str]]:
    """The conversation a reward model reads, as ``{"role", "content"}`` messages.

    One system message lists the tools (one JSON object per line inside ``<tools>``),
    followed by any system text of the conversation; user and assistant turns follow
    (earlier assistant calls rendered canonically, tool results as ``<tool_response>``
    user turns, which every chat template accepts); the last message is the assistant's
    proposal, ``proposal.render()``. This is also the conversational form a trainer such
    as trl's ``RewardTrainer`` takes.
    """
    system_parts: list[str] = []
    if context.tools:
        tools = "\n".join(
            json.dumps(spec.to_openai(), ensure_ascii=False, sort_keys=True)
            for spec in context.tools
        )
        system_parts.append(f"{TOOLS_HEADER}\n<tools>\n{tools}\n</tools>")
    messages: list[dict[str, str]] = []
    for turn in context.turns:
        if turn.role == "system":
            if turn.content:
                system_parts.append(turn.content)
        elif turn.role == "tool":
            messages.append(
                {"role": "user", "content": f"<tool_response>\n{turn.content}\n</tool_response>"}
            )
        elif turn.role == "assistant":
            text = turn.content
            if turn.tool_calls:
                rendered = Proposal(calls=turn.tool_calls).render()
                text = f"{text}\n{rendered}" if text else rendered
            messages.append({"role": "assistant", "content": text})
        else:
            messages.append({"role": "user", "content": turn.content})
    if system_parts:
        messages.insert(0, {"role": "system", "content": "\n\n".join(system_parts)})
    messages.append({"role": "assistant", "content": proposal.render()})
    return messages


def format_for_reward(context: JudgeContext, proposal: Proposal, tokenizer: Any = None) -> str:
    """The exact text a reward model scores for ``proposal`` in ``context``.

    With a tokenizer that has a chat template, :func:`reward_messages` rendered through
    it (no generation prompt: the proposal is the final assistant message). Otherwise a
    plain format with ``### <role>`` headers. Training and inference both call this.
    """
    messages = reward_messages(context, proposal)
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        text: str = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
        return text
    return "\n\n".join(f"### {m['role']}\n{m['content']}" for m in messages) + "\n"


def check_reward_config(checkpoint: str | Path) -> None:
    """Cheap checks of a reward-model directory, without loading it: it exists, and a
    ``config.json`` that lists its labels lists exactly one. Raises
    :class:`~toolrm_agent.errors.CheckpointError`."""
    path = Path(checkpoint)
    if not path.is_dir():
        raise CheckpointError(f"reward model checkpoint {str(path)!r} is not a directory")
    config = path / "config.json"
    if not config.is_file():
        return  # an adapter directory: its base model decides, checked when loaded
    try:
        labels = json.loads(config.read_text()).get("id2label")
    except (OSError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{config} is not a readable model config: {exc}") from exc
    if isinstance(labels, dict) and len(labels) != 1:
        raise CheckpointError(
            f"{path} has num_labels={len(labels)}; a reward model has exactly one label"
        )


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


class DiscriminativeJudge(BatchJudge):
    """A sequence-classification reward model (one logit) as a pointwise judge.

    Args:
        checkpoint: a local directory with the model and its tokenizer.
        threshold: accept a proposal when ``sigmoid(logit) >= threshold``.
        batch_size: proposals scored per forward pass.
        max_length: longer inputs are cut from the left, so the proposal is always kept.
        device: torch device (``"cpu"`` by default).
        name: the judge's name in verdicts (default ``disc:<checkpoint>``).

    The model is loaded at the first call, or by :meth:`check` (call it at startup: a
    missing or broken checkpoint then raises :class:`~toolrm_agent.errors.CheckpointError`
    instead of failing every judge call); ``load_judge("disc:<dir>")`` checks the
    directory and its label count when it builds the judge.
    """

    def __init__(
        self,
        checkpoint: str | Path,
        *,
        threshold: float = 0.5,
        batch_size: int = 8,
        max_length: int = 4096,
        device: str = "cpu",
        name: str | None = None,
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ConfigurationError(f"threshold must be in [0, 1], got {threshold}")
        if batch_size < 1:
            raise ConfigurationError(f"batch_size must be >= 1, got {batch_size}")
        self.checkpoint = Path(checkpoint)
        self.threshold = threshold
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.name = name or f"disc:{checkpoint}"
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    # -- loading -----------------------------------------------------------------------

    def check(self) -> None:
        """Load the model now (it is loaded lazily otherwise), so a missing or broken
        checkpoint fails at startup: :class:`~toolrm_agent.errors.CheckpointError`."""
        self._load()

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                check_reward_config(self.checkpoint)
                import torch
                from transformers import AutoModelForSequenceClassification, AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(self.checkpoint)
                model = AutoModelForSequenceClassification.from_pretrained(
                    self.checkpoint, dtype=torch.float32
                )
                if model.config.num_labels != 1:
                    raise CheckpointError(
                        f"{self.checkpoint} has num_labels={model.config.num_labels}; "
                        "a reward model has exactly one label"
                    )
                if tokenizer.pad_token_id is None:
                    tokenizer.pad_token = tokenizer.eos_token
                if model.config.pad_token_id is None:
                    model.config.pad_token_id = tokenizer.pad_token_id
                tokenizer.truncation_side = "left"
                tokenizer.padding_side = "right"
                model.to(self.device).eval()
                self._tokenizer, self._model = tokenizer, model
        return self._model, self._tokenizer

    # -- scoring -----------------------------------------------------------------------

    def logits(self, items: Sequence[tuple[JudgeContext, Proposal]]) -> tuple[list[float], int]:
        """Raw logits for (context, proposal) items, batched; and the input tokens read."""
        import torch

        model, tokenizer = self._load()
        texts = [format_for_reward(ctx, prop, tokenizer) for ctx, prop in items]
        # identical inputs are scored once, so they tie exactly (batch position would
        # otherwise move the last float digits)
        unique = list(dict.fromkeys(texts))
        add_special = not getattr(tokenizer, "chat_template", None)
        by_text: dict[str, float] = {}
        n_tokens = 0
        with self._lock, torch.no_grad():
            for start in range(0, len(unique), self.batch_size):
                chunk = unique[start : start + self.batch_size]
                batch = tokenizer(
                    chunk,
                    return_tensors="pt",
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    add_special_tokens=add_special,
                ).to(self.device)
                n_tokens += int(batch["attention_mask"].sum())
                logits = model(**batch).logits.float().reshape(-1)
                by_text.update(zip(chunk, (float(x) for x in logits.tolist()), strict=True))
        return [by_text[t] for t in texts], n_tokens

    def critique_many(self, context: JudgeContext, proposals: Sequence[Proposal]) -> list[Critique]:
        """One critique per proposal, scored in batches."""
        if not proposals:
            return []
        start = time.perf_counter()
        logits, n_tokens = self.logits([(context, p) for p in proposals])
        seconds = (time.perf_counter() - start) / len(proposals)
        per_item_tokens = n_tokens // len(proposals)
        return [
            self._critique(p, _sigmoid(x), per_item_tokens, seconds)
            for p, x in zip(proposals, logits, strict=True)
        ]

    def _critique(self, proposal: Proposal, score: float, tokens: int, seconds: float) -> Critique:
        accepted = score >= self.threshold
        text = (
            ""
            if accepted
            else f"The reward model scored this proposal {score:.2f}, below the threshold "
            f"{self.threshold:.2f}. Check that the function fits the request and that every "
            "argument value comes from the conversation."
        )
        issues = (
            ()
            if accepted
            else (Issue(code=IssueCode.JUDGE_REJECTED, message=text or "low reward"),)
        )
        calls = tuple(
            CallVerdict(tool_call_id=i, ok=accepted, score=score, issues=issues)
            for i in proposal.ids
        )
        return Critique(
            accepted=accepted,
            score=score,
            text=text,
            judge=self.name,
            calls=calls,
            usage=TokenUsage(input_tokens=tokens),
            latency_s=seconds,
        )



__all__ = ["DiscriminativeJudge", "format_for_reward", "reward_messages"]
