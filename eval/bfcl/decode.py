"""Decode recorded model outputs (every style found in BFCL result files) into Proposals.

A recorded ``result`` is either a list (function-calling APIs: ``[{name: arguments}]``)
or a string written by the model. Strings come in many dialects. Styles are detected
from the content, never from the model name, so models never seen before decode too:

==================  ===========================================================
style               looks like
==================  ===========================================================
``fc_list``         ``[{"f": "{\\"a\\": 1}"}]`` (arguments a JSON string or a dict);
                    a text answer of such a model is no call
``hermes``          ``<tool_call>{"name": "f", "arguments": {...}}</tool_call>``
                    (JSON, or JSON written with single quotes)
``tagged_json``     ``<function_call> {"name": ..., "arguments": ...}`` (granite),
                    ``<|python_tag|>``, ``[TOOL_CALLS]``, ``<functioncall>``, ...
``json``            ``{"tool_calls": [...]}`` (xLAM), ``[{"name", "arguments"}]``,
                    ``[{"function": "f", "parameters": {...}}]``
``name_json``       ``f\\n{"a": 1}`` (glm), also after a sentence of prose
``python``          ``[f(a=1), g(b='x')]`` (BFCL prompting), with or without brackets,
                    ``f(a=1); g(b=2);`` (Raven)
``python_quoted``   like ``python``, plus calls quoted as strings: ``['f(a=1)']``
==================  ===========================================================

BFCL's leaderboard scores all outputs of a model with one handler, so the style is
decided once per model (:func:`dominant_style`, the most common style of its outputs)
and an output in another style counts as a format error, as it did there. Without a
model style, :func:`decode` detects each output's own style.

Every output is cleaned first: reasoning traces (``<think>...</think>``) and trailing
end-of-turn tokens are dropped and markdown-escaped underscores (``get\\_x``) are
unescaped. Calls to a "no function fits" pseudo-function (:data:`DECLINE_NAMES`, e.g.
Raven's ``out_of_domain``) are dropped. With ``functions`` (the BFCL docs or names
offered), FC-style names are mapped back to the offered ones: ``math_factorial`` →
``math.factorial`` when only ``math.factorial`` was offered.

Python call strings are read by the project's one Python-call reader
(:mod:`toolrm_agent.core.pycalls`, also behind :mod:`toolrm_agent.core.parsing`) with
BFCL's options: like BFCL's own ``ast_parse`` (keyword arguments only; arithmetic is
evaluated; tuples stay tuples; a call without keywords inside a value is kept as its
source text), with no ``eval`` of anything but number arithmetic. A bare name as a
value (``angle=theta``) is a variable, not a value (``bare_names="variable"``): such a
call is a parse failure, as on the 2024 leaderboard (BFCL v4, and
:func:`toolrm_agent.core.parsing.parse_text` by default, read the string ``"theta"``).
Hermes blocks are found by :func:`toolrm_agent.core.parsing.hermes_blocks` and reasoning is
removed by :func:`toolrm_agent.core.thinking.strip_thinking`; what stays here is BFCL-specific:
the recorded-output styles and how each is read, and the name mapping.

By default outputs are read strictly, as the leaderboard read them: backticks around an
answer are stripped, but a call list inside a language-tagged fence (`````python``) or
followed by prose is a format error. Re-scoring uses this reading, so it reproduces the
recorded accuracies.

``decode(..., lenient=True)`` reads what the model meant instead (TRBench pairs use it: a
rejected answer should be what the model meant to call). It opens code fences, reads each
fence in its own style, and finds call lists and JSON calls inside prose or behind broken
chat-template tokens (``<|im_start|>{"name": ...}``). It also binds positional arguments to
the declared parameters and stops at a turn the model made up (``<|im_start|>assistant``).
An output that still holds no call, but names an offered function the way a call does
(``f(``, ``"name": "f"``), becomes a :class:`ParseFailure`, not "no call". See
:func:`_read_lenient` for the order of the readings.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall
from toolrm_agent.core.parsing import (
    hermes_blocks,
    parse_bfcl_fc,
    parse_json_calls,
    proposal_from_items,
)
from toolrm_agent.core.pycalls import POSITIONAL_KEY as _POSITIONAL
from toolrm_agent.core.pycalls import PythonSyntax, Unreadable, read_call, read_value
from toolrm_agent.core.thinking import strip_thinking

__all__ = [
    "DECLINE_NAMES",
    "STYLES",
    "clean_text",
    "decode",
    "detect_style",
    "dominant_style",
    "format_notes",
    "map_names",
]

STYLES: tuple[str, ...] = (
    "fc_list",
    "hermes",
    "tagged_json",
    "json",
    "name_json",
    "python",
    "python_quoted",
)
#: A model whose call outputs are quoted call strings at least this often writes calls
#: that way on purpose (``python_quoted``); below it, quoted strings are format errors.
QUOTED_HABIT = 0.2

# --------------------------------------------------------------------------- cleaning

# End-of-turn markers a model may leave at the end of its answer. A special token at the
# *start* (``<|im_start|>{...}``) means the model broke its chat template: left alone,
# such an output reads as no call, as it did on the leaderboard.
_TRAILING_SPECIAL = re.compile(
    r"(?:\s*(?:<\|(?:im_end|eot_id|eom_id|end|endoftext)\|>|</s>|<end_of_turn>))+\s*$"
)
_FENCE = re.compile(r"```[ \t]*([A-Za-z_][\w+-]*)?[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)
_ESCAPED_UNDERSCORE = re.compile(r"\\_")


def clean_text(text: str) -> str:
    """Drop reasoning traces and trailing end-of-turn tokens; unescape ``\\_``."""
    # a trace whose opening tag was in the prompt leaves a lone closing tag: the answer
    # follows the last one; an unclosed trace is kept (the calls may be inside)
    text = strip_thinking(text, unclosed="keep", lone_close="last", sep="")
    text = _TRAILING_SPECIAL.sub("", text)
    text = _ESCAPED_UNDERSCORE.sub("_", text)
    return text.strip()


def _fenced_blocks(text: str) -> list[str]:
    """Contents of the code fences in ``text`` (an unclosed last fence runs to the end)."""
    return [m.group(2).strip() for m in _FENCE.finditer(text) if m.group(2).strip()]


# --------------------------------------------------------------------- python calls

#: BFCL's reading of Python calls (its 2024 leaderboard): keyword arguments only, values as
#: ``resolve_ast_by_type`` reads them, a bare name is a variable (the call fails).
_STRICT = PythonSyntax(bare_names="variable", positional="ignore", dialect="bfcl")
#: The lenient reading keeps positional arguments under :data:`_POSITIONAL` to bind them
#: to parameter names (:func:`_bind_positional`); never left in a decoded call.
_LENIENT = replace(_STRICT, positional="keep")


def _python_calls(body: ast.expr) -> list[ast.Call] | None:
    """The calls of ``[f(), g()]`` / ``f()`` / ``(f(), g())``; None if anything else."""
    if isinstance(body, ast.Call):
        return [body]
    if isinstance(body, (ast.List, ast.Tuple)) and body.elts:
        if all(isinstance(e, ast.Call) for e in body.elts):
            return list(body.elts)  # type: ignore[arg-type]
    return None


def _parse_python(
    text: str, quoted: bool = False, syntax: PythonSyntax = _STRICT
) -> Proposal | None:
    """A BFCL prompting answer, or None when ``text`` is not a Python call list.

    With ``quoted``, calls written as strings (``['f(a=1)']``, ``'f'(a=1)``) count too.
    """
    body = text.strip().strip("`").strip()
    if not body:
        return None
    if body.endswith(";") or re.search(r"\);\s*\S", body):  # Raven: f(a=1); g(b=2);
        parts = [p.strip() for p in _split_top_level(body, ";") if p.strip()]
        body = "[" + ", ".join(parts) + "]"
    candidates = [body]
    if not body.startswith("["):
        candidates.append(f"[{body}]")
    for candidate in candidates:
        try:
            tree = ast.parse(candidate, mode="eval")
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
        calls = _python_calls(tree.body)
        if calls is None:
            strings = _quoted_calls(tree.body, syntax) if quoted else None
            if strings is not None:
                return strings.override(content=text)
            continue
        items: list[ToolCall | ParseFailure] = []
        reading = replace(syntax, quoted_names=quoted)
        for call in calls:
            try:
                name, args = read_call(call, reading)
                items.append(ToolCall(name=name, arguments=args))
            except (Unreadable, RecursionError, TypeError) as exc:
                items.append(ParseFailure(raw=ast.unparse(call), reason=str(exc)))
        return proposal_from_items(items, text)
    return None


def _quoted_calls(body: ast.expr, syntax: PythonSyntax) -> Proposal | None:
    """``['f(a=1)', 'g(b=2)']``: a list of call strings (dbrx, arctic, nemotron)."""
    if not isinstance(body, (ast.List, ast.Tuple)) or not body.elts:
        return None
    if not all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in body.elts):
        return None
    items: list[ToolCall | ParseFailure] = []
    for elt in body.elts:
        inner = str(elt.value).strip()  # type: ignore[attr-defined]
        if not re.match(r"^\[?\s*[A-Za-z_][\w.]*\s*\(", inner):
            return None
        parsed = _parse_python(inner, quoted=True, syntax=syntax)
        if parsed is None:
            items.append(ParseFailure(raw=inner, reason="quoted call string is not a Python call"))
            continue
        items.extend(parsed.calls)
        items.extend(parsed.failures)
    return proposal_from_items(items, "")


def _outside_strings(text: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """``(index, character)`` of ``text[start:]`` outside string literals (quotes and
    backslash escapes respected; the quote characters themselves are not yielded)."""
    quote, i = "", start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        else:
            yield i, ch
        i += 1


def _split_top_level(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside brackets and string literals."""
    parts, depth, start = [], 0, 0
    for i, ch in _outside_strings(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _balanced(text: str, start: int) -> int | None:
    """Index just past the bracket group opening at ``text[start]`` (strings respected)."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack: list[str] = []
    for i, ch in _outside_strings(text, start):
        if ch in pairs:
            stack.append(pairs[ch])
        elif ch in ")]}":
            if not stack or stack.pop() != ch:
                return None
            if not stack:
                return i + 1
    return None


# ----------------------------------------------------------------------------- JSON

_NAME_KEYS = (
    "name",
    "function",
    "tool",
    "tool_name",
    "function_name",
    "api",
    "api_name",
    "func",
    "function_call",
)
_ARG_KEYS = ("arguments", "parameters", "args", "params", "kwargs", "input", "argument")


def _loads(text: str, *, strict: bool = True) -> Any:
    """JSON; with ``strict=False`` also JSON written with single quotes."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        if strict or "'" not in text:
            raise
    return json.loads(text.replace("'", '"'))


def _normalise_item(obj: Any) -> Any:
    """Bring call dialects to ``{"name", "arguments"}`` for :func:`parse_json_calls`."""
    if isinstance(obj, list):
        return [_normalise_item(o) for o in obj]
    if not isinstance(obj, dict):
        return obj
    if isinstance(obj.get("tool_calls"), list):
        return {"tool_calls": [_normalise_item(o) for o in obj["tool_calls"]]}
    if isinstance(obj.get("function"), dict):  # OpenAI tool call
        return obj
    key = next((k for k in _NAME_KEYS if isinstance(obj.get(k), str)), None)
    if key is not None:
        arg_key = next((k for k in _ARG_KEYS if k in obj), None)
        if arg_key is not None:
            return {"name": obj[key], "arguments": obj[arg_key]}
        # {"name": "f", "a": 1}: the arguments written next to the name
        return {"name": obj[key], "arguments": {k: v for k, v in obj.items() if k != key}}
    return obj


def _from_json_value(value: Any, text: str) -> Proposal | None:
    """Decoded JSON → Proposal, or None when it is not a call structure."""
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        value = [item for sub in value for item in sub]  # [[{...}, {...}]]
    if not isinstance(value, (dict, list)) or not value:
        return None
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, dict) for i in items):
        return None
    normalised = _normalise_item(value)
    # {name: {args}} items (BFCL decoded format) pass through parse_json_calls as well.
    parsed = parse_json_calls(json.dumps(normalised, default=str))
    if not parsed.calls and not any(f.name for f in parsed.failures):
        return None
    return parsed.override(content=text)


