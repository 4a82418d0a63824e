"""How much proposals agree: the consensus term of best-of-N.

When a policy is sampled N times, the answer most samples share is more often right than a
lone one (self-consistency), and a critic that reads each proposal alone cannot see that.
Best-of-N and resample (``CriticOptions.consensus``) and ``toolrm eval bon --consensus``
pick with :func:`consensus_pick`: the judge's verdict first (a rejected candidate never wins
over an accepted one), then ``score + consensus × agreement``, where a candidate's agreement
is its mean :func:`proposal_agreement` with the other candidates (:func:`agreement_scores`).

:func:`proposal_agreement` compares two proposals call by call. Two calls of different
functions agree 0; two calls of one function agree by the share of argument names whose
values are equal (strings compared without case and outer spaces, ``2.0`` equal to ``2``,
lists and objects element by element), over the names either call uses. The calls of the
two proposals are matched one to one, the matching that agrees most, and its sum is
divided by the larger number of calls: a missing call counts 0. Two proposals without
calls agree fully, a proposal without calls and one with calls not at all.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.errors import ConfigurationError

__all__ = ["agreement_scores", "consensus_pick", "consensus_scores", "proposal_agreement"]


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | tuple):
        return tuple(_norm(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _norm(v)) for k, v in value.items()))
    return value


def _call_agreement(a: ToolCall, b: ToolCall) -> float:
    if a.name != b.name:
        return 0.0
    names = set(a.arguments) | set(b.arguments)
    if not names:
        return 1.0
    same = sum(
        1 for k in names if k in a.arguments and k in b.arguments and _norm(a.arguments[k]) == _norm(b.arguments[k])
    )
    return same / len(names)


def proposal_agreement(a: Proposal, b: Proposal) -> float:
    """How much ``a`` and ``b`` agree, in [0, 1] (see the module docstring); symmetric."""
    if not a.calls or not b.calls:
        return float(not a.calls and not b.calls)
    short, long_ = (a.calls, b.calls) if len(a.calls) <= len(b.calls) else (b.calls, a.calls)
    return _best_matching(short, long_) / len(long_)


_EXACT_UP_TO = 10
"""Calls on the longer side up to which the matching is exact (beyond: greedy)."""


def _best_matching(short: Sequence[ToolCall], long_: Sequence[ToolCall]) -> float:
    """The highest sum of call agreements over one-to-one matchings of ``short`` into ``long_``."""
    score = [[_call_agreement(c, d) for d in long_] for c in short]
    if len(long_) > _EXACT_UP_TO:  # many parallel calls: take the best pairs first
        pairs = sorted(((score[i][j], i, j) for i in range(len(short)) for j in range(len(long_))), reverse=True)
        used_i: set[int] = set()
        used_j: set[int] = set()
        total = 0.0
        for value, i, j in pairs:
            if i not in used_i and j not in used_j:
                used_i.add(i)
                used_j.add(j)
                total += value
        return total

    @functools.cache
    def best(i: int, taken: int) -> float:
        if i == len(short):
            return 0.0
        return max(score[i][j] + best(i + 1, taken | 1 << j) for j in range(len(long_)) if not taken >> j & 1)

    return best(0, 0)


def agreement_scores(proposals: Sequence[Proposal], copies: Sequence[int] | None = None) -> list[float]:
    """Each proposal's mean agreement with the other samples, in [0, 1].

    ``copies[i]``: how many samples proposal ``i`` stands for (identical samples are judged
    once but each one counts here; default 1 each). A proposal's own extra copies count as
    full agreement. With a single sample in all, every agreement is 0."""
    counts = list(copies) if copies is not None else [1] * len(proposals)
    if len(counts) != len(proposals) or any(c < 1 for c in counts):
        raise ConfigurationError(f"copies must give a count >= 1 per proposal, got {counts} for {len(proposals)}")
    others = sum(counts) - 1
    if others <= 0:
        return [0.0] * len(proposals)
    out: list[float] = []
    for i, p in enumerate(proposals):
        total = float(counts[i] - 1)
        total += sum(counts[j] * proposal_agreement(p, q) for j, q in enumerate(proposals) if j != i)
        out.append(total / others)
    return out


def consensus_scores(scores: Sequence[float], agreement: Sequence[float], weight: float) -> list[float]:
    """``score + weight × agreement`` per candidate: what best-of-N picks the highest of."""
    if len(scores) != len(agreement):
        raise ConfigurationError(f"{len(scores)} scores for {len(agreement)} agreements")
    return [s + weight * a for s, a in zip(scores, agreement, strict=True)]


def consensus_pick(
    proposals: Sequence[Proposal],
    scores: Sequence[float],
    weight: float,
    *,
    tiers: Sequence[int] | None = None,
    copies: Sequence[int] | None = None,
) -> int:
    """Index of the pick: the lowest ``tiers`` first (``0`` accepted, higher worse; default
    all equal), then the highest ``score + weight × agreement``; a tie goes to the earlier.
    With ``weight`` 0 no agreement is computed: the order of verdict, then score."""
    if not proposals or len(scores) != len(proposals):
        raise ConfigurationError(f"{len(scores)} scores for {len(proposals)} proposals")
    tier = list(tiers) if tiers is not None else [0] * len(proposals)
    if len(tier) != len(proposals):
        raise ConfigurationError(f"{len(tier)} tiers for {len(proposals)} proposals")
    combined = list(scores) if weight == 0 else consensus_scores(scores, agreement_scores(proposals, copies), weight)
    return min(range(len(proposals)), key=lambda i: (tier[i], -combined[i], i))
