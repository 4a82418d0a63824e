"""Stage 1 of ``toolrm data build``: every source read into one clean list of records.

Each dataset's reader (:mod:`train.sources`) yields :class:`~train.records.TrainRecord`
objects; this stage drops what must not be trained on and says how much it dropped:

* ``bad_schema`` — the ground truth violates its own tool schemas (an unknown function,
  a missing required argument, an argument the function does not take, a wrong type or
  a value outside the enum), judged by the runtime's :class:`SchemaJudge`;
* ``after_error`` — the turn answers a tool response that reports an error;
* ``repeated_call`` — a ground-truth call repeats a call made earlier in the history;
* ``duplicate`` — the same tools, history and answer as a record already kept;
* ``bfcl_leak`` — a user message matches a BFCL v4 question (:mod:`train.leak`).

It then adds the records of :mod:`train.augment`: irrelevance variants (the request with
the functions it needs removed or replaced; the right answer is no call) and compositions
of two requests into one that needs both sets of calls.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from toolrm_agent.judges.schema import SchemaJudge
from train.augment import augment
from train.corruptions import value_pool
from train.leak import bfcl_question_hashes, is_leak
from train.records import TrainRecord

_ERROR = re.compile(r"^\W*(?:error|exception|traceback)\b|\"error\"\s*:", re.IGNORECASE)

DROP_REASONS = ("bad_schema", "after_error", "repeated_call", "duplicate", "bfcl_leak")


@dataclass
class NormalizeStats:
    read: Counter[str] = field(default_factory=Counter)
    """Records read, by ``source/subset``."""
    dropped: Counter[str] = field(default_factory=Counter)
    """Records dropped, by reason."""
    dropped_by_source: Counter[str] = field(default_factory=Counter)
    """Records dropped, by ``reason:source``."""
    kept: Counter[str] = field(default_factory=Counter)
    """Records kept, by source (irrelevance variants under ``<source>+irrelevant``)."""

    def to_dict(self) -> dict[str, dict[str, int]]:
        return {
            "read": dict(sorted(self.read.items())),
            "dropped": {r: self.dropped.get(r, 0) for r in DROP_REASONS},
            "dropped_by_source": dict(sorted(self.dropped_by_source.items())),
            "kept": dict(sorted(self.kept.items())),
        }


def drop_reason(record: TrainRecord, judge: SchemaJudge, leak_hashes: frozenset[str]) -> str | None:
    """Why ``record`` must not be trained on, or ``None`` when it may."""
    if is_leak((str(m.get("content") or "") for m in record.messages if m.get("role") == "user"),
               leak_hashes):
        return "bfcl_leak"
    last = record.messages[-1] if record.messages else {}
    if last.get("role") == "tool" and _ERROR.search(str(last.get("content") or "")):
        return "after_error"
    earlier = {
        _call_key(c.get("name"), c.get("arguments"))
        for m in record.messages
        if m.get("role") == "assistant"
        for c in m.get("tool_calls") or ()
    }
    if any(_call_key(c.name, c.arguments) in earlier for c in record.calls):
        return "repeated_call"
    if not record.no_call:
        critique = judge.critique(record.context(), record.ground_truth())
        if any(i.severity == "error" for v in critique.calls for i in v.issues):
            return "bad_schema"
    return None


def _call_key(name: object, arguments: object) -> str:
    import json

    return json.dumps([name, arguments], sort_keys=True, default=str)


def normalize(
    records: Iterable[TrainRecord],
    *,
    irrelevance_share: float = 0.25,
    compose_share: float = 0.25,
    seed: int = 0,
    stats: NormalizeStats | None = None,
) -> list[TrainRecord]:
    """The records that may be trained on, deduplicated, plus the augmented ones."""
    stats = stats if stats is not None else NormalizeStats()
    judge = SchemaJudge(check_grounding=False, check_duplicates=False)
    hashes = bfcl_question_hashes()
    seen: set[str] = set()
    kept: list[TrainRecord] = []
    for record in records:
        stats.read[f"{record.source}/{record.subset}"] += 1
        reason = drop_reason(record, judge, hashes)
        if reason is None:
            key = record.fingerprint()
            if key in seen:
                reason = "duplicate"
            seen.add(key)
        if reason is not None:
            stats.dropped[reason] += 1
            stats.dropped_by_source[f"{reason}:{record.source}"] += 1
            continue
        kept.append(record)
        stats.kept[record.source] += 1
    made = augment(kept, irrelevance_share=irrelevance_share, compose_share=compose_share,
                   seed=seed, pool=value_pool(kept))
    for m in made:
        stats.kept[f"{m.source}+{m.subset.rsplit('+', 1)[-1]}"] += 1
    return kept + made


__all__ = ["DROP_REASONS", "NormalizeStats", "drop_reason", "normalize"]
