"""ToolAlpaca (``toolalpaca/eval_simulated.json.gz``, ``eval_real.json.gz``) → TrainRecords.

Each file is a JSON array of APIs: ``Function_Description`` (function name → text
``<description>\\nParameters: {json}\\nOutput: ...``; the ``components`` entry describes
output types and is not a function), ``Instructions`` and the parallel
``Golden_Answers`` (each a list of steps ``{"Action", "Action_Input": JSON text}``).

* tools — every function of the API. Each parameter value is text
  ``[Required. ]<type>. [One of: [a, b]. ]<description>``: ``Required.`` marks required
  parameters (the other ones are optional), the type (``string``, ``integer``,
  ``Array[string]``, ``Object``) becomes the JSON type, ``One of`` an ``enum``;
* history — one user message, the instruction;
* ground truth — the FIRST golden step only (the later steps need the tool results,
  which the data does not hold): ``Action`` + ``json.loads(Action_Input)``. Skipped: an
  unparsable ``Action_Input`` (placeholders such as ``${start date}``, doubled keys), a
  ``getDetails`` first step (ToolAlpaca's "ask the user for details" action, not a
  function of the API: the right turn is a question to the user, which is neither a call
  nor a "no tool fits" refusal), and an action missing from ``Function_Description``.

``model_outputs/`` is not read: it holds LLM-judge prompts that embed ToolAlpaca-7B/13B
trajectories and the judge's verdicts, for the same instructions as ``eval_simulated``;
it adds no ground truth (and its "standard answers" are the golden answers above).

Subset = the file stem; index = the instruction's position in the file (all APIs).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from train.records import GroundTruthCall, TrainRecord, openai_tool
from train.sources._common import load_json, record_id, schema_type, stem

SOURCE = "toolalpaca"
FILES = ("eval_simulated.json.gz", "eval_real.json.gz")
ASK_USER = "getDetails"
_PARAMETERS = re.compile(r"(?:^|\n)Parameters:\s*(\{.*?\})\s*(?:\nOutput:|$)", re.DOTALL)
_PARAM = re.compile(
    r"(?P<required>Required\.\s*)?(?P<type>Array\[[^\]]*\]|Object\{.*?\}|\w+)\.\s*"
    r"(?:One of: \[(?P<enum>[^\]]*)\]\.?\s*)?(?P<description>.*)",
    re.DOTALL,
)


def read(path: Path) -> Iterator[TrainRecord]:
    for name in FILES:
        file = path / name
        if not file.exists():
            continue
        subset = stem(file)
        index = 0
        for api in load_json(file):
            tools = api_tools(api.get("Function_Description") or {})
            for instruction, steps in zip(api["Instructions"], api["Golden_Answers"], strict=True):
                record = _record(subset, index, instruction, steps, tools)
                index += 1
                if record is not None:
                    yield record


def api_tools(functions: dict[str, str]) -> dict[str, dict[str, Any]]:
    """OpenAI tools entries by name from an API's ``Function_Description``."""
    tools: dict[str, dict[str, Any]] = {}
    for name, text in functions.items():
        match = _PARAMETERS.search(text or "")
        if name == "components" or not match:
            continue
        try:
            params = json.loads(match.group(1))
        except ValueError:
            continue
        description = text[: match.start()].strip()
        properties: dict[str, Any] = {}
        required: list[str] = []
        for key, spec in params.items():
            prop, is_required = _parameter(str(spec))
            properties[key] = prop
            if is_required:
                required.append(key)
        tools[name] = openai_tool(name, description, properties, required)
    return tools


def _parameter(text: str) -> tuple[dict[str, Any], bool]:
    match = _PARAM.fullmatch(text.strip())
    if not match:
        return {"description": text.strip()}, False
    prop = schema_type(re.sub(r"\{.*\}", "", match.group("type")))
    if match.group("enum"):
        prop["enum"] = [v.strip() for v in match.group("enum").split(",")]
    if match.group("description").strip():
        prop["description"] = match.group("description").strip()
    return prop, bool(match.group("required"))


def _record(
    subset: str,
    index: int,
    instruction: str,
    steps: list[dict[str, Any]],
    tools: dict[str, dict[str, Any]],
) -> TrainRecord | None:
    if not steps or steps[0].get("Action") == ASK_USER or steps[0].get("Action") not in tools:
        return None
    try:
        arguments = json.loads(steps[0].get("Action_Input") or "{}")
    except ValueError:
        return None
    if not isinstance(arguments, dict):
        return None
    return TrainRecord(
        id=record_id(SOURCE, subset, index),
        source=SOURCE,
        subset=subset,
        tools=list(tools.values()),
        messages=[{"role": "user", "content": instruction}],
        calls=[GroundTruthCall(name=steps[0]["Action"], arguments=arguments)],
    )