def _parse_json(text: str, *, strict: bool = True) -> Proposal | None:
    body = text.strip()
    if not body or body[0] not in "[{":
        return None
    try:
        value = _loads(body, strict=strict)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None
    return _from_json_value(value, text)


def _json_objects(text: str, loads: Callable[[str], Any] | None = None) -> list[Any]:
    """Every top-level JSON object/array in ``text``, in order (``loads`` reads each)."""
    loads = loads or _loads
    out: list[Any] = []
    i = 0
    while i < len(text):
        if text[i] in "{[":
            end = _balanced(text, i)
            if end is not None:
                try:
                    out.append(loads(text[i:end]))
                    i = end
                    continue
                except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
                    pass
        i += 1
    return out


# ------------------------------------------------------------------- tagged styles

_TAGS = re.compile(
    r"<function_call>|<functioncall>|<\|python_tag\|>|\[TOOL_CALLS\]|<tool_calls>|"
    r"<\|tool_call\|>|<function_calls>|<TOOLCALL>",
)


def _parse_hermes(text: str, syntax: PythonSyntax = _STRICT) -> Proposal:
    items: list[ToolCall | ParseFailure] = []
    for body in hermes_blocks(text):
        fenced = _fenced_blocks(body)
        body = fenced[0] if fenced else body
        parsed = _parse_json(body, strict=False) or _parse_python(body, syntax=syntax)
        if parsed is None:
            name = re.search(r"""["']name["']\s*:\s*["']([^"']+)["']""", body)
            items.append(
                ParseFailure(
                    name=name.group(1) if name else None,
                    raw=body,
                    reason="<tool_call> block is neither JSON nor a Python call",
                )
            )
            continue
        items.extend(parsed.calls)
        items.extend(parsed.failures)
    return proposal_from_items(items, text)


