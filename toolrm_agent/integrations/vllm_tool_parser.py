"""A lenient tool-call parser for vLLM's OpenAI-compatible server (``toolrm_lenient``).

Small models asked for tools with ``tool_choice="auto"`` often skip the Hermes tags and
write the call as bare JSON, fenced JSON or a JSON list. vLLM's stock ``hermes`` parser
returns no tool calls for those, and the agent sees plain text. This plugin reads all of
them into OpenAI ``tool_calls``::

    python -m vllm.entrypoints.openai.api_server --model DIR \\
        --enable-auto-tool-choice --tool-call-parser toolrm_lenient \\
        --tool-parser-plugin toolrm_agent/integrations/vllm_tool_parser.py

What counts as a call, in order:

1. ``<tool_call>{"name": .., "arguments": ..}</tool_call>`` blocks (several allowed);
2. JSON anywhere in the text, bare or in a code fence, that *looks like a call*: an object
   with a string ``name`` and ``arguments`` (or ``parameters``), an OpenAI
   ``{"function": {...}}`` object, xLAM's ``{"tool_calls": [...]}``, or a list of those;
   several such values in one message give several calls;
3. a BFCL call string such as ``[get_weather(city='Paris')]``, only when every function
   it names is one of the request's tools (so ordinary prose is never taken for a call).

All or nothing: if any candidate call cannot be read (invalid JSON inside the tags, a
non-object ``arguments``, a ``{"name": ...`` left unfinished because the answer hit
``max_tokens``), the parser returns **no** calls and the whole text as content,
so nothing is lost: :func:`toolrm_agent.core.parsing.proposal_from_message` on the client side
parses that content again and the critic sees the broken call as a ``ParseFailure``.

Never raises: :func:`extract_tool_calls_lenient` returns no calls for any text it cannot
read (deep nesting, lone surrogates, megabytes), and the vLLM class falls back to "no
calls, whole text as content" if anything below it fails, so a strange answer never
turns into a server error.

Streaming responses keep vLLM's Hermes behaviour (tagged calls only); the lenient reading
applies to complete (non-streamed) responses, which is what the critic judges.

The parsing itself is the pure function :func:`extract_tool_calls_lenient`, built on
:func:`toolrm_agent.core.parsing.parse_text` and testable without vLLM. The vLLM parser class
is defined and registered only when vLLM is already imported, i.e. when the server loads
this file; importing it anywhere else costs nothing and never imports vLLM.

The server's Python needs ``toolrm_agent`` importable (``scripts/setup_vllm.sh`` installs
the project into ``.venv-vllm`` with ``--no-deps``; it needs only pydantic, which vLLM has).
When the project is not installed there, this file falls back to the checkout it lives in.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

try:
    from toolrm_agent.core.calls import ToolCall
    from toolrm_agent.core.parsing import arguments_json, json_spans, looks_like_call, parse_text
except ImportError:  # loaded by path into a vLLM venv without the project installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from toolrm_agent.core.calls import ToolCall
    from toolrm_agent.core.parsing import arguments_json, json_spans, looks_like_call, parse_text

_LOG = logging.getLogger(__name__)

PARSER_NAME = "toolrm_lenient"
"""The name to pass as ``--tool-call-parser``."""

CallStyle = Literal["hermes", "json", "bfcl", "none"]

_TAG = "<tool_call>"
_EMPTY_FENCE = re.compile(r"```[A-Za-z_]*\s*```")
_CALL_START = re.compile(r'\{\s*"(?:name|function|tool_calls)"\s*:')
# where a call-like JSON value can start: an object with a (string) key, or a list whose
# first item is an object; ``{}``, ``[]``, ``[[``, ``{ x`` can never be a call
_JSON_START = re.compile(r'\{(?=\s*")|\[(?=\s*\{)')


@dataclass(frozen=True)
class LenientExtraction:
    """What :func:`extract_tool_calls_lenient` found in one model output."""

    calls: tuple[ToolCall, ...]
    """The calls, in the order written; empty when the output holds none (or a broken one)."""
    content: str | None
    """Text for the client next to the calls; the whole output when there are no calls."""
    style: CallStyle
    """How the calls were written (``"none"`` when no calls were returned)."""

    @property
    def tools_called(self) -> bool:
        return bool(self.calls)


def extract_tool_calls_lenient(
    text: str, tool_names: Collection[str] | None = None
) -> LenientExtraction:
    """Read the tool calls a model wrote as text, in any of the styles above.

    Args:
        text: the complete model output.
        tool_names: the functions offered in the request; needed only to accept BFCL call
            strings (``f(a=1)``), which are otherwise too easy to confuse with prose.
    """
    text = text if isinstance(text, str) else ""
    if _TAG in text:
        tagged = parse_text(text)
        if tagged.calls and not tagged.failures:
            before = text[: text.find(_TAG)].strip()
            return LenientExtraction(tagged.calls, before or None, "hermes")
        return _no_calls(text)

    spans = list(_call_like_json_spans(text))
    if spans:
        calls: list[ToolCall] = []
        for start, end in spans:
            parsed = parse_text(text[start:end])
            if parsed.failures or not parsed.calls:
                return _no_calls(text)
            calls.extend(parsed.calls)
        rest = _text_around(text, spans)
        if rest and _CALL_START.search(rest):  # a call cut short (max_tokens) or broken
            return _no_calls(text)
        return LenientExtraction(tuple(calls), rest, "json")

    if tool_names:
        parsed = parse_text(text)
        offered = set(tool_names)
        if parsed.calls and not parsed.failures and all(c.name in offered for c in parsed.calls):
            return LenientExtraction(parsed.calls, None, "bfcl")
    return _no_calls(text)


def _no_calls(text: str) -> LenientExtraction:
    return LenientExtraction((), text, "none")


def _call_like_json_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every top-level JSON value in ``text`` that looks like a call
    (:func:`toolrm_agent.core.parsing.looks_like_call`).

    Only positions where a call can start (:data:`_JSON_START`) are decoded, found with
    one regex scan, so prose full of brackets costs one pass; JSON nested past the
    recursion limit is not a call.
    """
    for start, end, value in json_spans(text, starts=_JSON_START):
        if looks_like_call(value):
            yield start, end


