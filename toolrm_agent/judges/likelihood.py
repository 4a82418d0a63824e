"""A zero-training baseline judge: how likely is the proposal under an instruct LM?

:class:`LikelihoodJudge` scores a proposal by the mean per-token log-probability of its
canonical rendering under a frozen causal LM, given the conversation and tools in the
model's own chat template (:class:`~toolrm_agent.judges.trained.lm_scoring.LMScorer`, one prefix
pass per context; ``cache_dir`` keeps the readings on disk, shared with the trained
critics that read the same model). ``score = exp(mean log-prob)``, the geometric-mean token probability, in
[0, 1]. It sees value and count mistakes the way the model's own preferences do, but it
cannot see irrelevance: "no call" is one unlikely-looking rendering among others.

``reading="verify"`` asks the model instead: after the proposal, a user turn asks whether
it is right for the request and the tools, and ``score = sigmoid(log P(yes) - log P(no))``
of the next token (:meth:`~toolrm_agent.judges.trained.lm_scoring.LMScorer.verify`; the same
cached prefix, one batched pass).

Spec: ``lik:default`` (the offline Qwen2.5-Coder-0.5B), ``lik:<model dir>``,
``lik:default?reading=verify``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.core.verdicts import (
    Critique,
)
from toolrm_agent.judges.base import BatchJudge

Reading = Literal["likelihood", "verify"]
READINGS: tuple[Reading, ...] = ("likelihood", "verify")


class LikelihoodJudge(BatchJudge):
    """Mean log-likelihood of the proposal under a frozen LM, or the LM's yes/no verdict on it
    (``reading``; see the module docstring)."""

    def __init__(self, model: str | Path = "default", *, threshold: float = 0.0,
                 cache_dir: str | Path | None = None, device: str = "cpu",
                 reading: Reading = "likelihood", name: str | None = None) -> None:
        from toolrm_agent.judges.trained.trained import CriticReader

        if not 0.0 <= threshold <= 1.0:
            raise ConfigurationError(f"threshold must be in [0, 1], got {threshold}")
        if reading not in READINGS:
            raise ConfigurationError(f"reading must be one of {', '.join(READINGS)}, got {reading!r}")
        self.threshold = threshold
        self.reading: Reading = reading
        self.name = name or f"lik:{model}"
        self.reader = CriticReader(features=False, relevance=False, lm_stats=reading == "likelihood",
                                   lm_verify=reading == "verify", base_model=str(model), cache_dir=cache_dir,
                                   device=device)

    def _scores(self, context: JudgeContext, proposals: Sequence[Proposal]) -> tuple[list[float], list[int]]:
        """(the score of each proposal, the LM tokens each one costs, its share of the prefix included)."""
        if self.reading == "verify":
            odds = self.reader.lm_verify_readings(context, proposals)
            lm = self.reader.lm
            prefix = len(lm.prefix_ids(context, proposals[0], verify=True))
            tokens = [prefix // len(proposals) + len(lm.suffix_ids(p)) + len(lm.question_ids()) for p in proposals]
            return [_sigmoid(x) for x in odds], tokens
        readings = self.reader.lm_readings(context, proposals)
        return ([math.exp(max(-50.0, r.mean_logprob)) for r in readings],
                [r.prefix_tokens // len(proposals) + r.tokens for r in readings])

    def critique_many(self, context: JudgeContext, proposals: Sequence[Proposal]) -> list[Critique]:
        if not proposals:
            return []
        start = time.perf_counter()
        scores, tokens = self._scores(context, proposals)
        seconds = (time.perf_counter() - start) / len(proposals)
        verify = self.reading == "verify"
        message = "not confirmed by the LM" if verify else "unlikely under the LM"
        out = []
        for p, score, used in zip(proposals, scores, tokens, strict=True):
            ok = score >= self.threshold
            text = (f"The language model does not confirm that this proposal is right ({score:.2f})." if verify
                    else f"The language model finds this proposal unlikely ({score:.2f}).")
            out.append(self._scored_critique(p, accepted=ok, score=score, text="" if ok else text,
                                             input_tokens=used, seconds=seconds, reason=message))
        return out


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


__all__ = ["LikelihoodJudge"]
