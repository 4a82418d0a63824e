"""NESTFUL (``nestful/<name>-data.json.gz`` + ``<name>-spec.json.gz``) → TrainRecords.

A data file is a JSON array of ``{"input", "output"}``: the user request and the
ground-truth call sequence ``[{"name", "arguments", "label": "varN"}]``, closed by a
``var_result`` entry (what is returned to the user, not a call: skipped). Later calls
refer to earlier outputs with ``"$varN.field$"``.

* history — one user message, the ``input``;
* ground truth — the first turn: every call of the sequence whose arguments reference no
  ``$varN`` value (they need no earlier result, so they can all be made at once). The
  later calls need tool outputs we do not have and are not records;
* tools — every function the sequence uses plus 2 distractors from the same spec file
  (``random.Random(record id)``), shuffled with the same generator. Functions missing
  from the spec file (a few glaive ones) are not offered; a sequence whose first turn
  calls one is skipped;
* specs — glaive/executable use ``query_parameters`` (executable also
  ``path_parameters``, some glaive specs ``parameters``) with a per-parameter
  ``required: true``; their type names (``String``, ``Number``, ``Enum``, ``Date
  (yyyy-mm-dd)``) are mapped to JSON schema; ``allowed_values``/``enum`` lists → ``enum``.
  Parameters without ``required: true`` are optional (some executable specs mark
  optional ones with ``optional: true`` and leave the key off the others: not trusted).
  SGD specs use ``arguments`` (``required``, ``allowed_values`` → ``enum`` when non-empty,
  ``default_value`` → ``default``) and carry no types: SGD slot values are strings (all
  ground-truth values are), so they get ``type: string``. Duplicate spec entries
  (identical) keep the first.

Subset = the data file name before ``-data`` (``executable``, ``non-executable-sgd``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from train.records import GroundTruthCall, TrainRecord, openai_tool
from train.sources._common import load_json, pick_distractors, record_id, references, schema_type

SOURCE = "nestful"
DISTRACTORS = 2
_VAR = re.compile(r"\$var\d+")
_KEPT = ("description", "items", "properties", "enum", "format", "default")


def read(path: Path) -> Iterator[TrainRecord]:
    for data_file in sorted(path.glob("*-data.json*")):
        subset = data_file.name.split("-data.json")[0]
        spec_file = data_file.with_name(data_file.name.replace("-data.json", "-spec.json"))
        tools: dict[str, dict[str, Any]] = {}
        for spec in load_json(spec_file):
            tools.setdefault(spec["name"], _tool(spec))
        for index, item in enumerate(load_json(data_file)):
            record = _record(subset, index, item, tools)
            if record is not None:
                yield record


def _tool(spec: dict[str, Any]) -> dict[str, Any]:
    sgd = "arguments" in spec
    params: dict[str, Any] = {
        **(spec.get("path_parameters") or {}),
        **(spec.get("query_parameters") or spec.get("parameters") or spec.get("arguments") or {}),
    }
    properties: dict[str, Any] = {}
    for name, p in params.items():
        prop = schema_type(p.get("type")) or ({"type": "string"} if sgd else {})
        prop.update({k: v for k, v in p.items() if k in _KEPT})
        allowed = p.get("allowed_values")
        if isinstance(allowed, list) and allowed and "enum" not in prop:
            prop["enum"] = allowed
        if "default_value" in p:
            prop["default"] = p["default_value"]
        properties[name] = prop
    required = [name for name, p in params.items() if p.get("required") is True]
    return openai_tool(spec["name"], str(spec.get("description") or ""), properties, required)


def _record(
    subset: str, index: int, item: dict[str, Any], tools: dict[str, dict[str, Any]]
) -> TrainRecord | None:
    sequence = [c for c in item.get("output") or [] if c.get("name") != "var_result"]
    first = [c for c in sequence if not references(c.get("arguments"), _VAR)]
    if not first or any(c["name"] not in tools for c in first):
        return None
    rid = record_id(SOURCE, subset, index)
    rng = random.Random(rid)
    used = list(dict.fromkeys(c["name"] for c in sequence if c["name"] in tools))
    offered = used + pick_distractors(rng, [], sorted(tools), set(used), DISTRACTORS)
    rng.shuffle(offered)
    return TrainRecord(
        id=rid,
        source=SOURCE,
        subset=subset,
        tools=[tools[name] for name in offered],
        messages=[{"role": "user", "content": item["input"]}],
        calls=[GroundTruthCall(name=c["name"], arguments=c.get("arguments") or {}) for c in first],
    )
