"""Parse every common tool-call shape into a :class:`Proposal`, and render it back.

Shapes in: LangChain ``AIMessage`` (``tool_calls`` and ``invalid_tool_calls``), OpenAI
``tool_calls`` (JSON-string arguments), Hermes text (``<tool_call>{...}</tool_call>``,
several per message), JSON objects or lists (bare or in code fences, also xLAM's
``{"tool_calls": [...]}``), BFCL prompting strings (``[f(a=1), g(b='x')]``) and BFCL FC
lists (``[{"f": "{\\"a\\": 1}"}]``).

This module is the one reader of calls in the project: the local chat model, the vLLM
plugin, the lenient client and the BFCL decoder (``eval/bfcl/decode.py``) read calls with it.
Where callers read text differently, a keyword option says so: ``bare_names`` (a bare
name as a value is its ``"string"``, the default, or a ``"variable"`` that fails the
call) and ``positional`` (positional arguments ``"reject"``, the default, ``"ignore"`` or
``"keep"``) of :func:`parse_text` and :func:`parse_bfcl_string`; ``starts`` and
``skip_decoded`` of :func:`json_spans`. Python call syntax is read by
:mod:`toolrm_agent.core.pycalls`.

Nothing here raises on bad input: a call that cannot be read becomes a
:class:`ParseFailure` with the reason. That holds for any text (lone surrogates, NUL,
megabytes, nesting deep enough to exhaust the recursion limit) and for any JSON-like
value where a list of calls is expected (non-dict items, non-string ids or names,
non-string keys). A call id that is not a string is kept when it is an integer (as its
decimal text) and replaced by a fresh ``call_<hex>`` id otherwise. Text parsing is
linear in the length of the text except for JSON nesting and Python syntax, whose depth
the decoders bound.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from toolrm_agent.core import pycalls
from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall, _canonical_value, new_call_id
from toolrm_agent.core.pycalls import (  # noqa: F401 - public constants kept here
    MAX_ARITHMETIC_BITS,
    MAX_NAME_IN_REASON,
    BareNames,
    Positional,
    PythonSyntax,
)

MAX_LIST_DEPTH = 4
"""Lists (and ``{"tool_calls": [...]}`` wrappers) nested deeper than this hold no calls."""

# ----------------------------------------------------------------------------- helpers


def dump_value(value: Any) -> str:
    """``value`` as JSON text for a failure's ``raw``; never raises.

    Values JSON cannot hold render with ``str``; non-string keys are coerced (or dropped
    when not even ``str`` helps); values too deep, circular or with huge integers fall back
    to the bounded canonical rendering of :mod:`toolrm_agent.core.calls`.
    """
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):
        pass
    try:
        return json.dumps(_canonical_value(value), default=str)
    except (TypeError, ValueError, RecursionError):
        return f"<unprintable {type(value).__name__}>"


def arguments_json(arguments: Mapping[str, Any]) -> str:
    """Arguments as a JSON string for the wire (OpenAI ``function.arguments``); never raises.

    Key order is kept. A value JSON cannot hold renders as its ``str``; arguments nested
    deeper than :data:`toolrm_agent.core.calls.MAX_DEPTH`, or holding an integer Python will
    not print, fall back to the bounded canonical form (sorted keys, markers for what
    cannot be shown).
    """
    try:
        return json.dumps(arguments, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return json.dumps(_canonical_value(dict(arguments)), ensure_ascii=False, default=str)


def _call_id(value: Any) -> str:
    """A usable call id: a non-empty string as is, an integer as its text, else a fresh id."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() < 64:
        return str(value)
    return new_call_id()


def _string_keys(arguments: Mapping[Any, Any]) -> dict[str, Any]:
    """A dict with every key a string (Python literals and LangChain dicts may hold others):
    numbers, booleans and ``None`` as their ``str``, anything else as its JSON text."""
    if all(isinstance(k, str) for k in arguments):
        return dict(arguments)
    return {_key_text(k): v for k, v in arguments.items()}