def _parse_tagged(text: str, syntax: PythonSyntax = _STRICT) -> Proposal:
    """``<function_call> {...} <function_call> {...}`` and similar tag + JSON styles."""
    items: list[ToolCall | ParseFailure] = []
    for chunk in _TAGS.split(text)[1:]:
        chunk = chunk.strip()
        objects = _json_objects(chunk)
        if not objects:
            parsed = _parse_python(chunk, syntax=syntax) or _leading_python(chunk, syntax=syntax)
            if parsed is None:
                items.append(ParseFailure(raw=chunk, reason="no JSON call after the tag"))
                continue
            items.extend(parsed.calls)
            items.extend(parsed.failures)
            continue
        parsed = _from_json_value(objects[0], chunk)
        if parsed is None:
            items.append(ParseFailure(raw=chunk, reason="JSON after the tag is not a call"))
            continue
        items.extend(parsed.calls)
        items.extend(parsed.failures)
    return proposal_from_items(items, text)


_NAME_JSON = re.compile(r"(?:^|\n|[.:!?`]\s*)([A-Za-z_][\w.]*)\s*\n\s*(\{.*\})\s*$", re.DOTALL)


def _parse_name_json(text: str) -> Proposal | None:
    """``f\\n{"a": 1}`` (glm): a function name on its own line, JSON arguments below."""
    match = _NAME_JSON.search(text)
    if not match:
        return None
    try:
        args = _loads(match.group(2))
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None
    if not isinstance(args, dict):
        return None
    return Proposal(calls=(ToolCall(name=match.group(1), arguments=args),), content=text)


