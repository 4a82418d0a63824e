"""Stage 2 of ``toolrm data build``: candidate answers for every record.

A record's candidates are its ground truth (origin ``ground_truth``), seeded rule-based
corruptions of it (origin ``corruption:<name>``, see :mod:`train.corruptions`) and ``K``
samples from each policy (origin ``policy:<spec>``): ``default`` is the offline Qwen
through :class:`~toolrm_agent.models.LocalChatModel`; ``openai:<model>@<url>`` any
OpenAI-compatible server (vLLM, the llama.cpp server), which batches far faster on a CPU.
Policy answers are read by the runtime's one parser
(:func:`toolrm_agent.core.parsing.proposal_from_message`), so JSON written in the message
text counts as the call it means.

The output is one JSON line per record, appended as records finish, so a killed build
resumes where it stopped (:func:`done_ids`).
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.jsonl import read_models
from toolrm_agent.core.parsing import proposal_from_message
from train.corruptions import corrupt
from train.records import TrainRecord

log = logging.getLogger(__name__)


class Candidate(BaseModel):
    """One candidate answer and where it came from."""

    model_config = ConfigDict(frozen=True)

    origin: str
    """``ground_truth``, ``corruption:<name>`` or ``policy:<spec>``."""
    proposal: Proposal


class RecordCandidates(BaseModel):
    model_config = ConfigDict(frozen=True)

    record_id: str
    candidates: list[Candidate]


def corruption_candidates(
    record: TrainRecord, *, seed: int, per_record: int, pool: Sequence[str]
) -> list[Candidate]:
    rng = random.Random(f"{seed}|corrupt|{record.id}")
    return [
        Candidate(origin=f"corruption:{name}", proposal=p)
        for name, p in corrupt(record, rng=rng, limit=per_record, pool=pool)
    ]


def policy_candidates(model: Any, spec: str, record: TrainRecord, k: int) -> list[Candidate]:
    """``k`` answers of a policy model to the record's history (none if it fails)."""
    from toolrm_agent.models.policy import sample_messages

    try:
        messages = sample_messages(model, record.langchain_messages(), list(record.tools), k)
    except Exception as exc:  # noqa: BLE001 - one failing record must not stop a long build
        log.warning("policy %s failed on %s: %s", spec, record.id, exc)
        return []
    return [
        Candidate(origin=f"policy:{spec}", proposal=proposal_from_message(m)) for m in messages
    ]


def done_ids(path: Path) -> set[str]:
    """Record ids already in a (possibly cut short) candidates file."""
    if not path.exists():
        return set()
    done: set[str] = set()
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                done.add(json.loads(line)["record_id"])
            except (json.JSONDecodeError, KeyError):
                break  # a half-written last line: it is rewritten on resume
    return done


def _truncate_partial(path: Path) -> None:
    """Drop a half-written last line left by a killed run."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


def build_candidates(
    records: Sequence[TrainRecord],
    out: Path,
    *,
    policies: Sequence[tuple[str, Any]] = (),
    samples: int = 0,
    corruptions_per_record: int = 6,
    pool: Sequence[str] = (),
    seed: int = 0,
    progress: Any = None,
) -> int:
    """Append the candidates of every record not yet in ``out``; the number written."""
    _truncate_partial(out)
    done = done_ids(out)
    todo = [r for r in records if r.id not in done]
    written = 0
    with out.open("a", encoding="utf-8") as fh:
        for record in todo:
            cands = [Candidate(origin="ground_truth", proposal=record.ground_truth())]
            cands += corruption_candidates(
                record, seed=seed, per_record=corruptions_per_record, pool=pool
            )
            if samples > 0:
                for spec, model in policies:
                    cands += policy_candidates(model, spec, record, samples)
            fh.write(RecordCandidates(record_id=record.id, candidates=cands).model_dump_json())
            fh.write("\n")
            fh.flush()
            written += 1
            if progress is not None:
                progress()
    return written


def read_candidates(path: Path) -> Iterator[RecordCandidates]:
    return read_models(path, RecordCandidates)


def origins(items: Iterable[RecordCandidates]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        for c in item.candidates:
            counts[c.origin] = counts.get(c.origin, 0) + 1
    return dict(sorted(counts.items()))


__all__ = [
    "Candidate",
    "RecordCandidates",
    "build_candidates",
    "corruption_candidates",
    "done_ids",
    "origins",
    "policy_candidates",
    "read_candidates",
]