def _key_text(key: Any) -> str:
    """A dict key as text: a string as is, a number, boolean or ``None`` as its ``str`` (an
    integer Python will not print as a marker), anything else as its JSON text."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, int | float):
        try:
            return str(key)
        except ValueError:  # an integer past Python's printing limit (4300 digits)
            return f"<integer of {key.bit_length()} bits>" if isinstance(key, int) else "<number>"
    return dump_value(key)


def load_arguments(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    """Arguments as given (dict or JSON string) → (dict, None) or (None, reason); never raises.

    ``None`` and ``""`` are no arguments (``{}``); a mapping gets string keys; a string
    is decoded as JSON (doubly encoded JSON too) and must hold an object."""
    if raw is None or raw == "":
        return {}, None
    if isinstance(raw, Mapping):
        return _string_keys(raw), None
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            return None, f"arguments are not valid JSON: {_why(exc)}"
        if isinstance(value, str):  # doubly encoded JSON
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                pass
        if isinstance(value, dict):
            return value, None
        return None, f"arguments must be a JSON object, got {type(value).__name__}"
    return None, f"arguments must be an object, got {type(raw).__name__}"


def _call_or_failure(
    name: Any, raw_args: Any, call_id: str | None, raw: str
) -> ToolCall | ParseFailure:
    cid = _call_id(call_id)
    if not isinstance(name, str) or not name.strip():
        return ParseFailure(id=cid, raw=raw, reason="call has no function name")
    args, reason = load_arguments(raw_args)
    if args is None:
        return ParseFailure(id=cid, name=name, raw=raw, reason=reason or "bad arguments")
    return ToolCall(id=cid, name=name.strip(), arguments=args)


def proposal_from_items(items: Sequence[ToolCall | ParseFailure], content: str = "") -> Proposal:
    """A proposal of the calls and failures in ``items`` (each kept in its order)."""
    return Proposal(
        calls=tuple(i for i in items if isinstance(i, ToolCall)),
        failures=tuple(i for i in items if isinstance(i, ParseFailure)),
        content=content,
    )


# ------------------------------------------------------------------ LangChain / OpenAI


def proposal_from_message(message: Any, *, parse_content: bool = True) -> Proposal:
    """A LangChain ``AIMessage`` → Proposal.

    ``tool_calls`` become calls and ``invalid_tool_calls`` become failures. When the
    message has neither and ``parse_content`` is set, the text content is parsed with
    :func:`parse_text` (models without native tool calling write calls as text).
    """
    content = message_text(getattr(message, "content", ""))
    items: list[ToolCall | ParseFailure] = []
    for tc in _items(getattr(message, "tool_calls", None)):
        if not isinstance(tc, Mapping):
            items.append(_not_a_call(tc))
            continue
        items.append(_call_or_failure(tc.get("name"), tc.get("args"), tc.get("id"), dump_value(tc)))
    for bad in _items(getattr(message, "invalid_tool_calls", None)):
        if not isinstance(bad, Mapping):
            items.append(_not_a_call(bad))
            continue
        name, args = bad.get("name"), bad.get("args")
        items.append(
            ParseFailure(
                id=_call_id(bad.get("id")),
                name=name if isinstance(name, str) else None,
                raw=args if isinstance(args, str) else ("" if args is None else dump_value(args)),
                reason=str(bad.get("error") or "invalid tool call"),
            )
        )
    if not items and parse_content and content:
        parsed = parse_text(content)
        return parsed.override(content=content)
    return proposal_from_items(items, content)


def _items(value: Any) -> list[Any]:
    """A tool-call list as a list: ``None`` → ``[]``, a lone mapping → ``[it]``."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _not_a_call(item: Any) -> ParseFailure:
    return ParseFailure(raw=dump_value(item), reason=f"expected a call object, got {type(item).__name__}")