def _text_around(text: str, spans: list[tuple[int, int]]) -> str | None:
    """The text outside the call spans, with the code fences they leave empty removed."""
    pieces, last = [], 0
    for start, end in spans:
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    rest = _EMPTY_FENCE.sub("", "".join(pieces)).strip()
    return rest or None


def offered_tool_names(tools: Any) -> list[str]:
    """Function names of a request's tools: vLLM request objects (``.function.name``),
    OpenAI dicts (``{"function": {"name"}}`` or bare ``{"name"}``) and LangChain tools."""
    names: list[str] = []
    if not isinstance(tools, list | tuple):
        return names
    for tool in tools:
        if isinstance(tool, dict):
            function = tool.get("function", tool)
            name = function.get("name") if isinstance(function, dict) else None
        else:
            function = getattr(tool, "function", None)
            name = getattr(function, "name", None) or getattr(tool, "name", None)
        if isinstance(name, str):
            names.append(name)
    return names


# ----------------------------------------------------------------------- the vLLM side


def _register_with_vllm() -> type:
    """Define the vLLM parser class and register it as :data:`PARSER_NAME`."""
    from vllm.entrypoints.generate.base.protocol import (
        ExtractedToolCallInformation,
        FunctionCall,
    )
    from vllm.entrypoints.generate.base.protocol import ToolCall as VllmToolCall
    from vllm.tool_parsers.abstract_tool_parser import ToolParserManager
    from vllm.tool_parsers.hermes_tool_parser import Hermes2ProToolParser

    # vLLM is an optional backend without type information here (ignore_missing_imports):
    # its parser base class is Any to mypy
    class ToolRMLenientToolParser(Hermes2ProToolParser):  # type: ignore[misc]
        """Hermes parser that also reads bare, fenced and listed JSON calls.

        Inherits the Hermes request adjustments (special tokens kept, structural tags for
        forced ``tool_choice``) and the Hermes streaming parser.
        """

        def extract_tool_calls(self, model_output: str, request: Any) -> Any:
            """The lenient reading; on any failure, no calls and the whole text as content."""
            try:
                found = extract_tool_calls_lenient(
                    model_output, tool_names=offered_tool_names(getattr(request, "tools", None))
                )
                if found.calls:
                    return ExtractedToolCallInformation(
                        tools_called=True,
                        tool_calls=[
                            VllmToolCall(
                                type="function",
                                function=FunctionCall(
                                    name=call.name, arguments=arguments_json(call.arguments)
                                ),
                            )
                            for call in found.calls
                        ],
                        content=found.content,
                    )
            except Exception:  # noqa: BLE001 - the guard: a parser bug must not fail the request
                _LOG.exception(
                    "toolrm_lenient: could not read the model output; returning it as text"
                )
            return ExtractedToolCallInformation(
                tools_called=False, tool_calls=[], content=model_output
            )

    ToolParserManager.register_module(PARSER_NAME, module=ToolRMLenientToolParser)
    return ToolRMLenientToolParser


if "vllm" in sys.modules:  # loaded by the vLLM server (--tool-parser-plugin)
    ToolRMLenientToolParser = _register_with_vllm()


__all__ = ["PARSER_NAME", "LenientExtraction", "extract_tool_calls_lenient", "offered_tool_names"]
