"""Stage 3 of ``toolrm data build``: score the candidates, filter by difficulty, make pairs.

Every candidate gets its rule-based score (:func:`train.scoring.score_candidate`).
Candidates that render the same are merged (the ground truth wins, then a policy
sample, then a corruption). A record whose candidates all score the same — all pass or
all fail — teaches nothing and is dropped (the **difficulty filter**). Every ordered
couple with ``chosen.score > rejected.score`` is a pair; the ground truth may be chosen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.jsonl import read_models, write_models
from toolrm_agent.core.pairs import PreferencePair
from train.candidates import RecordCandidates
from train.records import Complexity, TrainRecord
from train.scoring import score_candidate


class ScoredCandidate(BaseModel):
    model_config = ConfigDict(frozen=True)

    origin: str
    proposal: Proposal
    score: float
    message: str


class TrainPair(PreferencePair[ScoredCandidate]):
    """A preference pair over one record: the same context, a better and a worse answer."""

    record_id: str
    source: str
    complexity: Complexity

    @property
    def gap(self) -> float:
        return round(self.chosen.score - self.rejected.score, 6)


def _origin_rank(origin: str) -> int:
    return 0 if origin == "ground_truth" else 1 if origin.startswith("policy:") else 2


@dataclass
class CandidatePairStats:
    """What :func:`make_pairs` did with the records' candidates (``toolrm data build``'s report)."""

    records: int = 0
    candidates: int = 0
    merged: int = 0
    """Candidates merged into an identical rendering."""
    too_easy: int = 0
    """Records dropped because every candidate scored the same."""
    pairs: int = 0
    origins: Counter[str] = field(default_factory=Counter)
    """Rejected sides by origin."""

    def to_dict(self) -> dict[str, object]:
        return {
            "records": self.records,
            "candidates": self.candidates,
            "merged": self.merged,
            "dropped_no_spread": self.too_easy,
            "pairs": self.pairs,
            "rejected_origins": dict(sorted(self.origins.items())),
        }


def scored(record: TrainRecord, cands: RecordCandidates) -> list[ScoredCandidate]:
    """The record's distinct candidates with their scores (best origin kept on a tie)."""
    gt = record.ground_truth()
    by_render: dict[str, ScoredCandidate] = {}
    for c in sorted(cands.candidates, key=lambda c: _origin_rank(c.origin)):
        key = c.proposal.render()
        if key in by_render:
            continue
        s = score_candidate(gt, c.proposal, no_call=record.no_call)
        by_render[key] = ScoredCandidate(
            origin=c.origin, proposal=c.proposal, score=s.value, message=s.message
        )
    return list(by_render.values())


def record_pairs(record: TrainRecord, items: list[ScoredCandidate]) -> list[TrainPair]:
    out: list[TrainPair] = []
    for a in items:
        for b in items:
            if a.score > b.score:
                key = f"{a.proposal.render()}\x00{b.proposal.render()}"
                out.append(
                    TrainPair(
                        id=f"{record.id}#{_short_hash(key)}",
                        record_id=record.id,
                        source=record.source,
                        complexity=record.complexity,
                        chosen=a,
                        rejected=b,
                    )
                )
    return out


def _short_hash(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def make_pairs(
    records: Mapping[str, TrainRecord],
    candidates: Iterable[RecordCandidates],
    stats: CandidatePairStats | None = None,
) -> Iterator[TrainPair]:
    """Pairs of every record that passes the difficulty filter."""
    stats = stats if stats is not None else CandidatePairStats()
    for cands in candidates:
        record = records.get(cands.record_id)
        if record is None:
            continue
        stats.records += 1
        stats.candidates += len(cands.candidates)
        items = scored(record, cands)
        stats.merged += len(cands.candidates) - len(items)
        if len({i.score for i in items}) < 2:
            stats.too_easy += 1
            continue
        for pair in record_pairs(record, items):
            stats.pairs += 1
            stats.origins[pair.rejected.origin.split(":")[0]] += 1
            yield pair


def write_pairs(pairs: Iterable[TrainPair], path: Path) -> int:
    return write_models(pairs, path)


def read_pairs(path: Path) -> Iterator[TrainPair]:
    return read_models(path, TrainPair)


__all__ = [
    "CandidatePairStats",
    "ScoredCandidate",
    "TrainPair",
    "make_pairs",
    "read_pairs",
    "record_pairs",
    "scored",
    "write_pairs",
]