def message_text(content: Any) -> str:
    """Message content as text: a string, or the text blocks of a LangChain content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            b if isinstance(b, str) else str(b.get("text", ""))
            for b in content
            if isinstance(b, str) or (isinstance(b, dict) and b.get("type") == "text")
        )
    return "" if content is None else str(content)


def proposal_from_openai(tool_calls: Sequence[Mapping[str, Any]] | None, content: str = "") -> Proposal:
    """OpenAI ``message.tool_calls`` (``{"id", "function": {"name", "arguments"}}``).

    Items may also be OpenAI SDK objects (anything with ``model_dump()``). An item that is
    not a mapping, or whose ``function`` is not one, becomes a :class:`ParseFailure`.
    """
    items: list[ToolCall | ParseFailure] = []
    for tc in _items(tool_calls):
        if not isinstance(tc, Mapping) and callable(getattr(tc, "model_dump", None)):
            try:
                tc = tc.model_dump()
            except Exception:  # noqa: BLE001 - a broken SDK object is a broken call
                pass
        if not isinstance(tc, Mapping):
            items.append(_not_a_call(tc))
            continue
        fn = tc.get("function", tc)
        if not isinstance(fn, Mapping):
            items.append(
                ParseFailure(id=_call_id(tc.get("id")), raw=dump_value(tc), reason="'function' is not an object")
            )
            continue
        items.append(_call_or_failure(fn.get("name"), fn.get("arguments"), tc.get("id"), dump_value(tc)))
    return proposal_from_items(items, content if isinstance(content, str) else message_text(content))


def to_langchain_tool_calls(proposal: Proposal) -> list[dict[str, Any]]:
    """LangChain ``ToolCall`` dicts for the valid calls."""
    return [
        {"name": c.name, "args": dict(c.arguments), "id": c.id, "type": "tool_call"}
        for c in proposal.calls
    ]


def to_langchain_invalid_tool_calls(proposal: Proposal) -> list[dict[str, Any]]:
    """LangChain ``InvalidToolCall`` dicts for the failures (the raw text as ``args``)."""
    return [
        {"name": f.name, "args": f.raw, "id": f.id, "error": f.reason, "type": "invalid_tool_call"}
        for f in proposal.failures
    ]


def to_langchain_message(proposal: Proposal, *, message_id: str | None = None) -> Any:
    """An ``AIMessage`` carrying the proposal (failures as ``invalid_tool_calls``)."""
    from langchain_core.messages import AIMessage

    kwargs: dict[str, Any] = {}
    if message_id is not None:
        kwargs["id"] = message_id
    return AIMessage(
        content=proposal.content,
        tool_calls=to_langchain_tool_calls(proposal),
        invalid_tool_calls=to_langchain_invalid_tool_calls(proposal),
        **kwargs,
    )


def to_openai(proposal: Proposal) -> list[dict[str, Any]]:
    """OpenAI ``tool_calls`` with JSON-string arguments."""
    return [
        {
            "id": c.id,
            "type": "function",
            "function": {"name": c.name, "arguments": arguments_json(c.arguments)},
        }
        for c in proposal.calls
    ]


# ------------------------------------------------------------------------------ Hermes

_OPEN, _CLOSE = "<tool_call>", "</tool_call>"


def hermes_blocks(text: str) -> list[str]:
    """The bodies of the ``<tool_call>`` blocks in ``text``, white space stripped.

    A block ends at its closing tag, at the next opening tag (a forgotten closing tag) or
    at the end of the text (a truncated generation). Found with ``str.find``: linear in
    the length of ``text`` (a regex with a lazy body and trailing ``\\s*`` is quadratic
    on long runs of blanks).
    """
    out: list[str] = []
    pos = text.find(_OPEN)
    while pos >= 0:
        start = pos + len(_OPEN)
        nxt = text.find(_OPEN, start)
        stop = nxt if nxt >= 0 else len(text)
        close = text.find(_CLOSE, start, stop)
        out.append(text[start : close if close >= 0 else stop].strip())
        pos = nxt
    return out


def parse_hermes(text: str) -> Proposal:
    """Every ``<tool_call>{"name": .., "arguments": ..}</tool_call>`` block in ``text``.

    An unterminated last block is read to the end of the text (truncated generations).
    """
    text = text if isinstance(text, str) else ""
    items: list[ToolCall | ParseFailure] = []
    for body in hermes_blocks(text):
        items.extend(_json_calls(_strip_fence(body)))
    return proposal_from_items(items, text)


_HERMES_SPAN = re.compile(r"<tool_call>.*?(?:</tool_call>|$)", re.DOTALL)


def without_hermes_blocks(text: str) -> str:
    """``text`` with its ``<tool_call>`` blocks (an unterminated last one to the end)
    removed: the prose a model wrote next to its calls."""
    return _HERMES_SPAN.sub("", text).strip()


def to_hermes(proposal: Proposal) -> str:
    """Hermes text, one block per call, in the proposal's order (not canonicalised)."""
    return "\n".join(
        "<tool_call>\n"
        + f'{{"name": {json.dumps(c.name, ensure_ascii=False)}, "arguments": {arguments_json(c.arguments)}}}'
        + "\n</tool_call>"
        for c in proposal.calls
    )