# ------------------------------------------------------------------------- detection


_QUOTED_START = re.compile(r"""^\[\s*(?:['"]\s*[A-Za-z_][\w.]*\s*\(|[A-Za-z_][\w.]*['"]\s*\()""")


def _call_body(text: str) -> str:
    """Where the calls of a cleaned output should be: the text, or its first code fence."""
    body = text.strip("`\n ")
    if body[:1] in "[{" or _looks_like_call(body):
        return body
    blocks = _fenced_blocks(text)
    return blocks[0] if blocks else body


def detect_style(raw: Any) -> str:
    """The output style of one recorded ``result`` (see the module docstring)."""
    if isinstance(raw, (list, dict)):
        return "fc_list"
    text = clean_text(str(raw))
    if "<tool_call>" in text:
        return "hermes"
    if _TAGS.search(text):
        return "tagged_json"
    body = _call_body(text)
    if body[:1] == "{" or re.match(r"^\[\s*[{\[]", body):
        return "json"
    if _NAME_JSON.search(body) and not _looks_like_call(body):
        return "name_json"
    if _QUOTED_START.match(body):
        return "python_quoted"
    return "python"


def dominant_style(raws: Iterable[Any]) -> str:
    """The style most of a model's outputs are written in (its calls, not its prose).

    BFCL scores every output of a model with one handler; deciding the style once per
    model (by content) reproduces that, also for models never seen before: an output in
    another style than the model's own is a format error, as it was on the leaderboard.
    """
    counts: dict[str, int] = {}
    lists = texts = 0
    for raw in raws:
        if isinstance(raw, (list, dict)):
            lists += 1
            continue
        texts += 1
        text = clean_text(str(raw))
        style = detect_style(text)
        if style == "python" and not _looks_like_call(_call_body(text)):
            continue  # prose: says nothing about the style
        counts[style] = counts.get(style, 0) + 1
    if lists and lists >= texts:
        return "fc_list"
    if not counts:
        return "fc_list" if lists else "python"
    quoted = counts.pop("python_quoted", 0)
    plain = counts.get("python", 0)
    counts["python"] = plain + quoted
    best = max(counts, key=lambda k: (counts[k], k == "python"))
    if best == "python" and quoted >= QUOTED_HABIT * (plain + quoted):
        return "python_quoted"
    return best


def decode(
    raw: Any,
    *,
    model: str | None = None,
    style: str | None = None,
    functions: Iterable[Any] | None = None,
    lenient: bool = False,
) -> Proposal:
    """One recorded output → Proposal (never raises on bad input).

    ``style`` is the model's style (see :func:`dominant_style`): the output is read in
    that style only, as BFCL's per-model handlers do, so a prompting model's JSON answer
    or an FC API's text answer holds no call. Without ``style`` (or with ``"auto"`` /
    ``"prompt_string"``), each output's style is detected from its own content.
    ``model`` is accepted for model-specific quirks, but no decoding depends on it today.
    ``functions`` (BFCL docs, ToolSpecs or names) maps FC-style names back to the offered
    names.

    By default an output is read the way BFCL's leaderboard reads it (which is what the
    recorded accuracies measure): a call list inside a language-tagged code fence
    (`````python``) or followed by prose is a format error. ``lenient=True`` reads what
    the model meant instead (see :func:`_read_lenient`): it opens code fences, reads
    each fence or output in its own style, finds call lists and JSON calls inside prose
    or broken chat-template tokens, and marks an output that still yields no call but
    clearly tries one (an offered function's name followed by ``(``, or as the value of
    a ``"name"`` key) as a parse failure rather than "no call".
    """
    del model  # kept for the API: styles are detected by content
    names = _names(functions)
    try:
        if lenient:
            proposal = _read_lenient(raw, style, functions)
        else:
            proposal = _decode(raw, style, lenient)
    except RecursionError:
        proposal = Proposal(
            failures=(ParseFailure(raw=str(raw)[:2000], reason="too deeply nested"),)
        )
    if names:
        proposal = map_names(proposal, names)
    if lenient:
        proposal = _bind_positional(proposal, functions)
    return _drop_declines(proposal, set(names))


#: Names some models call to say that no offered function fits (Raven's
#: ``out_of_domain``, granite's ``no_function``): such a call is no call, unless a
#: function of that name was offered.
DECLINE_NAMES: frozenset[str] = frozenset(
    {"out_of_domain", "no_function", "no_tool", "no_tool_call"}
)


