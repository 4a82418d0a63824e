"""The wing's JSON-lines files of pydantic models (records, candidates, pairs): one model a line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def write_models(items: Iterable[BaseModel], path: Path) -> int:
    """Write ``items`` one JSON line each, atomically (a temp file renamed at the end); how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write(item.model_dump_json() + "\n")
            n += 1
    tmp.replace(path)
    return n


def read_models(path: Path, model: type[M]) -> Iterator[M]:
    """The ``model`` instances of a JSON-lines file, in order (blank lines skipped)."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield model.model_validate_json(line)