# -------------------------------------------------------------------------------- JSON

# a code fence with an optional language tag (any word followed by a newline, or one of
# the usual tags); an unterminated fence (truncated generation) runs to the end
_FENCE = re.compile(
    r"```(?:(?:json|python|py|tool_calls?|tool_code)\b|[\w+-]+(?=[ \t]*\n))?\s*(.*?)(?:```|\Z)",
    re.DOTALL | re.IGNORECASE,
)


def _strip_fence(text: str) -> str:
    match = _FENCE.search(text)
    return match.group(1).strip() if match else text.strip()


def _json_item(obj: Any, raw: str, depth: int = 0) -> list[ToolCall | ParseFailure]:
    """One decoded JSON value → calls. Accepts several dialects.

    Lists and ``tool_calls`` wrappers nested deeper than :data:`MAX_LIST_DEPTH` are one
    failure, not a recursion.
    """
    if isinstance(obj, list):
        if depth >= MAX_LIST_DEPTH:
            return [ParseFailure(raw=raw, reason="lists of calls nested too deeply")]
        out: list[ToolCall | ParseFailure] = []
        for item in obj:
            out.extend(_json_item(item, dump_value(item), depth + 1))
        return out
    if not isinstance(obj, dict):
        return [ParseFailure(raw=raw, reason=f"expected a call object, got {type(obj).__name__}")]
    if "tool_calls" in obj and isinstance(obj["tool_calls"], list):  # xLAM / OpenAI message
        return _json_item(obj["tool_calls"], raw, depth + 1)
    if "function" in obj and isinstance(obj["function"], dict):  # OpenAI tool call
        fn = obj["function"]
        return [_call_or_failure(fn.get("name"), fn.get("arguments"), obj.get("id"), raw)]
    if "name" in obj:
        args = obj.get("arguments", obj.get("parameters", obj.get("args", {})))
        return [_call_or_failure(obj.get("name"), args, obj.get("id"), raw)]
    if len(obj) == 1:  # BFCL FC item {name: arguments}
        (name, args), = obj.items()
        if isinstance(args, (dict, str)):
            return [_call_or_failure(name, args, None, raw)]
    return [ParseFailure(raw=raw, reason="call object has no 'name'")]


_DECODER = json.JSONDecoder()


def _why(exc: BaseException) -> str:
    """A decoding error as a short reason (position included for JSON syntax errors)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at char {exc.pos}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)[:200]


def _json_failure(body: str, exc: BaseException) -> ParseFailure:
    name_match = re.search(r'"name"\s*:\s*"([^"]+)"', body)
    return ParseFailure(
        name=name_match.group(1) if name_match else None,
        raw=body,
        reason=f"not valid JSON: {_why(exc)}",
    )


def _json_calls(body: str) -> list[ToolCall | ParseFailure]:
    """One JSON value, or several in a row (one call object per line is common)."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        if not isinstance(exc, json.JSONDecodeError) or exc.msg != "Extra data":
            return [_json_failure(body, exc)]
    else:
        return _json_item(value, body)
    out: list[ToolCall | ParseFailure] = []
    pos = 0
    while pos < len(body):
        try:
            obj, end = _DECODER.raw_decode(body, pos)
        except (ValueError, RecursionError) as exc:
            out.append(_json_failure(body[pos:], exc))
            break
        out.extend(_json_item(obj, body[pos:end]))
        pos = end
        while pos < len(body) and body[pos] in " \t\r\n,;":
            pos += 1
    return out


