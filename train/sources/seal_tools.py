"""Seal-Tools (``seal-tools/{dev,test_in_domain,test_out_domain}.jsonl.gz``) → TrainRecords.

A query line is ``{"id", "query", "calling": [{"api", "parameters", "responses"}]}``;
the tools live in ``tool.jsonl.gz`` (one per line, looked up by ``api_name``; parameter
types are Python names, mapped to JSON schema by ``normalize_schema``; ``required`` as
given; a parameter's ``default`` is kept, its ``example``/``unit`` notes are dropped).

* history — one user message, the ``query``;
* ground truth — the calls of ``calling`` whose arguments reference no other call's
  output: a value containing ``API_call_k`` (anywhere in it: ``"API_call_0 response"``
  occurs too) needs a tool result we do not have, so such a call cannot be part of the
  first turn. A query whose calls all reference others is skipped (none in the data: the
  first call never does);
* tools — every API the query calls (nested ones too) plus distractors drawn with
  ``random.Random(record id)`` from the same ``field`` first, then from the whole library,
  to 4 tools in all; the list is shuffled with the same generator so that the called
  tools are not always first;
* a query that calls an API missing from the library is skipped (none in the data).

Subset = the file stem; index = the line's position in the file.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from train.records import GroundTruthCall, TrainRecord, openai_tool
from train.sources._common import iter_jsonl, pick_distractors, record_id, references, stem

SOURCE = "seal-tools"
TOOL_FILE = "tool.jsonl.gz"
TOOLS_PER_RECORD = 4
_NESTED = re.compile(r"API_call_\d+")


@dataclass(frozen=True)
class Library:
    """The tool library: OpenAI entries by name, and names by field."""

    tools: dict[str, dict[str, Any]]
    field: dict[str, str]
    by_field: dict[str, list[str]]
    names: list[str]


def read(path: Path) -> Iterator[TrainRecord]:
    library = load_library(path / TOOL_FILE)
    for file in sorted(path.glob("*.jsonl*")):
        if file.name == TOOL_FILE:
            continue
        subset = stem(file)
        for index, (_, item) in enumerate(iter_jsonl(file)):
            record = _record(subset, index, item, library)
            if record is not None:
                yield record


@functools.cache
def load_library(tool_file: Path) -> Library:
    tools: dict[str, dict[str, Any]] = {}
    field: dict[str, str] = {}
    by_field: dict[str, list[str]] = {}
    for _, spec in iter_jsonl(tool_file):
        name = spec["api_name"]
        if name in tools:
            continue
        tools[name] = _tool(spec)
        field[name] = str(spec.get("field") or "")
        by_field.setdefault(field[name], []).append(name)
    return Library(tools=tools, field=field, by_field=by_field, names=sorted(tools))


def _tool(spec: dict[str, Any]) -> dict[str, Any]:
    properties = {
        name: {k: v for k, v in p.items() if k in ("type", "description", "default")}
        for name, p in (spec.get("parameters") or {}).items()
    }
    return openai_tool(
        spec["api_name"],
        str(spec.get("api_description") or ""),
        properties,
        spec.get("required") or [],
    )


def _record(subset: str, index: int, item: dict[str, Any], library: Library) -> TrainRecord | None:
    calling = item.get("calling") or []
    called = list(dict.fromkeys(c["api"] for c in calling))
    if not called or any(name not in library.tools for name in called):
        return None
    calls = [
        GroundTruthCall(name=c["api"], arguments=c.get("parameters") or {})
        for c in calling
        if not references(c.get("parameters"), _NESTED)
    ]
    if not calls:
        return None
    rid = record_id(SOURCE, subset, index)
    rng = random.Random(rid)
    same_field = [n for name in called for n in library.by_field[library.field[name]]]
    offered = called + pick_distractors(
        rng, same_field, library.names, set(called), TOOLS_PER_RECORD - len(called)
    )
    rng.shuffle(offered)
    return TrainRecord(
        id=rid,
        source=SOURCE,
        subset=subset,
        tools=[library.tools[name] for name in offered],
        messages=[{"role": "user", "content": item["query"]}],
        calls=calls,
    )