def _drop_declines(proposal: Proposal, offered: set[str]) -> Proposal:
    kept = tuple(c for c in proposal.calls if c.name not in DECLINE_NAMES or c.name in offered)
    return proposal if len(kept) == len(proposal.calls) else proposal.override(calls=kept)


def _decode(
    raw: Any, style: str | None, lenient: bool, syntax: PythonSyntax = _STRICT
) -> Proposal:
    if raw is None:
        return Proposal()
    if style in (None, "", "auto", "prompt_string", "prompting"):
        style = detect_style(raw)
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; expected one of {', '.join(STYLES)}")
    if isinstance(raw, (list, dict)):
        if isinstance(raw, list) and not raw:
            return Proposal()
        items = raw if isinstance(raw, list) else [raw]
        if all(isinstance(i, dict) and len(i) == 1 for i in items):
            return parse_bfcl_fc(raw)
        parsed = _from_json_value(raw, "")
        return parsed if parsed is not None else parse_bfcl_fc(raw)
    text = str(raw)
    if style == "fc_list":  # a function-calling API that answered in text: no call
        return Proposal(content=text)
    return _decode_text(text, style, lenient, syntax)


def _looks_like_call(text: str) -> bool:
    return bool(re.match(r"^\[?\s*[\"']?[A-Za-z_][\w.]*[\"']?\s*\(", text.strip("`\n ")))


def _decode_text(
    raw: str, style: str, lenient: bool, syntax: PythonSyntax = _STRICT
) -> Proposal:
    text = clean_text(raw)
    if not text:
        return Proposal(content=raw)
    if style == "hermes":
        return _parse_hermes(text, syntax).override(content=raw)
    if style == "tagged_json":
        return _parse_tagged(text, syntax).override(content=raw)
    # BFCL strips backticks around an answer; a fence's language tag then breaks it.
    bodies = [text.strip("`\n ")] + (_fenced_blocks(text) if lenient else [])
    if style in _JSON_READERS:
        read, reason = _JSON_READERS[style]
        for body in bodies:
            parsed = read(body)
            if parsed is not None:
                return parsed.override(content=raw)
        return _no_call(raw, text, reason)
    quoted = style == "python_quoted"
    for body in bodies:  # python
        parsed = _parse_python(body, quoted, syntax)
        if parsed is None and lenient:
            parsed = _call_lines(body, quoted, syntax) or _leading_python(body, quoted, syntax)
        if parsed is not None:
            return parsed.override(content=raw)
    return _no_call(raw, text, "not a Python call list")


_JSON_READERS: dict[str, tuple[Callable[[str], Proposal | None], str]] = {
    "json": (_parse_json, "not a JSON call"),
    "name_json": (_parse_name_json, "no function name followed by JSON arguments"),
}


def _no_call(raw: str, text: str, reason: str) -> Proposal:
    """Prose is no call; something that starts like a call but does not parse is a failure."""
    if _looks_like_call(text) or text.lstrip().startswith(("{", "[{")):
        return Proposal(failures=(ParseFailure(raw=text[:2000], reason=reason),), content=raw)
    return Proposal(content=raw)


def format_notes(raw: Any, style: str) -> list[str]:
    """What is unusual about one output for a model of ``style`` (for reports).

    Notes name the formats that BFCL's leaderboard and this decoder may read
    differently: ``code fence``, ``prose after the call list``, an output in another
    style than the model's (``json output``), ``quoted call strings``, ``variable as an
    argument value``, ``chat template tokens``.
    """
    if isinstance(raw, (list, dict)) or raw is None:
        return []
    text = clean_text(str(raw))
    notes = []
    if "```" in text:
        notes.append("code fence")
    if re.search(r"<\|[a-z_]+\|>", text):
        notes.append("chat template tokens")
    own = detect_style(text)
    body = _call_body(text)
    if own != style and own != "python" and not (own, style) == ("python_quoted", "python"):
        notes.append(f"{own} output")
    if own == "python_quoted" and style == "python":
        notes.append("quoted call strings")
    if style in ("python", "python_quoted") and own in ("python", "python_quoted"):
        strict = _parse_python(body, style == "python_quoted")
        if strict is None and _leading_python(body, style == "python_quoted") is not None:
            notes.append("prose after the call list")
        elif strict is not None and any("variable" in f.reason for f in strict.failures):
            notes.append("variable as an argument value")
    return notes


def _call_lines(
    text: str, quoted: bool = False, syntax: PythonSyntax = _STRICT
) -> Proposal | None:
    """One call per line, no list around them: ``f(a=1)\n\nf(a=2)``."""
    lines = [line.strip().rstrip(",;") for line in text.splitlines() if line.strip()]
    if len(lines) < 2 or not all(_looks_like_call(line) for line in lines):
        return None
    parsed = _parse_python("[" + ", ".join(lines) + "]", quoted, syntax)
    return parsed if parsed is not None and parsed.calls else None