_ANY_JSON_START = re.compile(r"[\[{]")


def json_spans(
    text: str, *, starts: re.Pattern[str] | None = None, skip_decoded: bool = True
) -> Iterator[tuple[int, int, Any]]:
    """``(start, end, value)`` of the JSON values embedded in ``text`` (prose around them).

    A value is tried at every match of ``starts`` (default: every ``{`` and ``[``), found
    with one regex scan. After a value is decoded the scan goes on after it
    (``skip_decoded``, the default) or at the next start inside it. Text that is not JSON,
    or JSON nested past the recursion limit, is passed over.
    """
    starts = starts or _ANY_JSON_START
    pos = 0
    while (match := starts.search(text, pos)) is not None:
        start = match.start()
        try:
            value, end = _DECODER.raw_decode(text, start)
        except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
            pos = start + 1
            continue
        yield start, end, value
        pos = end if skip_decoded else start + 1


MAX_CALL_NESTING = 8
"""Lists and ``tool_calls`` wrappers nested deeper than this are not a call (and are not
walked further: JSON nested thousands deep would exhaust the recursion limit)."""


def looks_like_call(value: Any, _depth: int = 0) -> bool:
    """True for decoded JSON shaped like a call (or a non-empty list of them): an object
    with a string ``name`` and ``arguments`` (or ``parameters``), an OpenAI
    ``{"function": {"name": ...}}`` object, or xLAM's ``{"tool_calls": [...]}``. Nesting
    past :data:`MAX_CALL_NESTING` is no call."""
    if _depth > MAX_CALL_NESTING:
        return False
    if isinstance(value, list):
        return bool(value) and all(looks_like_call(item, _depth + 1) for item in value)
    if not isinstance(value, dict):
        return False
    if isinstance(value.get("tool_calls"), list):
        return looks_like_call(value["tool_calls"], _depth + 1)
    function = value.get("function")
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        return True
    return isinstance(value.get("name"), str) and ("arguments" in value or "parameters" in value)


def embedded_json_calls(text: str) -> tuple[Proposal, tuple[int, int]] | None:
    """The first JSON value inside prose that reads as calls, and its span; else None."""
    for start, end, _ in json_spans(text, skip_decoded=False):
        parsed = parse_json_calls(text[start:end])
        if parsed.calls:
            return parsed, (start, end)
    return None


def parse_json_calls(text: str) -> Proposal:
    """Calls written as JSON: an object, a list, or xLAM's ``{"tool_calls": [...]}``."""
    return proposal_from_items(_json_calls(_strip_fence(text or "")), text or "")


# -------------------------------------------------------------------------------- BFCL


def parse_bfcl_fc(items: Any) -> Proposal:
    """A BFCL FC list ``[{"f": "{\\"a\\": 1}"}, ...]`` (arguments as JSON string or dict)."""
    if isinstance(items, str):  # the list as JSON text
        try:
            items = json.loads(items)
        except (ValueError, RecursionError) as exc:
            return Proposal(failures=(_json_failure(items, exc),), content=items)
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        return Proposal(failures=(ParseFailure(raw=dump_value(items), reason="FC output is not a list"),))
    out: list[ToolCall | ParseFailure] = []
    for item in items:
        raw = dump_value(item)
        if isinstance(item, dict) and len(item) == 1:
            (name, args), = item.items()
            out.append(_call_or_failure(name, args, None, raw))
        else:
            out.append(ParseFailure(raw=raw, reason="FC item must be {name: arguments}"))
    return proposal_from_items(out)


def _ast_calls(
    node: ast.expr, raw: str, syntax: PythonSyntax = pycalls.DEFAULT
) -> list[ToolCall | ParseFailure]:
    if isinstance(node, (ast.List, ast.Tuple)):
        out: list[ToolCall | ParseFailure] = []
        for elt in node.elts:
            out.extend(_ast_calls(elt, pycalls.unparse(elt), syntax))
        return out
    if not isinstance(node, ast.Call):
        return [ParseFailure(raw=raw, reason="expected a function call like f(a=1)")]
    try:
        name, args = pycalls.read_call(node, syntax)
    except pycalls.Unreadable as exc:
        return [ParseFailure(name=exc.name, raw=raw, reason=str(exc))]
    return [ToolCall(name=name, arguments=args)]


