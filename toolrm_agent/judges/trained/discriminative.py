"""A scalar reward model as judge: one number per proposal from a reward head.

Two checkpoint formats are read (:func:`reward_head_kind`):

* ``seq-cls``: a transformers sequence-classification model (``config.json``'s
  ``architectures`` end in ``ForSequenceClassification``), such as a Bradley-Terry critic
  trained on preference pairs. With one label the logit is the reward; with two labels
  the reward is the log-odds of label 1 (``logit[1] - logit[0]``).
* ``value-head``: a causal LM saved by TRL's ``AutoModelForCausalLMWithValueHead``
  (``architectures`` end in ``ForCausalLM`` and the weights hold ``v_head.summary.weight``
  and ``.bias``): the reward is the value head on the last token's final hidden state.

By default the model reads the conversation, the offered tools and the proposal rendered
canonically (:meth:`Proposal.render`), all formatted by :func:`format_for_reward`; the
trainer (``toolrm train disc --method reward-trainer``, :mod:`train.disc.reward_trainer`)
renders its pairs with the same function, so what the model learned on is exactly what it
is shown here. A checkpoint trained on another format reads that format from the
``[disc]`` table of a user's template file (``templates=<path>``,
:mod:`toolrm_agent.judges.generative.template_file`), rendered through the tokenizer's chat
template. (The CPU critic of ``toolrm train disc --method cached`` is a different judge:
:mod:`toolrm_agent.judges.trained.trained`.)

``score = sigmoid(reward)`` in [0, 1]; a proposal is accepted when ``score >= threshold``.
``compare`` prefers the higher score (a tie is ``choice=None``) and ``rank`` sorts by
score; both score their proposals in one batch. The model is loaded lazily on first use,
on the CPU by default, and inference runs under ``torch.no_grad``.

torch and transformers are imported inside the functions, never at module import.
"""

from __future__ import annotations

import json
import math
import os
import struct
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.errors import CheckpointError, ConfigurationError
from toolrm_agent.core.verdicts import (
    Critique,
)
from toolrm_agent.judges.base import BatchJudge
from toolrm_agent.judges.generative.template_file import resolve_templates
from toolrm_agent.judges.generative.templates import JudgeTemplates, RewardTemplate, reward_template_messages

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


def format_for_reward(
    context: JudgeContext,
    proposal: Proposal,
    tokenizer: Any = None,
    *,
    template: RewardTemplate | None = None,
) -> str:
    """The exact text a reward model scores for ``proposal`` in ``context``.

    The messages are :func:`reward_messages`, or with ``template`` (a user's ``[disc]``
    table) :func:`toolrm_agent.judges.generative.templates.reward_template_messages`. With a tokenizer that
    has a chat template, they are rendered through it (no generation prompt: the proposal
    is the final assistant message); otherwise a plain format with ``### <role>`` headers.
    Training and inference both call this.
    """
    if template is None:
        messages = reward_messages(context, proposal)
    else:
        messages = reward_template_messages(context, proposal, template)
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        text: str = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
        return text
    return "\n\n".join(f"### {m['role']}\n{m['content']}" for m in messages) + "\n"


HeadKind = Literal["seq-cls", "value-head"]

VALUE_HEAD_WEIGHT = "v_head.summary.weight"
VALUE_HEAD_BIAS = "v_head.summary.bias"


def check_reward_config(checkpoint: str | Path) -> HeadKind:
    """Cheap checks of a reward-model directory, without loading it (see
    :func:`reward_head_kind`); its head kind. Raises
    :class:`~toolrm_agent.core.errors.CheckpointError`."""
    return reward_head_kind(checkpoint)


