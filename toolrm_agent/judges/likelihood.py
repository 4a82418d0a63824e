"""A zero-training baseline judge: how likely is the proposal under an instruct LM?

:class:`LikelihoodJudge` scores a proposal by the mean per-token log-probability of its
canonical rendering under a frozen causal LM, given the conversation and tools in the
model's own chat template (:class:`~toolrm_agent.judges.lm_scoring.LMScorer`, one prefix
pass per context; ``cache_dir`` keeps the readings on disk, shared with the trained
critics that read the same model). ``score = exp(mean log-prob)``, the geometric-mean token probability, in
[0, 1]. It sees value and count mistakes the way the model's own preferences do, but it
cannot see irrelevance: "no call" is one unlikely-looking rendering among others.

Spec: ``lik:default`` (the offline Qwen2.5-Coder-0.5B), ``lik:<model dir>``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path

from toolrm_agent.calls import Proposal
from toolrm_agent.context import JudgeContext
from toolrm_agent.errors import ConfigurationError
from toolrm_agent.judges.base import BatchJudge
from toolrm_agent.verdicts import (
    CallVerdict,
    Critique,
    Issue,
    IssueCode,
    TokenUsage,
)


class LikelihoodJudge(BatchJudge):
    """Mean log-likelihood of the proposal under a frozen LM (see the module docstring)."""

    def __init__(self, model: str | Path = "default", *, threshold: float = 0.0,
                 cache_dir: str | Path | None = None, device: str = "cpu",
                 name: str | None = None) -> None:
        from toolrm_agent.judges.trained import CriticReader

        if not 0.0 <= threshold <= 1.0:
            raise ConfigurationError(f"threshold must be in [0, 1], got {threshold}")
        self.threshold = threshold
        self.name = name or f"lik:{model}"
        self.reader = CriticReader(features=False, relevance=False, lm_stats=True,
                                   base_model=str(model), cache_dir=cache_dir, device=device)

    def critique_many(self, context: JudgeContext, proposals: Sequence[Proposal]) -> list[Critique]:
        if not proposals:
            return []
        start = time.perf_counter()
        readings = self.reader.lm_readings(context, proposals)
        seconds = (time.perf_counter() - start) / len(proposals)
        out = []
        for p, r in zip(proposals, readings, strict=True):
            score = math.exp(max(-50.0, r.mean_logprob))
            ok = score >= self.threshold
            issues = () if ok else (Issue(code=IssueCode.JUDGE_REJECTED, message="unlikely under the LM"),)
            out.append(
                Critique(
                    accepted=ok,
                    score=score,
                    text="" if ok else f"The language model finds this proposal unlikely ({score:.2f}).",
                    judge=self.name,
                    calls=tuple(CallVerdict(tool_call_id=i, ok=ok, score=score, issues=issues) for i in p.ids),
                    usage=TokenUsage(input_tokens=r.prefix_tokens // len(proposals) + r.tokens),
                    latency_s=seconds,
                )
            )
        return out


__all__ = ["LikelihoodJudge"]
