"""HammerBench (``hammerbench/en/{single,multi}-turn/*.json.gz``) → TrainRecords.

Each file is a JSON array of dialogues: ``messages`` with roles ``user``, ``assistant``
(a follow-up question, or a refusal) and ``function call`` (``{"name", "arguments"}``: the
call the model should emit at that point, with the arguments known so far), and
``multiple_tools`` (OpenAI-style function schemas, normalized with ``ToolSpec``).

* tools — ``multiple_tools``;
* one record per ``function call`` turn: ground truth = that call, history = the user and
  assistant messages before it. Earlier ``function call`` turns are left out of the
  history: they are the ground truth of earlier points, not something the assistant said
  (HammerBench scores every point on its own, the assistant's follow-up question stands
  for the system's answer);
* an ``assistant`` message right after a ``user`` message (no call in between) is a
  refusal ("Sorry, no tool is suitable for your request." — the intent-shift set ``IS``,
  where the user switches to a request no offered tool serves) → a ``no_call`` record
  with the history before it;
* ``ir_*`` sets (irrelevance): the target tool was removed from ``multiple_tools`` and
  the messages keep the original call → ONE ``no_call`` record per dialogue, the history
  up to the first ``function call``.

Intermediate calls of the slot-filling dialogues usually lack required arguments (the
user has not given them yet): they are yielded as they are, the schema filter downstream
decides. Subset = the file stem (``ST_Perfect``, ``HammerBench_mQsA``, ``ir_ST_External``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolrm_agent.core.specs import ToolSpec
from train.records import GroundTruthCall, TrainRecord
from train.sources._common import load_json, stem, turn_record

SOURCE = "hammerbench"


def read(path: Path) -> Iterator[TrainRecord]:
    for file in sorted(path.rglob("*.json.gz")):
        subset = stem(file)
        for index, item in enumerate(load_json(file)):
            tools = [ToolSpec.from_openai(t).to_openai() for t in item["multiple_tools"]]
            yield from _dialogue(subset, index, item["messages"], tools)


def _dialogue(
    subset: str, index: int, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
) -> Iterator[TrainRecord]:
    irrelevance = subset.startswith("ir_")
    history: list[dict[str, Any]] = []
    turn = 0
    previous = ""
    for message in messages:
        role = message["role"]
        if role == "function call" or (role == "assistant" and previous == "user"):
            calls: list[GroundTruthCall] = []
            if role == "function call" and not irrelevance:
                content = message["content"]
                calls = [
                    GroundTruthCall(name=content["name"], arguments=content.get("arguments") or {})
                ]
            yield turn_record(SOURCE, subset, index, turn, tools, history, calls)
            turn += 1
            if irrelevance:
                return
        if role in ("user", "assistant"):
            history.append({"role": role, "content": str(message["content"])})
        previous = role