def reward_head_kind(checkpoint: str | Path) -> HeadKind:
    """Which reward head a checkpoint directory has, read from its ``config.json`` and the
    headers of its weight files (no weights are loaded):

    * ``"seq-cls"``: ``architectures`` end in ``ForSequenceClassification`` (or are not
      listed, or there is no ``config.json``: an adapter directory, whose base model
      decides when loaded), with one or two labels;
    * ``"value-head"``: ``architectures`` end in ``ForCausalLM`` and a weight file holds
      :data:`VALUE_HEAD_WEIGHT` (TRL's ``AutoModelForCausalLMWithValueHead``).

    Anything else raises :class:`~toolrm_agent.core.errors.CheckpointError`: a causal LM without
    a value head (a generative model: ``gen:<dir>``), more than two labels, an
    architecture that is neither.
    """
    path = Path(checkpoint)
    if not path.is_dir():
        raise CheckpointError(f"reward model checkpoint {str(path)!r} is not a directory")
    config = path / "config.json"
    if not config.is_file():
        return "seq-cls"  # an adapter directory: its base model decides, checked when loaded
    try:
        data = json.loads(config.read_text())
        labels = data.get("id2label")
        architectures = [str(a) for a in data.get("architectures") or []]
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise CheckpointError(f"{config} is not a readable model config: {exc}") from exc
    if any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures):
        if _value_head_file(path) is None:
            raise CheckpointError(
                f"{path} is a causal LM ({architectures[0]}) without a value head "
                f"({VALUE_HEAD_WEIGHT} in its weights): not a reward model. A generative "
                f"judge is gen:{path}"
            )
        return "value-head"
    if architectures and not any(a.endswith("ForSequenceClassification") for a in architectures):
        raise CheckpointError(
            f"{path} is a {architectures[0]}: a reward model is a *ForSequenceClassification "
            "checkpoint or a *ForCausalLM with a TRL value head"
        )
    if isinstance(labels, dict) and len(labels) not in (1, 2):
        raise CheckpointError(
            f"{path} has num_labels={len(labels)}; a reward model has one label (the reward) "
            "or two (the reward is the log-odds of label 1)"
        )
    return "seq-cls"


def _safetensors_keys(file: Path) -> set[str]:
    """The tensor names in a ``.safetensors`` file's header (8-byte length, then JSON)."""
    try:
        with file.open("rb") as fh:
            (size,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(min(size, 100_000_000)))
    except (OSError, ValueError, struct.error) as exc:
        raise CheckpointError(f"{file} is not a readable safetensors file: {exc}") from exc
    if not isinstance(header, dict):
        raise CheckpointError(f"{file} is not a readable safetensors file: its header is not a JSON object")
    return set(header) - {"__metadata__"}


def _value_head_file(path: Path) -> Path | None:
    """The weight file of ``path`` that holds :data:`VALUE_HEAD_WEIGHT`, if any. A
    ``pytorch_model.bin`` cannot be read without torch: it is taken on trust here and
    checked when the model is loaded."""
    for index in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        if (path / index).is_file():
            try:
                weight_map = json.loads((path / index).read_text()).get("weight_map") or {}
            except (OSError, ValueError, AttributeError) as exc:
                raise CheckpointError(f"{path / index} is not a readable weight index: {exc}") from exc
            name = weight_map.get(VALUE_HEAD_WEIGHT)
            return path / name if isinstance(name, str) else None
    single = path / "model.safetensors"
    if single.is_file():
        return single if VALUE_HEAD_WEIGHT in _safetensors_keys(single) else None
    binary = path / "pytorch_model.bin"
    return binary if binary.is_file() else None