def _leading_python(
    text: str, quoted: bool = False, syntax: PythonSyntax = _STRICT
) -> Proposal | None:
    """A call list at the very start, followed by prose: ``[f(a=1)]\n\nThis computes ...``."""
    match = re.match(r"^\s*(\[?)\s*[A-Za-z_][\w.]*\s*\(", text)
    if not match:
        return None
    open_at = match.start(1) if match.group(1) else text.index("(")
    end = _balanced(text, open_at)
    if end is None:
        return None
    parsed = _parse_python(text[:end], quoted, syntax)
    return parsed if parsed is not None and parsed.calls else None


# ------------------------------------------------------------------- lenient reading


def _read_lenient(raw: Any, style: str | None, functions: Iterable[Any] | None) -> Proposal:
    """What the model meant to call (``decode(..., lenient=True)``).

    The first of these readings that holds a call of an offered function (any call when
    no functions are given) wins:

    1. the output in the model's style, code fences opened, a leading call list
       followed by prose taken;
    2. the output, then each code fence, in its own style (a prompting model's JSON
       answer, ``<functioncall>`` inside a fence, a python call in an FC model's text);
    3. JSON calls anywhere in the text (``<|im_start|>{"name": ...}``, ``<?xml ?>{...}``,
       Python literals such as ``[{'func': 'f', 'params': {...}}]`` or
       ``[('f', {...}), ('g', {...})]``);
    4. Python calls of offered functions anywhere in the text (``Here is the call:
       [f(a=1)]``, ``return ["f(a=1)"]``, ``functions.f(a=1)``); a call found there
       that cannot be read is a parse failure;
    5. argument objects for the one function meant: the only offered function named in
       the text (``use `f` with {"a": 1}``), or the only function offered when every
       key is one of its parameters.

    Otherwise the model-style reading stands (a call of an unknown function stays that
    call), and an output that still holds no call but names an offered function the way
    a call does (:func:`_call_attempt`) is a parse failure, not "no call". Positional
    arguments are kept and bound to parameter names later (:func:`_bind_positional`).
    """
    names = _names(functions)
    base = _decode(raw, style, lenient=True, syntax=_LENIENT)
    if raw is None or isinstance(raw, (list, dict)):
        return base
    if base.calls and _offered(base, names):
        return base
    text = clean_text(str(raw))
    found = _lenient_text(text, names, _parameter_order(functions))
    if found is not None and (found.calls or not (base.calls or base.failures)):
        return found.override(content=str(raw))
    if base.calls:
        return base
    attempt = _call_attempt(text, names)
    if base.failures:  # name the function the broken call was meant for, where it shows
        return base.override(
            failures=tuple(
                f if f.name else f.model_copy(update={"name": attempt}) for f in base.failures
            )
        )
    if attempt is not None:
        failure = ParseFailure(
            name=attempt, raw=text[:2000], reason="call attempt that cannot be read"
        )
        return Proposal(failures=(failure,), content=str(raw))
    return base


#: Where a model that lost track of its chat template starts a turn of its own.
_NEW_TURN = re.compile(
    r"<\|im_start\|>\s*(?:assistant|user|system)\b|<\|(?:start|end)_header_id\|>"
    r"|^\s*#{2,}\s*(?:Response|Instruction|Question)\b",
    re.MULTILINE,
)


def _first_turn(text: str) -> str:
    """``text`` up to the first turn the model made up (``<|im_start|>assistant``,
    ``### Response:``) after some answer: the repeats that follow are not its answer."""
    for match in _NEW_TURN.finditer(text):
        if text[: match.start()].strip():
            return text[: match.start()].strip()
    return text


def _offered(proposal: Proposal, names: Sequence[str]) -> bool:
    """Does ``proposal`` call an offered function (True for any call without ``names``)?"""
    if not names:
        return bool(proposal.calls)
    keys = {_key(n) for n in names}
    return any(_key(c.name) in keys for c in proposal.calls)


def _lenient_text(
    text: str, names: Sequence[str], params: Mapping[str, list[str]]
) -> Proposal | None:
    """Readings 2 to 5 of :func:`_read_lenient`; None when none finds anything."""
    text = _first_turn(text)
    if not text:
        return None
    for body in [text, *_fenced_blocks(text)]:  # 2. each body in its own style
        own = detect_style(body)
        parsed = _decode_text(body, own, lenient=False, syntax=_LENIENT)
        if not parsed.calls and own in ("python", "python_quoted"):
            quoted = own == "python_quoted"
            parsed = _leading_python(body.strip("`\n "), quoted, _LENIENT) or parsed
        if parsed.calls and _offered(parsed, names):
            return parsed
    # 3. JSON calls anywhere: the first call list, or every call object (one per block)
    calls: list[ToolCall] = []
    objects = _json_objects(text, loads=_loads_lenient)
    for obj in objects:
        try:
            found = _name_args_list(obj, names) or _from_json_value(obj, "")
        except (TypeError, ValueError, RecursionError):
            continue
        if found is None or not found.calls or not _offered(found, names):
            continue
        if isinstance(obj, list):  # a whole answer; what follows is often made-up turns
            if not calls:
                return Proposal(calls=found.calls)
            break
        calls.extend(found.calls)
    if calls:
        return Proposal(calls=tuple(calls))
    scanned = _scan_python(text, names)  # 4. python calls of offered functions
    if scanned is not None and scanned.calls:
        return scanned
    meant = _arguments_for_the_one_function(text, names, params, objects)  # 5.
    return meant if meant is not None else scanned


