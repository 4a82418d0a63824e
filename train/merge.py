"""Merging ``toolrm data build`` folders into one training folder (``toolrm data merge``).

Builds differ in what they sample (a corruptions-only build, a build with policy samples on
other records); a critic trains on one folder. The merge keeps every record once (by id; the
same id with different content is an error: the builds disagree about a record) and every
pair once (by pair id), then writes ``records.jsonl``, ``pairs.jsonl``, the two parquet
exports and ``stats.json`` (counts per input folder and per rejected-answer origin). The
inputs' cached LM readings come along (:func:`train.disc.cached.carry_readings`).

Records made from records can share an id and still differ between builds with different
seeds: a far irrelevance variant (``#irrelevant-far``) offers tools drawn by the build's seed.
``on_conflict="keep-first"`` keeps the first input's record and leaves out the later one with
every pair of its input on it (the stats count both); the default stays an error.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from toolrm_agent.core.errors import TrainingError
from train.export import export
from train.pairs import TrainPair, read_pairs, write_pairs
from train.records import TrainRecord, read_records, write_records


class MergeError(TrainingError):
    """The folders cannot be merged (a missing file, or a record id with two contents)."""


OnConflict = Literal["error", "keep-first"]
ON_CONFLICT: tuple[OnConflict, ...] = ("error", "keep-first")


def merge_builds(
    inputs: Sequence[Path], out: Path, *, on_conflict: OnConflict = "error", echo: Callable[[str], None] = print
) -> dict[str, Any]:
    """Merge the build folders ``inputs`` into ``out``; the stats written to ``out/stats.json``."""
    if on_conflict not in ON_CONFLICT:
        raise MergeError(f"on_conflict must be one of {', '.join(ON_CONFLICT)}, got {on_conflict!r}")
    if len(inputs) < 2:
        raise MergeError("merge needs at least two build folders")
    if out.resolve() in {Path(p).resolve() for p in inputs}:
        raise MergeError(f"--out {out} is one of the inputs")
    records: dict[str, TrainRecord] = {}
    pairs: dict[str, TrainPair] = {}
    per_input: dict[str, dict[str, int]] = {}
    for folder in inputs:
        for name in ("records.jsonl", "pairs.jsonl"):
            if not (folder / name).is_file():
                raise MergeError(f"{folder} has no {name}: build it with `toolrm data build --out {folder}`")
        new_records = new_pairs = skipped_pairs = 0
        skipped: set[str] = set()
        for record in read_records(folder / "records.jsonl"):
            seen = records.get(record.id)
            if seen is None:
                records[record.id] = record
                new_records += 1
            elif seen != record:
                if on_conflict == "error":
                    raise MergeError(
                        f"record {record.id!r} differs between the inputs ({folder}); "
                        "--on-conflict keep-first keeps the first input's and leaves this one out, with its pairs"
                    )
                skipped.add(record.id)
        for pair in read_pairs(folder / "pairs.jsonl"):
            if pair.record_id in skipped:
                skipped_pairs += 1
            elif pair.id not in pairs:
                pairs[pair.id] = pair
                new_pairs += 1
        per_input[str(folder)] = {"records": new_records, "pairs": new_pairs}
        if skipped:
            per_input[str(folder)].update(conflicting_records_left_out=len(skipped), their_pairs=skipped_pairs)
        echo(f"[merge] {folder}: {new_records} new records, {new_pairs} new pairs"
             + (f"; {len(skipped)} records left out (another input holds them with other content), "
                f"with their {skipped_pairs} pairs" if skipped else ""))
    out.mkdir(parents=True, exist_ok=True)
    kept = [p for p in pairs.values() if p.record_id in records]
    write_records(records.values(), out / "records.jsonl")
    write_pairs(kept, out / "pairs.jsonl")
    export(kept, records, out)
    from train.disc.cached import carry_readings

    carry_readings(inputs, out, echo=echo)
    origin = Counter(p.rejected.origin for p in kept)
    stats = {"inputs": per_input, "records": len(records), "pairs": len(kept),
             "rejected_origin": dict(sorted(origin.items()))}
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    echo(f"[merge] wrote {len(records)} records and {len(kept)} pairs to {out}")
    return stats


__all__ = ["ON_CONFLICT", "MergeError", "OnConflict", "merge_builds"]
