"""Never train on BFCL: the user turns of every BFCL v4 question, hashed.

The questions come from the installed ``bfcl-eval`` package (``bfcl_eval/data/
BFCL_v4_*.json``: every category, live and multi-turn included). A text is normalised
before hashing (lower case, runs of non-alphanumeric characters collapsed to one
space, trimmed), so a copy that differs in case, spacing or punctuation still matches.
A training record is a leak when any of its user messages hashes to a BFCL question's
user message.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

_NON_WORD = re.compile(r"[\W_]+")


def normalize_text(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower()).strip()


def text_hash(text: str) -> str:
    return hashlib.sha1(normalize_text(text).encode("utf-8", "surrogatepass")).hexdigest()


def _user_texts(entry: dict[str, Any]) -> Iterable[str]:
    for turn in entry.get("question") or ():
        for message in turn if isinstance(turn, list) else [turn]:
            if isinstance(message, dict) and message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, str) and content.strip():
                    yield content


def bfcl_data_dir() -> Path:
    return Path(str(resources.files("bfcl_eval") / "data"))


@cache
def bfcl_question_hashes(data_dir: Path | None = None) -> frozenset[str]:
    """Hashes of every user message of every BFCL v4 question file."""
    folder = data_dir or bfcl_data_dir()
    hashes: set[str] = set()
    files = sorted(folder.glob("BFCL_v4_*.json"))
    if not files:
        raise FileNotFoundError(f"no BFCL_v4_*.json files under {folder}: is bfcl-eval installed?")
    for path in files:
        for entry in _entries(path):
            hashes.update(text_hash(t) for t in _user_texts(entry))
    return frozenset(hashes)


def _entries(path: Path) -> Iterable[dict[str, Any]]:
    """The question entries of a BFCL file: JSON lines, or (one file) a JSON document."""
    text = path.read_text(encoding="utf-8")
    try:
        entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError:
        entries = []
    if entries:
        yield from entries
        return
    stack = [json.loads(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "question" in node:
                yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def is_leak(user_texts: Iterable[str], hashes: frozenset[str] | None = None) -> bool:
    """True when any of ``user_texts`` is a BFCL v4 question (after normalisation)."""
    known = bfcl_question_hashes() if hashes is None else hashes
    return any(text_hash(t) in known for t in user_texts if t.strip())


__all__ = ["bfcl_question_hashes", "is_leak", "normalize_text", "text_hash"]