def parse_bfcl_string(
    text: str, *, bare_names: BareNames = "string", positional: Positional = "reject"
) -> Proposal:
    """A BFCL prompting answer such as ``[f(a=1), g(b='x')]`` (brackets optional).

    ``bare_names``: a bare name as a value (``angle=theta``) is read as its ``"string"``
    (the default, as BFCL v4 does) or as a ``"variable"``, which makes that call a
    failure. ``positional``: positional arguments make a call a failure (``"reject"``,
    the default), are dropped (``"ignore"``, as BFCL's ``ast_parse``) or are kept as a
    list under the ``"*args"`` key (``"keep"``). Values are read as JSON data (tuples and
    sets become lists; an expression that is not a literal is kept as its source text);
    see :class:`toolrm_agent.core.pycalls.PythonSyntax`.
    """
    syntax = PythonSyntax(bare_names=bare_names, positional=positional)
    body = _strip_fence(text or "").strip().strip("`").strip()
    if body.startswith("[") is False:
        body = f"[{body}]"
    try:
        tree = ast.parse(body, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:  # ValueError: NUL
        why = exc.msg if isinstance(exc, SyntaxError) else _why(exc)
        return Proposal(
            failures=(ParseFailure(raw=text, reason=f"not a Python call list: {why}"),),
            content=text,
        )
    try:
        items = _ast_calls(tree.body, text, syntax)
    except RecursionError:  # a chain like 1+1+...+1 parses, but is too deep to walk
        items = [ParseFailure(raw=text, reason="not a Python call list: nested too deeply")]
    return proposal_from_items(items, text)


def to_bfcl_string(proposal: Proposal) -> str:
    """``[f(a=1), g(b='x')]`` with Python literals."""
    parts = []
    for c in proposal.calls:
        args = ", ".join(f"{k}={v!r}" for k, v in c.arguments.items())
        parts.append(f"{c.name}({args})")
    return "[" + ", ".join(parts) + "]"


def to_bfcl_fc(proposal: Proposal) -> list[dict[str, str]]:
    """``[{"f": "{\\"a\\": 1}"}]``."""
    return [{c.name: arguments_json(c.arguments)} for c in proposal.calls]


# ------------------------------------------------------------------------- any text


def parse_text(
    text: str, *, bare_names: BareNames = "string", positional: Positional = "reject"
) -> Proposal:
    """Calls written as text, in whatever style: Hermes, JSON (fenced or bare), BFCL.

    Returns an empty proposal (no calls, no failures) when the text holds no attempt at
    a call, e.g. a plain answer to the user. ``bare_names`` and ``positional`` say how
    Python call syntax is read (see :func:`parse_bfcl_string`).
    """
    text = text or ""
    if "<tool_call>" in text:
        return parse_hermes(text)

    def python(body: str) -> Proposal:
        return parse_bfcl_string(body, bare_names=bare_names, positional=positional)

    stripped = _CALL_PREFIX.sub("", _strip_fence(text), count=1)
    if _PY_CALL_LIST.match(stripped):  # [f(a=1), ...]: Python, not JSON
        return python(stripped).override(content=text)
    if stripped[:1] in "{[" and stripped:
        parsed = parse_json_calls(stripped)
        if parsed.calls or not stripped.startswith("["):
            return parsed.override(content=text)
        bfcl = python(stripped)
        return (bfcl if bfcl.calls else parsed).override(content=text)
    if re.match(r"^[A-Za-z_][\w.]*\(.*\)\s*$", stripped, re.DOTALL):
        return python(stripped).override(content=text)
    return Proposal(content=text)


# markers some models put before their calls (Mistral, FireFunction)
_CALL_PREFIX = re.compile(r"^\s*(?:\[TOOL_CALLS\]|functools(?=\s*\[)|<\|tool_calls?\|>)\s*")
_PY_CALL_LIST = re.compile(r"^\[\s*[A-Za-z_][\w.]*\s*\(")
