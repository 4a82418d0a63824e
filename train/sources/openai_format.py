"""A user's dataset in the OpenAI tools format (``*.jsonl`` / ``*.jsonl.gz``) → TrainRecords.

Each line is ``{"tools": [OpenAI tools entries], "messages": [OpenAI chat messages], ...}``
(other keys are ignored). Every assistant message that calls tools gives one record:
ground truth = its calls, history = every message before it. The LAST assistant message
without a call gives a ``no_call`` record (an answer in text where a call could have
been made); earlier text-only assistant messages are history only.

* calls — OpenAI ``tool_calls`` (``{"id", "type": "function", "function": {"name",
  "arguments": JSON text}}``, read with :func:`toolrm_agent.core.parsing.proposal_from_openai`)
  or Hermes ``<tool_call>{"name", "arguments"}</tool_call>`` blocks in the content
  (:func:`toolrm_agent.core.parsing.parse_hermes`; the blocks are cut from the content in the
  history);
* history — roles ``system`` (``developer`` → system), ``user``, ``assistant`` (with
  ``tool_calls`` as ``[{"id", "name", "arguments": dict}]``), ``tool`` (``function`` →
  tool) with ``tool_call_id``; list contents are joined to text;
* tools — normalized through ``ToolSpec`` (bare function dicts are accepted too).

A line already in the :class:`TrainRecord` shape (it has ``calls`` or ``no_call``) is
read as it is; its ``id``/``source``/``subset`` are kept when given (so a
``records.jsonl`` written by the pipeline reads back unchanged) and filled in otherwise.

Skipped: a turn whose calls do not all parse, and a turn with no user message before it
(a record needs one). A line that is not JSON raises ``ValueError`` with its location.
Source = the dataset folder name; subset = the file stem; index = the line number.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.parsing import (
    message_text,
    parse_hermes,
    proposal_from_openai,
    without_hermes_blocks,
)
from toolrm_agent.core.specs import ToolSpec
from train.records import GroundTruthCall, TrainRecord
from train.sources._common import iter_jsonl, record_id, stem, turn_record

_ROLES = {"developer": "system", "function": "tool"}


def files(path: Path) -> list[Path]:
    """The JSON-lines files of a dataset folder (or the file itself)."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))


def read(path: Path) -> Iterator[TrainRecord]:
    source = (path.parent if path.is_file() else path).name
    for file in files(path):
        subset = stem(file)
        for lineno, line in iter_jsonl(file):
            if not isinstance(line, dict):
                raise ValueError(f"{file}:{lineno}: expected a JSON object")
            if "calls" in line or "no_call" in line:
                yield _as_record(line, source, subset, lineno)
            else:
                yield from _conversation(line, source, subset, lineno)


def _as_record(line: dict[str, Any], source: str, subset: str, lineno: int) -> TrainRecord:
    data = {"id": record_id(source, subset, lineno), "source": source, "subset": subset, **line}
    return TrainRecord.model_validate(data)


def _conversation(
    line: dict[str, Any], source: str, subset: str, lineno: int
) -> Iterator[TrainRecord]:
    tools = [ToolSpec.from_openai(t).to_openai() for t in line.get("tools") or []]
    raw = [m for m in line.get("messages") or [] if isinstance(m, dict)]
    last_assistant = max((i for i, m in enumerate(raw) if m.get("role") == "assistant"), default=-1)
    history: list[dict[str, Any]] = []
    turn = 0
    for i, message in enumerate(raw):
        role = _ROLES.get(str(message.get("role")), str(message.get("role")))
        if role != "assistant":
            history.append(_plain(role, message))
            continue
        proposal = _proposal(message)
        if not proposal.failures and (proposal.calls or i == last_assistant):
            if any(m["role"] == "user" for m in history):
                calls = [GroundTruthCall(name=c.name, arguments=c.arguments) for c in proposal.calls]
                yield turn_record(source, subset, lineno, turn, tools, history, calls)
            turn += 1
        history.append(_assistant(proposal, message, i))


def _proposal(message: dict[str, Any]) -> Proposal:
    text = message_text(message.get("content"))
    if message.get("tool_calls"):
        return proposal_from_openai(message["tool_calls"], text)
    if "<tool_call>" in text:
        return parse_hermes(text).override(content=without_hermes_blocks(text))
    return Proposal(content=text)


def _assistant(proposal: Proposal, message: dict[str, Any], index: int) -> dict[str, Any]:
    """The assistant message for the history; call ids as given, else ``call_<i>_<j>``."""
    out: dict[str, Any] = {"role": "assistant", "content": proposal.content}
    given = [tc.get("id") for tc in message.get("tool_calls") or [] if isinstance(tc, dict)]
    if len(given) != len(proposal.calls):
        given = []
    if proposal.calls:
        out["tool_calls"] = [
            {
                "id": str(given[j]) if j < len(given) and given[j] else f"call_{index}_{j}",
                "name": c.name,
                "arguments": dict(c.arguments),
            }
            for j, c in enumerate(proposal.calls)
        ]
    return out


def _plain(role: str, message: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"role": role, "content": message_text(message.get("content"))}
    if role == "tool" and message.get("tool_call_id"):
        out["tool_call_id"] = str(message["tool_call_id"])
    return out
