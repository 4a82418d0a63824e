"""ToolRL (``toolrl/rlla_sft.json.gz``, ``rlla_4k_test.jsonl.gz``, ``api-bank/*.json.gz``).

Every item is a ToolRL prompt: a system text with the tool list, a dialogue as text and a
target. ``rlla_sft`` has ``instruction`` / ``input`` / ``output``; ``rlla_4k_test`` the
same under ``extra_info`` (its ``prompt`` and ``reward_model`` repeat them); API-Bank
has ``system`` / ``user`` / ``answer`` (a call list as JSON, a single call object in
level 2, or its Python-literal text).

* tools — the "**Available Tools**" section, one entry per ``N. Name: ...\\nDescription:
  ...\\nParameters: {...}`` (API-Bank level 3 writes ``N. name: description``); the
  parameters are JSON (API-Bank: a Python literal) mapping name → ``{description, type,
  default?}``. Type names are free text (``str, optional``, ``List[int]``, ``dict``) and
  are mapped to JSON schema. Required: what the data supports —
  a parameter without a ``default`` key is required (all API-Bank parameters; 893/925
  are given in the ground truth); where a tool marks optional parameters in the type
  (``int, optional``, the xLAM tools) the unmarked ones are required (83/84 given). The
  ToolACE/Hammer tools of ``rlla`` give every parameter a ``default`` (``""`` for most)
  and lost their required list in the conversion: ``""`` does not mark required ones
  (given 86% of the time vs 84% for a real default), so none is required. Defaults other
  than ``""`` are kept. A tool named twice keeps its first entry;
* history — the dialogue text ``<user>..</user>``, ``<think>..</think>``,
  ``<tool_call>..</tool_call>``, ``<response>..</response>``, ``<obs>..</obs>``: user
  turns → user messages; the blocks between them → one assistant message (``<response>``
  as content, ``<tool_call>`` lines as ``tool_calls``; ``<think>`` is dropped: a
  placeholder reasoning of the ToolRL format, not something said to the user);
  ``<obs>`` → tool messages: ``rlla`` writes a JSON list of ``{"name", "results"}``, one
  per call (→ one tool message per call, its ``results``); API-Bank writes one result as
  a Python literal (level 3: ``{"api_name", "input", "output", "exception"}``; level 1:
  any value or plain text) → one tool message, literals rendered as JSON;
* system — the system prompt is the same ToolRL instruction text in every item (output
  format, steps, the tool list): it is not copied, there is no task-specific content;
* ground truth — the ``<tool_call>`` block(s) of the target (one JSON object per line,
  ``{"name", "parameters"}``; ``<think>`` is removed first, it sometimes quotes the tag),
  or the API-Bank ``answer``; a target with only a ``<response>`` (a text answer) →
  ``no_call``; a target with both keeps the calls (the text is not representable).
  Targets whose calls do not all parse are skipped.

Subset = the file stem (``rlla_sft``, ``rlla_4k_test``, ``level-1-api_processed``).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolrm_agent.core.parsing import parse_hermes
from toolrm_agent.core.thinking import strip_thinking
from train.records import GroundTruthCall, TrainRecord, openai_tool
from train.sources._common import (
    is_optional_type,
    iter_jsonl,
    load_json,
    record_id,
    schema_type,
    stem,
)

SOURCE = "toolrl"
_TOOL_HEAD = re.compile(r"\n(?=\d+\. )")
_TOOL = re.compile(
    r"\d+\. (?:Name: (?P<name>.*?)\nDescription: (?P<desc>.*?)|(?P<name3>[^\n:]+): (?P<desc3>.*?))"
    r"\nParameters: (?P<params>.*)",
    re.DOTALL,
)
_BLOCK = re.compile(r"<(user|think|tool_call|response|obs)>(.*?)</\1>", re.DOTALL)
_RESPONSE = re.compile(r"<response>.*?(?:</response>|$)", re.DOTALL)


def read(path: Path) -> Iterator[TrainRecord]:
    files = sorted(path.glob("*.json*")) + sorted((path / "api-bank").glob("*.json*"))
    for file in files:
        subset = stem(file)
        items = (
            (item for _, item in iter_jsonl(file))
            if file.name.endswith((".jsonl", ".jsonl.gz"))
            else iter(load_json(file))
        )
        for index, item in enumerate(items):
            record = _record(subset, index, item.get("extra_info") or item)
            if record is not None:
                yield record


def _record(subset: str, index: int, item: dict[str, Any]) -> TrainRecord | None:
    system = item.get("instruction") or item.get("system") or ""
    dialogue = item.get("input") or item.get("user") or ""
    if "answer" in item:
        calls = _answer_calls(item["answer"])
        no_call = False
    else:
        calls, no_call = _target(str(item.get("output") or ""))
    if calls is None or (not calls and not no_call):
        return None
    messages = parse_dialogue(dialogue)
    if not any(m["role"] == "user" for m in messages):
        return None
    return TrainRecord(
        id=record_id(SOURCE, subset, index),
        source=SOURCE,
        subset=subset,
        tools=parse_tools(system),
        messages=messages,
        calls=calls,
        no_call=no_call and not calls,
    )


# ------------------------------------------------------------------------------ tools


def parse_tools(system: str) -> list[dict[str, Any]]:
    """The tool list of a ToolRL system prompt as OpenAI tools entries."""
    start = system.find("**Available Tools**")
    end = system.find("**Steps for Each Turn**", start)
    section = system[start : end if end >= 0 else None] if start >= 0 else ""
    tools: dict[str, dict[str, Any]] = {}
    for block in _TOOL_HEAD.split(section)[1:]:
        match = _TOOL.match(block.strip())
        if not match:
            continue
        name = (match.group("name") or match.group("name3") or "").strip()
        description = (match.group("desc") or match.group("desc3") or "").strip()
        params = _literal(match.group("params").strip())
        if name and isinstance(params, dict) and name not in tools:
            tools[name] = _tool(name, description, params)
    return list(tools.values())


def _tool(name: str, description: str, params: dict[str, Any]) -> dict[str, Any]:
    params = {k: v if isinstance(v, dict) else {} for k, v in params.items()}
    marks_optional = any(is_optional_type(p.get("type")) for p in params.values())
    properties: dict[str, Any] = {}
    required: list[str] = []
    for key, p in params.items():
        prop: dict[str, Any] = schema_type(p.get("type"))
        if p.get("description"):
            prop["description"] = str(p["description"])
        if p.get("default", "") != "":
            prop["default"] = p["default"]
        properties[key] = prop
        optional = is_optional_type(p.get("type"))
        if "default" not in p or (marks_optional and not optional):
            required.append(key)
    return openai_tool(name, description, properties, required)


def _literal(text: str) -> Any:
    """JSON, or failing that a Python literal; None when it is neither."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