def _loads_lenient(text: str) -> Any:
    """JSON, or a Python literal (single quotes, ``True``/``None``, number arithmetic)
    that JSON can hold."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        try:
            value = read_value(ast.parse(text.strip(), mode="eval").body, _LENIENT)
        except (SyntaxError, Unreadable, MemoryError) as exc:
            raise ValueError(str(exc)) from exc
    return json.loads(json.dumps(value))  # TypeError/ValueError on tuples as keys, sets, ...


def _name_pattern(name: str) -> str:
    """A regex for an offered name as a model may write it (``a.b`` or ``a_b``, optionally
    in OpenAI's ``functions.`` namespace)."""
    return r"(?<![\w.])(?:functions\.)?" + re.sub(r"\\\.|_", "[._]", re.escape(name)) + r"(?![\w])"


def _name_args_list(obj: Any, names: Sequence[str]) -> Proposal | None:
    """Names of offered functions, each followed by its arguments, in one list:
    ``['f', {"a": 1}]``, ``[('f', {"a": 1}), ('g', {"b": 2})]``, ``[('f', {..}), 'g', {..}]``."""
    if not isinstance(obj, list) or not obj:
        return None
    tokens: list[Any] = []
    for item in obj:
        tokens.extend(item if isinstance(item, list) else [item])
    pairs = list(zip(tokens[::2], tokens[1::2], strict=False))
    if (
        len(tokens) % 2
        or not all(isinstance(n, str) and isinstance(a, dict) for n, a in pairs)
        or not any(_key(n) in {_key(o) for o in names} for n, _ in pairs)
    ):
        return None
    return Proposal(calls=tuple(ToolCall(name=n, arguments=a) for n, a in pairs))


def _scan_python(text: str, names: Sequence[str]) -> Proposal | None:
    """Python calls of offered functions wherever they are in ``text``.

    A call inside a list (``[f(a=1), g(b=2)]``, ``['f(a=1)']``) is read with its list;
    a definition (``def f(...)``) is no call; OpenAI's ``functions.`` namespace is
    dropped. None when no offered name is followed by ``(``; a call that does not parse
    is a :class:`ParseFailure`.
    """
    if not names:
        return None
    pattern = re.compile("|".join(_name_pattern(n) + r"\s*\(" for n in names), re.IGNORECASE)
    items: list[ToolCall | ParseFailure] = []
    done = 0
    for match in pattern.finditer(text):
        if match.start() < done or re.search(r"\bdef\s+$", text[: match.start()]):
            continue
        start = match.start()
        before = re.search(r"\[[\s`'\"]*$", text[:start])
        if before is not None:
            start = before.start()
        end = _balanced(text, start if before is not None else match.end() - 1)
        if end is None:  # a list that does not close: read the call alone
            start, end = match.start(), _balanced(text, match.end() - 1)
        if end is None:
            items.append(ParseFailure(raw=text[match.start() :][:2000], reason="unclosed call"))
            break
        parsed = _parse_python(_call_source(text[start:end]), True, _LENIENT)
        if parsed is None and start != match.start():  # a list of more than calls
            alone = _balanced(text, match.end() - 1)
            if alone is not None:
                start, end = match.start(), alone
                parsed = _parse_python(_call_source(text[start:end]), True, _LENIENT)
        done = end
        name = _offered_name(match.group(), names)
        if parsed is None:
            items.append(
                ParseFailure(name=name, raw=text[start:end][:2000], reason="not a Python call")
            )
            continue
        items.extend(parsed.calls)
        items.extend(f if f.name else f.model_copy(update={"name": name}) for f in parsed.failures)
    return proposal_from_items(items, "") if items else None


def _offered_name(written: str, names: Sequence[str]) -> str | None:
    """The offered name a model wrote (``functions.a_b (`` → ``a.b``)."""
    key = _key(re.sub(r"^functions\.|\s*\($", "", written.strip(), flags=re.IGNORECASE))
    return next((n for n in names if _key(n) == key), None)


def _call_source(segment: str) -> str:
    """A call found in prose, made readable: no backticks, no ``functions.`` namespace."""
    return re.sub(r"(?<![\w.])functions\.", "", segment.replace("`", ""))


_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")


def _arguments_for_the_one_function(
    text: str,
    names: Sequence[str],
    params: Mapping[str, list[str]],
    objects: Sequence[Any],
) -> Proposal | None:
    """Argument objects without a function name, for the one function they can be for.

    That function is the only offered one the text names (``use `f` with {"a": 1}``;
    any identifier keys), or else the only one offered, when every key is one of its
    parameters (``request = {"a": 1}``). A list of such objects is one call each.
    """
    named = [n for n in names if re.search(_name_pattern(n), text, re.IGNORECASE)]
    if len(named) == 1:
        target, allowed = named[0], None
    elif not named and len(names) == 1:
        target, allowed = names[0], set(params.get(names[0], ()))
    else:
        return None

    def fits(obj: Any) -> bool:
        return (
            isinstance(obj, dict)
            and bool(obj)
            and all(_IDENTIFIER.match(str(k)) for k in obj)
            and (allowed is None or set(obj) <= allowed)
        )

    for obj in objects:
        found = [obj] if fits(obj) else obj if isinstance(obj, list) and obj else []
        if found and all(fits(o) for o in found):
            return Proposal(calls=tuple(ToolCall(name=target, arguments=o) for o in found))
    return None


def _call_attempt(text: str, names: Sequence[str]) -> str | None:
    """The offered function an unreadable output tries to call, if it looks like a call:
    its name followed by ``(`` (also as a method or module: ``x.f(``, ``f.run(``) or by
    ``arguments:``, as the value of a ``"name"`` key, or quoted first in a list or set
    (``['f', 1, 2]``, ``{'f', 'parameters': ...}``)."""
    for name in names:
        pat = _name_pattern(name)
        called = r"(?<!\w)" + pat.removeprefix(r"(?<![\w.])") + r"(?:\.\w+)?\s*\("
        if (
            re.search(called, text, re.IGNORECASE)
            or re.search(pat + r"\s+arguments?\s*:", text, re.IGNORECASE)
            or re.search(r"""["']name["']\s*:\s*["']""" + pat, text, re.IGNORECASE)
            or re.search(r"""[\[{]\s*["']""" + pat + r"""["']""", text, re.IGNORECASE)
        ):
            return name
    return None


def _parameter_order(functions: Iterable[Any] | None) -> dict[str, list[str]]:
    """Offered name → its parameter names in declared order (BFCL docs, OpenAI dicts, specs)."""
    order: dict[str, list[str]] = {}
    for f in functions or ():
        if isinstance(f, Mapping):
            fn = f["function"] if isinstance(f.get("function"), Mapping) else f
            params = fn.get("parameters")
        else:
            fn, params = None, getattr(f, "parameters", None)
        name = fn.get("name") if fn is not None else getattr(f, "name", None)
        props = params.get("properties") if isinstance(params, Mapping) else None
        if isinstance(name, str) and isinstance(props, Mapping):
            order[name] = list(props)
    return order


def _bind_positional(proposal: Proposal, functions: Iterable[Any] | None) -> Proposal:
    """Bind positional arguments (kept by a lenient reading) to parameter names in the
    order the function declares them; a call that cannot be bound is a failure."""
    if not any(_POSITIONAL in c.arguments for c in proposal.calls):
        return proposal
    order = _parameter_order(functions)
    calls: list[ToolCall] = []
    failures = list(proposal.failures)
    for call in proposal.calls:
        if _POSITIONAL not in call.arguments:
            calls.append(call)
            continue
        args = dict(call.arguments)
        values = args.pop(_POSITIONAL)
        declared = order.get(call.name, [])
        free = [p for p in declared if p not in args]
        if len(values) == 1 and isinstance(values[0], dict) and values[0]:
            if set(values[0]) <= set(declared) and not args:  # f({"a": 1}): keywords as a dict
                calls.append(call.override(arguments=values[0]))
                continue
        if len(values) > len(free):
            failures.append(
                ParseFailure(
                    name=call.name,
                    raw=f"{call.name}(*{values!r}, **{args!r})"[:2000],
                    reason="positional arguments that do not bind to declared parameters",
                )
            )
            continue
        args.update(zip(free, values, strict=False))
        calls.append(call.override(arguments=args))
    return proposal.override(calls=tuple(calls), failures=tuple(failures))


# --------------------------------------------------------------------------- names


def _names(functions: Iterable[Any] | None) -> list[str]:
    names: list[str] = []
    for f in functions or ():
        if isinstance(f, str):
            names.append(f)
        elif isinstance(f, Mapping):
            fn = f.get("function", f) if isinstance(f.get("function"), Mapping) else f
            if isinstance(fn.get("name"), str):
                names.append(fn["name"])
        elif isinstance(getattr(f, "name", None), str):
            names.append(f.name)
    return names


def _key(name: str) -> str:
    return re.sub(r"[._\-/]", "_", name).lower()


def map_names(proposal: Proposal, functions: Sequence[Any]) -> Proposal:
    """Map call names onto the offered names where the match is unambiguous.

    FC APIs forbid ``.`` in names, so models write ``a_b`` for ``a.b``; some write the
    reverse. A name already offered is kept.
    """
    names = _names(functions)
    offered = set(names)
    by_key: dict[str, list[str]] = {}
    for n in names:
        by_key.setdefault(_key(n), []).append(n)
    calls = []
    changed = False
    for call in proposal.calls:
        if call.name not in offered:
            matches = by_key.get(_key(call.name), [])
            if len(matches) == 1:
                call = call.override(name=matches[0])
                changed = True
        calls.append(call)
    return proposal.override(calls=tuple(calls)) if changed else proposal
