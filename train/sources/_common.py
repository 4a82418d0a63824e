"""Helpers the dataset readers share: file loading, ids, type names, distractors."""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from train.records import GroundTruthCall, TrainRecord

_SUFFIXES = (".json.gz", ".jsonl.gz", ".json", ".jsonl")


def stem(path: Path) -> str:
    """The file name without its data suffix (``ST_Perfect.json.gz`` → ``ST_Perfect``)."""
    name = path.name
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _open(path: Path) -> Any:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def load_json(path: Path) -> Any:
    """One JSON document, gzipped or not."""
    with _open(path) as f:
        return json.load(f)


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` for every non-blank line of a JSON-lines file."""
    with _open(path) as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield lineno, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{lineno}: not JSON: {exc}") from exc


def record_id(source: str, subset: str, index: int | str, turn: int = 0) -> str:
    return f"{source}/{subset}/{index}/{turn}"


def turn_record(
    source: str,
    subset: str,
    index: int | str,
    turn: int,
    tools: list[dict[str, Any]],
    history: Sequence[dict[str, Any]],
    calls: list[GroundTruthCall],
) -> TrainRecord:
    """The record of one assistant turn of a conversation: the messages before it and the
    calls it made (none: a turn that rightly calls nothing)."""
    return TrainRecord(
        id=record_id(source, subset, index, turn),
        source=source,
        subset=subset,
        tools=tools,
        messages=list(history),
        calls=calls,
        no_call=not calls,
    )


_SIMPLE_TYPES: dict[str, str] = {
    "string": "string",
    "str": "string",
    "text": "string",
    "enum": "string",
    "date": "string",
    "integer": "integer",
    "int": "integer",
    "long": "integer",
    "number": "number",
    "float": "number",
    "double": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "object": "object",
    "dict": "object",
    "array": "array",
    "list": "array",
    "tuple": "array",
}
_CONTAINER = re.compile(r"(list|array|set|tuple)\s*[\[(](.*)[\])]", re.IGNORECASE | re.DOTALL)
_MAPPING = re.compile(r"(dict|object)\b.*", re.IGNORECASE | re.DOTALL)


def schema_type(text: Any) -> dict[str, Any]:
    """A free-text type name as a JSON schema fragment; ``{}`` when it has no JSON type.

    ``str, optional`` → string, ``List[int]`` / ``list(str)`` / ``Array[string]`` → an
    array with typed items, ``Dict[str, int]`` / ``Object{...}`` → object, ``Date
    (yyyy-mm-dd)`` / ``Enum`` → string. Unions, callables and the like give ``{}`` (any).
    """
    if not isinstance(text, str):
        return {}
    t = re.sub(r",\s*optional\s*$", "", text.strip(), flags=re.IGNORECASE).strip().rstrip(".")
    container = _CONTAINER.fullmatch(t)
    if container:
        kind, inner = container.group(1).lower(), container.group(2)
        items = {} if kind == "tuple" else schema_type(inner)
        return {"type": "array", "items": items} if items else {"type": "array"}
    if _MAPPING.fullmatch(t):
        return {"type": "object"}
    words = t.lower().split()
    mapped = _SIMPLE_TYPES.get(words[0]) if words else None
    return {"type": mapped} if mapped else {}


def is_optional_type(text: Any) -> bool:
    """True for type names that say so (``str, optional``)."""
    return isinstance(text, str) and bool(re.search(r",\s*optional\s*$", text, re.IGNORECASE))


def pick_distractors(
    rng: random.Random, preferred: Sequence[str], pool: Sequence[str], exclude: set[str], k: int
) -> list[str]:
    """``k`` distinct names not in ``exclude``: from ``preferred`` first, then ``pool``."""
    chosen: list[str] = []
    for candidates in (preferred, pool):
        free = sorted(set(candidates) - exclude - set(chosen))
        need = k - len(chosen)
        if need <= 0:
            break
        chosen.extend(rng.sample(free, min(need, len(free))))
    return chosen


def references(value: Any, pattern: re.Pattern[str]) -> bool:
    """True when any string anywhere in ``value`` (keys included) matches ``pattern``."""
    return bool(pattern.search(json.dumps(value, ensure_ascii=False, default=str)))
