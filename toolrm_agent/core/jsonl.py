"""JSON lines: the one reader and writer of the project's ``.jsonl`` files.

* :func:`json_lines`: the values of JSON-lines text, blank lines skipped; a line that is not
  JSON raises a :class:`~toolrm_agent.core.errors.ConfigurationError` (or the subclass the
  caller names) that says where: ``file:line``.
* :func:`read_models` / :func:`write_models`: one pydantic model a line (preference pairs,
  training records, candidates); the writer replaces the file atomically.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from toolrm_agent.core.errors import ConfigurationError

__all__ = ["json_lines", "read_models", "write_models"]

M = TypeVar("M", bound=BaseModel)


def json_lines(
    lines: Iterable[str], *, source: str | Path, error: type[ConfigurationError] = ConfigurationError
) -> list[Any]:
    """The JSON value of every non-blank line; ``error("<source>:<n>: not a JSON line (...)")``
    for the first line that is not JSON."""
    values: list[Any] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            values.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise error(f"{source}:{number}: not a JSON line ({exc.msg})") from None
    return values


def read_models(path: Path, model: type[M]) -> Iterator[M]:
    """The ``model`` instances of a JSON-lines file, in order (blank lines skipped)."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield model.model_validate_json(line)


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