# --------------------------------------------------------------------------- dialogue


def parse_dialogue(text: str) -> list[dict[str, Any]]:
    """ToolRL dialogue text → user / assistant / tool messages."""
    messages: list[dict[str, Any]] = []
    assistant: dict[str, Any] | None = None
    for tag, body in ((m.group(1), m.group(2).strip()) for m in _BLOCK.finditer(text)):
        if tag in ("user", "obs"):
            if assistant is not None:
                messages.append(assistant)
            if tag == "user":
                messages.append({"role": "user", "content": body})
            else:
                messages.extend(_observations(body, assistant))
            assistant = None
        elif tag in ("tool_call", "response"):
            assistant = assistant or {"role": "assistant", "content": ""}
            if tag == "response":
                assistant["content"] = "\n".join(s for s in (assistant["content"], body) if s)
            else:
                turn = sum(m["role"] == "assistant" for m in messages)
                calls = assistant.setdefault("tool_calls", [])
                for call in parse_hermes(f"<tool_call>{body}</tool_call>").calls:
                    calls.append(
                        {
                            "id": f"call_{turn}_{len(calls)}",
                            "name": call.name,
                            "arguments": call.arguments,
                        }
                    )
    if assistant is not None:
        messages.append(assistant)
    return messages


def _observations(body: str, assistant: dict[str, Any] | None) -> list[dict[str, Any]]:
    """An ``<obs>`` block → one tool message per call of the assistant turn before it."""
    ids = [c["id"] for c in (assistant or {}).get("tool_calls", [])]
    value = _literal(body)
    per_call = isinstance(value, list) and all(
        isinstance(v, dict) and "results" in v for v in value
    )
    if per_call and ids and len(value) == len(ids):
        return [
            {"role": "tool", "tool_call_id": cid, "content": _result_text(v["results"])}
            for cid, v in zip(ids, value, strict=True)
        ]
    text = body if value is None or isinstance(value, str) else _result_text(value)
    message: dict[str, Any] = {"role": "tool", "content": text}
    if ids:
        message["tool_call_id"] = ids[0]
    return [message]


def _result_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# ----------------------------------------------------------------------------- target


def _target(output: str) -> tuple[list[GroundTruthCall] | None, bool]:
    """(calls, no_call) of a ToolRL target text; calls None when it cannot be read."""
    text = strip_thinking(output, lone_close="keep", sep="")
    if "<tool_call>" in text:
        proposal = parse_hermes(_RESPONSE.sub("", text))
        if proposal.failures or not proposal.calls:
            return None, False
        return [GroundTruthCall(name=c.name, arguments=c.arguments) for c in proposal.calls], False
    return [], "<response>" in text


def _answer_calls(answer: Any) -> list[GroundTruthCall] | None:
    value = _literal(answer) if isinstance(answer, str) else answer
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not value:
        return None
    calls: list[GroundTruthCall] = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return None
        args = item.get("parameters", item.get("arguments")) or {}
        if not isinstance(args, dict):
            return None
        calls.append(GroundTruthCall(name=item["name"], arguments=args))
    return calls