def _load_value_head(path: Path) -> tuple[Any, Any]:
    """The value head's (weight, bias) tensors, read from the one file that holds them."""
    import torch

    file = _value_head_file(path)
    if file is None:
        raise CheckpointError(f"{path}: no {VALUE_HEAD_WEIGHT} in its weights")
    try:
        if file.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(file), framework="pt") as fh:
                keys = set(fh.keys())
                tensors = {k: fh.get_tensor(k) for k in (VALUE_HEAD_WEIGHT, VALUE_HEAD_BIAS) if k in keys}
        else:
            state = torch.load(file, map_location="cpu", weights_only=True, mmap=True)
            tensors = {k: state[k] for k in (VALUE_HEAD_WEIGHT, VALUE_HEAD_BIAS) if k in state}
    except (OSError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{file}: the value head cannot be read ({exc})") from exc
    if VALUE_HEAD_WEIGHT not in tensors:
        raise CheckpointError(f"{file} holds no {VALUE_HEAD_WEIGHT}: not a value-head reward model")
    weight = tensors[VALUE_HEAD_WEIGHT].float()
    bias = tensors.get(VALUE_HEAD_BIAS)
    return weight.reshape(1, -1), (bias.float().reshape(1) if bias is not None else torch.zeros(1))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


_DTYPES = ("float32", "bfloat16", "float16")


class DiscriminativeJudge(BatchJudge):
    """A reward model (a sequence-classification head or a TRL value head; see the module
    docstring) as a pointwise judge.

    Args:
        checkpoint: a local directory with the model and its tokenizer.
        threshold: accept a proposal when ``sigmoid(reward) >= threshold``.
        batch_size: proposals scored per forward pass.
        max_length: longer inputs are cut from the left, so the proposal is always kept.
        device: torch device (``"cpu"`` by default).
        name: the judge's name in verdicts (default ``disc:<checkpoint>``).
        templates: a template file path (or :class:`~toolrm_agent.judges.generative.templates.JudgeTemplates`)
            whose ``[disc]`` table is the model's input format; ``None``: our own
            (:func:`format_for_reward`). A file without ``[disc]`` raises
            :class:`~toolrm_agent.core.errors.ConfigurationError`.
        dtype: the weights' torch dtype: ``"float32"`` (default), ``"bfloat16"`` or
            ``"float16"`` (for a GPU); rewards are read as float32 either way.

    The model is loaded at the first call, or by :meth:`check` (call it at startup: a
    missing or broken checkpoint then raises :class:`~toolrm_agent.core.errors.CheckpointError`
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
        templates: JudgeTemplates | str | os.PathLike[str] | None = None,
        dtype: str = "float32",
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ConfigurationError(f"threshold must be in [0, 1], got {threshold}")
        if batch_size < 1:
            raise ConfigurationError(f"batch_size must be >= 1, got {batch_size}")
        if dtype not in _DTYPES:
            raise ConfigurationError(f"dtype must be one of {_DTYPES}, not {dtype!r}")
        self.template: RewardTemplate | None = None
        if templates is not None:
            resolved = resolve_templates(templates)
            if resolved.reward is None:
                raise ConfigurationError(
                    f"templates {resolved.source or '(given)'} have no [disc] table: a reward "
                    "model reads its input from [disc] (system, user, assistant)"
                )
            self.template = resolved.reward
        self.dtype = dtype
        self.checkpoint = Path(checkpoint)
        self.threshold = threshold
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.name = name or f"disc:{checkpoint}"
        self._model: Any = None
        self._tokenizer: Any = None
        self._head: Any = None  # a value head's torch Linear; None for a seq-cls model
        self._lock = threading.Lock()

    # -- loading -----------------------------------------------------------------------

    def check(self) -> None:
        """Load the model now (it is loaded lazily otherwise), so a missing or broken
        checkpoint fails at startup: :class:`~toolrm_agent.core.errors.CheckpointError`."""
        self._load()

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                kind = check_reward_config(self.checkpoint)
                import torch
                from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(self.checkpoint)
                dtype = getattr(torch, self.dtype)
                if kind == "value-head":
                    # the backbone (no LM head: its logits are never read) and the head
                    model = AutoModel.from_pretrained(self.checkpoint, dtype=dtype)
                    weight, bias = _load_value_head(self.checkpoint)
                    if weight.shape[1] != model.config.hidden_size:
                        raise CheckpointError(
                            f"{self.checkpoint}: the value head reads {weight.shape[1]} features, "
                            f"the model's hidden size is {model.config.hidden_size}"
                        )
                    head = torch.nn.Linear(weight.shape[1], 1)
                    with torch.no_grad():
                        head.weight.copy_(weight)
                        head.bias.copy_(bias)
                    self._head = head.to(self.device).eval()
                else:
                    model = AutoModelForSequenceClassification.from_pretrained(self.checkpoint, dtype=dtype)
                    if model.config.num_labels not in (1, 2):
                        raise CheckpointError(
                            f"{self.checkpoint} has num_labels={model.config.num_labels}; a reward "
                            "model has one label or two"
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
        """Rewards for (context, proposal) items, batched (the logit, the log-odds of label 1
        or the value head's output; see the module docstring); and the input tokens read."""
        import torch

        model, tokenizer = self._load()
        texts = [format_for_reward(ctx, prop, tokenizer, template=self.template) for ctx, prop in items]
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
                rewards = self._rewards(model, batch)
                by_text.update(zip(chunk, (float(x) for x in rewards.tolist()), strict=True))
        return [by_text[t] for t in texts], n_tokens

    def _rewards(self, model: Any, batch: Any) -> Any:
        """One float32 reward per row of ``batch`` (right-padded)."""
        import torch

        if self._head is not None:  # the value head on the last real token's hidden state
            hidden = model(**batch).last_hidden_state
            last = batch["attention_mask"].sum(dim=1) - 1
            rows = hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
            return self._head(rows.float()).reshape(-1)
        logits = model(**batch).logits.float()
        if logits.shape[-1] == 2:  # log-odds of label 1
            return logits[:, 1] - logits[:, 0]
        return logits.reshape(-1)

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
        return self._scored_critique(
            proposal, accepted=accepted, score=score, text=text, input_tokens=tokens, seconds=seconds,
            reason=text or "low reward",
        )



__all__ = ["DiscriminativeJudge", "format_for_reward", "reward_head_kind", "reward_messages"]
