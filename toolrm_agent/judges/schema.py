"""The deterministic judge: every call checked against the JSON schemas of the offered tools.

:class:`SchemaJudge` needs no model and costs microseconds per call. It finds

==========================  ========  =====================================================
code                        severity  when
==========================  ========  =====================================================
``unknown_function``        error     the name is not among the offered tools (``a_b``
                                      also finds a tool named ``a.b``, and the reverse)
``missing_required``        error     a required argument (or nested required key) is absent
``unexpected_argument``     error     an argument the function does not declare
``type_mismatch``           error     a value of the wrong JSON type, checked through
                                      ``items``, ``properties`` and ``anyOf``/``oneOf``
``enum_violation``          error     a value outside the parameter's ``enum``
``malformed_arguments``     error     a call that could not be parsed (a ``ParseFailure``)
``duplicate_call``          error     the same call (same name, same arguments) again
``no_call``                 error     an empty proposal, when ``expect_call`` is set
``ungrounded_value``        warning   a string or number that appears nowhere in the
                                      conversation (``context.grounding_text()``)
==========================  ========  =====================================================

Errors reject the proposal; warnings only lower its score. A context without tools means
the tool set is unknown: then only parse failures, duplicates and grounding are checked.
The ``no_call`` issue sits on a verdict with ``tool_call_id=""`` (there is no call to key
it by). A function meant to be called twice alike in one turn (a random draw, say) trips
``duplicate_call``: turn it off with ``check_duplicates=False``.

Types follow BFCL's Python leniency: an integer is a valid ``number`` (BFCL's ``float``),
a list or tuple is a valid ``array`` (BFCL's ``tuple``), a boolean is never a number, and a
string holding JSON text is a string, not the array or object it encodes. ``null`` is valid
only where the schema allows it (``"type": "null"``, ``["string", "null"]`` or an ``anyOf``
branch).

Scores
------
A call scores 1.0 when clean, ``1 - warning_penalty`` per warning down to 0.5, and 0.0 with
any error. A proposal scores the **mean** of its calls' scores, mapped into two bands so
that every accepted proposal outranks every rejected one:

* accepted: ``mean`` (in [0.5, 1]);
* rejected: ``0.5 * mean`` (in [0, 0.5); a parallel proposal with one bad call out of four
  scores higher than one whose every call is bad, which helps best-of-N and the cascade
  order failing candidates).

An empty proposal scores 0.0 when a call is expected, 1.0 when not.

Grounding
---------
A value is *grounded* when it can be found in the conversation (system, user and tool
messages). Strings are matched case-insensitively with whitespace collapsed, first as a
whole, then word by word (at least ``grounding_token_share`` of their words of three or
more letters must appear; ``snake_case`` counts as its words). Numbers are matched as
numbers: ``5`` finds ``5.0``, ``1000`` finds ``1,000``, ``0.05`` finds ``5%``, ``1e-09``
finds ``1e-9``, ``213000000`` finds ``213 million``, ``3`` finds ``three`` (small number
words, ``dozen``, ``twice``); units are not converted (``100µF`` is not ``0.0001``). Skipped:
booleans, ``0`` and ``1``, strings shorter than ``grounding_min_chars``, a parameter's
``default`` and its ``enum`` values, and text found in the parameter's own description.
Calls that already have errors are not checked for grounding (their critique is about the
errors), nor is anything when the conversation is empty.

Robustness
----------
Any proposal and any context are judged without raising: values nested past the depth
bound, integers Python will not print, lone surrogates, NaN and infinities, names of ten
thousand characters. Names longer than 256 characters get no "did you mean" hint (fuzzy
matching is quadratic), a value's grounding looks at its first 256 words, names quoted in
messages are cut to 100 characters, and the critique text keeps its first 4000
characters with a visible ``…[N more characters cut]``.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.core.specs import ToolSpec, spec_index
from toolrm_agent.core.verdicts import (
    CallVerdict,
    Critique,
    Issue,
    IssueCode,
    Preference,
    Ranking,
    Severity,
)
from toolrm_agent.judges.base import BaseJudge
from toolrm_agent.naming._hints import close_match
from toolrm_agent.prompting.prompt_text import cap_critique

__all__ = ["SchemaJudge"]

# The lowest score of an accepted call or proposal; rejected ones score below it.
_ACCEPT_FLOOR = 0.5

# How deep nested values are type-checked (schemas in the wild are shallow; this bounds
# the work on pathological input).
_MAX_DEPTH = 32

# Fuzzy "did you mean" matching (quadratic in the lengths) only for names up to this long.
# Names and keys quoted in messages are cut to this many characters.
_MAX_NAME_CHARS = 100
# A value's grounding is judged on its first this-many words.
_MAX_GROUNDING_WORDS = 256

_JSON_TYPE_OF: dict[type, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    tuple: "array",
    dict: "object",
    type(None): "null",
}

# An issue while checking, before it becomes a pydantic model: (code, message, argument).
_Finding = tuple[IssueCode, str, str | None]


class _Cache(TypedDict, total=False):
    """The last offered tools and the last context seen, with what was derived from them."""

    index: tuple[tuple[ToolSpec, ...], dict[str, ToolSpec]]
    grounding: tuple[JudgeContext, _Grounding | None]


@dataclass(unsafe_hash=True)
class SchemaJudge(BaseJudge):
    """Deterministic checks of each call against the offered tools' JSON schemas.

    An immutable config (frozen by :class:`BaseJudge`: setting an attribute raises
    :class:`~toolrm_agent.core.errors.FrozenError`); change it with :meth:`override`::

        judge = SchemaJudge()                                  # the defaults
        lenient = judge.override(check_grounding=False, expect_call=False)

    See the module docstring for the issue codes, the type rules, the scores and the
    grounding rules.
    """

    name: str = "schema"
    """The judge's name in critiques and reports."""
    expect_call: bool = True
    """Reject an empty proposal (code ``no_call``); when False it is accepted."""
    check_grounding: bool = True
    """Warn about argument values that appear nowhere in the conversation."""
    warning_penalty: float = 0.1
    """Score taken off a call per warning (a warned call never scores below 0.5)."""
    check_duplicates: bool = True
    """Reject a call that repeats an earlier call of the same proposal exactly."""
    strict_integers: bool = True
    """An ``integer`` parameter refuses ``5.0`` (as BFCL does); False accepts whole floats."""
    grounding_min_chars: int = 3
    """Strings shorter than this are not checked for grounding."""
    grounding_token_share: float = 0.75
    """Share of a string's words (3+ letters) that must appear when it is not found whole."""

    _cache: _Cache = field(
        default_factory=_Cache, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if not 0.0 <= self.warning_penalty <= 1.0:
            raise ConfigurationError(f"warning_penalty must be in [0, 1], got {self.warning_penalty}")
        if not 0.0 <= self.grounding_token_share <= 1.0:
            raise ConfigurationError(
                f"grounding_token_share must be in [0, 1], got {self.grounding_token_share}"
            )

    # -- the judge protocol -----------------------------------------------------------

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        start = time.perf_counter()
        index = self._index(context.tools)
        grounding = self._grounding(context) if self.check_grounding else None

        verdicts: list[CallVerdict] = []
        lines: list[str] = []
        seen: dict[str, int] = {}
        check_dupes = self.check_duplicates and len(proposal.calls) > 1
        number = 0
        for call in proposal.calls:
            number += 1
            errors = self._check_call(call, index)
            if check_dupes:
                key = call.canonical()
                first = seen.setdefault(key, number)
                if first != number:
                    errors.append(
                        (
                            IssueCode.DUPLICATE_CALL,
                            f"repeats call {first} exactly; drop it or change its arguments.",
                            None,
                        )
                    )
            warnings: list[_Finding] = []
            if not errors and grounding is not None:
                spec = _lookup(index, call.name)
                warnings = self._ungrounded(call, spec, grounding)
            verdicts.append(self._verdict(call.id, call.name, errors, warnings, number, lines))
        for failure in proposal.failures:
            number += 1
            verdicts.append(self._failure_verdict(failure, number, lines))

        if not verdicts:
            return self._empty(index, start)

        scores = [v.score for v in verdicts]
        mean = sum(scores) / len(scores)
        accepted = all(v.ok for v in verdicts)
        return Critique(
            accepted=accepted,
            score=mean if accepted else _ACCEPT_FLOOR * mean,
            text=_cap("\n".join(lines)),
            judge=self.name,
            calls=tuple(verdicts),
            latency_s=time.perf_counter() - start,
        )

    async def acritique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        # microseconds of pure Python: a worker thread would cost more than the work
        return self.critique(context, proposal)

    async def acompare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        return self.compare(context, a, b)

    async def arank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        return self.rank(context, proposals)

    # -- building verdicts ------------------------------------------------------------

    def _verdict(
        self,
        call_id: str,
        name: str,
        errors: list[_Finding],
        warnings: list[_Finding],
        number: int,
        lines: list[str],
    ) -> CallVerdict:
        if not errors and not warnings:
            return CallVerdict(
                tool_call_id=call_id, name=name, ok=True, score=1.0, issues=(), feedback=""
            )
        issues = tuple(_issue(f, "error") for f in errors) + tuple(
            _issue(f, "warning") for f in warnings
        )
        feedback = _cap(" ".join(i.message for i in issues))
        lines.append(f"Call {number} `{_cut(name)}`: {feedback}")
        if errors:
            score = 0.0
        else:
            score = max(_ACCEPT_FLOOR, 1.0 - self.warning_penalty * len(warnings))
        return CallVerdict(
            tool_call_id=call_id,
            name=name,
            ok=not errors,
            score=score,
            issues=issues,
            feedback=feedback,
        )

    def _failure_verdict(self, failure: ParseFailure, number: int, lines: list[str]) -> CallVerdict:
        message = (
            f"could not be parsed ({_cut(failure.reason, 300)}). Write it again as one call with its "
            "arguments as a JSON object of keyword arguments."
        )
        issue = _issue((IssueCode.MALFORMED_ARGUMENTS, message, None), "error")
        label = f"`{_cut(failure.name)}`" if failure.name else "(no name)"
        lines.append(f"Call {number} {label}: {issue.message}")
        return CallVerdict(
            tool_call_id=failure.id,
            name=failure.name,
            ok=False,
            score=0.0,
            issues=(issue,),
            feedback=issue.message,
        )

    def _empty(self, index: dict[str, ToolSpec], start: float) -> Critique:
        if not self.expect_call:
            return Critique(
                accepted=True,
                score=1.0,
                text="",
                judge=self.name,
                calls=(),
                latency_s=time.perf_counter() - start,
            )
        names = _names(index)
        message = "No function call was proposed; call one of the offered functions" + (
            f": {names}." if names else "."
        )
        verdict = CallVerdict(
            tool_call_id="",
            name=None,
            ok=False,
            score=0.0,
            issues=(_issue((IssueCode.NO_CALL, message, None), "error"),),
            feedback=message,
        )
        return Critique(
            accepted=False,
            score=0.0,
            text=message,
            judge=self.name,
            calls=(verdict,),
            latency_s=time.perf_counter() - start,
        )

    # -- schema checks ----------------------------------------------------------------

    def _index(self, tools: tuple[ToolSpec, ...]) -> dict[str, ToolSpec]:
        """``spec_index(tools)``, cached for the last tools tuple seen (contexts repeat)."""
        cached = self._cache.get("index")
        if cached is not None and cached[0] is tools:
            return cached[1]
        index = spec_index(tools)
        self._cache["index"] = (tools, index)
        return index

    def _check_call(self, call: ToolCall, index: dict[str, ToolSpec]) -> list[_Finding]:
        if not index:  # no tools offered: nothing to check the call against
            return []
        spec = _lookup(index, call.name)
        if spec is None:
            close = _close_match(call.name, list(index))
            hint = (
                f"did you mean `{_cut(index[close].name)}`?"
                if close
                else f"offered: {_names(index)}."
            )
            return [
                (IssueCode.UNKNOWN_FUNCTION, f"no function of this name is offered; {hint}", None)
            ]
        out: list[_Finding] = []
        _check_object(call.arguments, spec.parameters, "", out, 0, self.strict_integers, top=True)
        return out

    # -- grounding --------------------------------------------------------------------

    def _grounding(self, context: JudgeContext) -> _Grounding | None:
        cached = self._cache.get("grounding")
        if cached is not None and cached[0] is context:
            return cached[1]
        text = context.grounding_text()
        grounding = _Grounding(text) if text.strip() else None
        self._cache["grounding"] = (context, grounding)
        return grounding

    def _ungrounded(
        self, call: ToolCall, spec: ToolSpec | None, grounding: _Grounding
    ) -> list[_Finding]:
        props = spec.properties if spec is not None else {}
        out: list[_Finding] = []
        for key, value in call.arguments.items():
            schema = props.get(key)
            schema = schema if isinstance(schema, dict) else {}
            if "default" in schema and _same(value, schema["default"]):
                continue
            for path, leaf, leaf_schema in _leaves(value, schema, key, 0):
                if self._is_grounded(leaf, leaf_schema, grounding):
                    continue
                out.append(
                    (
                        IssueCode.UNGROUNDED_VALUE,
                        f"the value {_show(leaf)} for `{_cut(path)}` appears nowhere in the "
                        "conversation; make sure it comes from the user or a tool result.",
                        path,
                    )
                )
        return out

    def _is_grounded(self, value: Any, schema: dict[str, Any], grounding: _Grounding) -> bool:
        enum = schema.get("enum")
        if isinstance(enum, list) and _in_enum(value, enum):
            return True
        if "default" in schema and _same(value, schema["default"]):
            return True
        if isinstance(value, str):
            if len(value.strip()) < self.grounding_min_chars:
                return True
            if grounding.has_text(value, self.grounding_token_share):
                return True
        else:  # a number
            if value in (0, 1) or grounding.has_number(value) or _text_of(value) in grounding.text:
                return True
        description = schema.get("description")
        return isinstance(description, str) and _normalise(str(value)) in description.lower()


# ----------------------------------------------------------------------- schema walking


def _text_of(number: Any) -> str:
    """``str(number)``; an integer Python refuses to print gives a text found nowhere."""
    try:
        return str(number)
    except ValueError:
        return "\x00<huge integer>"


def _lookup(index: dict[str, ToolSpec], name: str) -> ToolSpec | None:
    spec = index.get(name)
    if spec is None and "." in name:  # a call `a.b` for a tool offered as `a_b`
        spec = index.get(name.replace(".", "_"))
    return spec


def _names(index: dict[str, ToolSpec], limit: int = 8) -> str:
    names = sorted({spec.name for spec in index.values()})
    shown = ", ".join(f"`{_cut(n)}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _check_object(
    value: dict[str, Any],
    schema: dict[str, Any],
    path: str,
    out: list[_Finding],
    depth: int,
    strict_int: bool,
    *,
    top: bool = False,
) -> None:
    """Required keys, unknown keys and every declared property of an object value."""
    props = schema.get("properties")
    props = props if isinstance(props, dict) else {}
    required = schema.get("required")
    if isinstance(required, list):
        for key in required:
            if isinstance(key, str) and key not in value:
                described = _describe_param(props.get(key))
                out.append(
                    (
                        IssueCode.MISSING_REQUIRED,
                        f"missing required argument `{_cut(path + key)}`{described}.",
                        path + key,
                    )
                )
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        sub = props.get(key)
        if sub is not None:
            _check_value(item, sub, f"{path}{key}", out, depth + 1, strict_int)
        elif isinstance(extra, dict):
            _check_value(item, extra, f"{path}{key}", out, depth + 1, strict_int)
        elif extra is True or (not props and not top and extra is None):
            continue  # a free-form object
        else:
            close = _close_match(str(key), list(props))
            if close:
                hint = f"; did you mean `{_cut(path + close)}`?"
            elif props:
                hint = "; parameters: " + ", ".join(f"`{_cut(p)}`" for p in list(props)[:20]) + "."
            else:
                hint = "; it takes no arguments." if top else "."
            out.append(
                (
                    IssueCode.UNEXPECTED_ARGUMENT,
                    f"`{_cut(path + str(key))}` is not a parameter{hint}",
                    path + str(key),
                )
            )


def _check_value(
    value: Any, schema: Any, path: str, out: list[_Finding], depth: int, strict_int: bool
) -> None:
    """Type, enum, and nested items/properties of one value against its schema."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            _check_branches(value, branches, path, out, depth, strict_int)
            if "type" not in schema:
                return
    all_of = schema.get("allOf")
    if isinstance(all_of, list):
        for branch in all_of:
            _check_value(value, branch, path, out, depth, strict_int)

    expected = schema.get("type")
    if expected is not None and not _type_ok(value, expected, strict_int):
        out.append((IssueCode.TYPE_MISMATCH, _mismatch(path, value, expected), path))
        return
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and not _in_enum(value, enum):
        allowed = ", ".join(_show(e) for e in enum[:12]) + (" ..." if len(enum) > 12 else "")
        out.append(
            (
                IssueCode.ENUM_VIOLATION,
                f"`{_cut(path)}` must be one of {allowed}; got {_show(value)}.",
                path,
            )
        )
        return
    if isinstance(value, list | tuple):
        items = schema.get("items")
        if isinstance(items, dict):
            if items:
                for i, item in enumerate(value):
                    _check_value(item, items, f"{path}[{i}]", out, depth + 1, strict_int)
        elif isinstance(items, list):  # tuple validation (older drafts)
            for i, (item, sub) in enumerate(zip(value, items, strict=False)):
                _check_value(item, sub, f"{path}[{i}]", out, depth + 1, strict_int)
    elif isinstance(value, dict) and (
        "properties" in schema or "required" in schema or "additionalProperties" in schema
    ):
        _check_object(value, schema, f"{path}.", out, depth, strict_int)


def _check_branches(
    value: Any, branches: list[Any], path: str, out: list[_Finding], depth: int, strict_int: bool
) -> None:
    """``anyOf``/``oneOf``: fine if one branch takes the value; else report the closest."""
    reports: list[list[_Finding]] = []
    for branch in branches:
        found: list[_Finding] = []
        _check_value(value, branch, path, found, depth, strict_int)
        if not found:
            return
        reports.append(found)
    non_null = [
        r
        for r, b in zip(reports, branches, strict=True)
        if not (isinstance(b, dict) and b.get("type") == "null")
    ]
    if len(non_null) == 1:  # Optional[X]: say what X wanted
        out.extend(non_null[0])
        return
    types = [b.get("type") for b in branches if isinstance(b, dict) and b.get("type")]
    expected: Any = types if types else "one of the allowed shapes"
    out.append((IssueCode.TYPE_MISMATCH, _mismatch(path, value, expected), path))


def _type_ok(value: Any, expected: Any, strict_int: bool) -> bool:
    if isinstance(expected, list):
        return any(_type_ok(value, t, strict_int) for t in expected)
    if expected == "string":
        return isinstance(value, str)
    if expected == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        return not strict_int and isinstance(value, float) and value.is_integer()
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "array":
        return isinstance(value, list | tuple)
    if expected == "object":
        return isinstance(value, dict)
    if expected == "null":
        return value is None
    return True  # a type name we do not know: do not guess


def _in_enum(value: Any, enum: list[Any]) -> bool:
    """``value in enum`` without Python's ``True == 1`` and ``1 == 1.0`` surprises for bools."""
    return any(_same(value, allowed) for allowed in enum)


def _same(a: Any, b: Any) -> bool:
    """``a == b`` (a bool never equals a number); values too deep to compare are unequal."""
    try:
        return bool(a == b) and isinstance(a, bool) == isinstance(b, bool)
    except RecursionError:
        return False


def _close_match(name: str, candidates: list[str]) -> str | None:
    """The closest candidate (difflib, cutoff 0.6), or ``None``; long names are not matched."""
    return close_match(name, candidates)


def _cut(text: str, limit: int = _MAX_NAME_CHARS) -> str:
    """A name or key for a message: at most ``limit`` characters (``...`` when cut)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _cap(text: str) -> str:
    """Critique text cut to :data:`~toolrm_agent.prompting.prompt_text.MAX_CRITIQUE_CHARS` with a visible marker."""
    return cap_critique(text)


def _mismatch(path: str, value: Any, expected: Any) -> str:
    want = " or ".join(map(str, expected)) if isinstance(expected, list) else str(expected)
    got = _JSON_TYPE_OF.get(type(value), type(value).__name__)
    message = f"`{_cut(path)}` must be {_article(want)}, got {got} {_show(value)}."
    if isinstance(value, str) and (
        value.strip()[:1] in ("[", "{") or want in ("integer", "number", "boolean")
    ):
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
            decoded = None
        if decoded is not None and not isinstance(decoded, str):
            message += " Pass the value itself, not a string that encodes it."
    return message


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _describe_param(schema: Any) -> str:
    if not isinstance(schema, dict):
        return ""
    parts = []
    if isinstance(schema.get("type"), str):
        parts.append(schema["type"])
    description = schema.get("description")
    if isinstance(description, str) and description.strip():
        text = description.strip().split("\n")[0]
        parts.append(text if len(text) <= 80 else text[:77] + "...")
    return f" ({': '.join(parts)})" if parts else ""


def _show(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, TypeError, RecursionError):  # huge int, odd keys, too deep
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _issue(finding: _Finding, severity: Severity) -> Issue:
    code, message, argument = finding
    return Issue(code=code, severity=severity, message=_capital(message), argument=argument)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text and text[0] != "`" else text


# ---------------------------------------------------------------------------- grounding

_WORD = re.compile(r"[^\W_]{3,}")  # snake_case splits into its words
_DIGITS = re.compile(r"\d[\d,]*(?:\.\d+)?|\.\d+")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_EXPONENT = re.compile(r"e([-+]?\d{1,3})\b")
_SCALE = re.compile(r"\s*(thousand|million|billion|trillion)\b")
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_NUMBER_WORDS: dict[str, float] = {
    **{
        w: float(i)
        for i, w in enumerate(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
        )
    },
    **{
        w: float(10 * i)
        for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)
    },
    "hundred": 100.0,
    "thousand": 1e3,
    "million": 1e6,
    "billion": 1e9,
    "dozen": 12.0,
    "twice": 2.0,
    "thrice": 3.0,
    "double": 2.0,
    "triple": 3.0,
    "half": 0.5,
}
_LETTERS = re.compile(r"[a-z]+")


def _text_numbers(text: str) -> set[float]:
    """Every number written in digits in ``text``: ``1,000``, ``1e-9``, ``213 million``."""
    numbers: set[float] = set()
    for match in _DIGITS.finditer(text):
        raw = match.group().rstrip(",")
        parts = [raw.replace(",", "")] if _THOUSANDS.fullmatch(raw) else raw.split(",")
        end = match.end()
        value = None
        for part in parts:
            if part:
                value = float(part)
                numbers.add(_number_key(value))
        if value is None or end >= len(text):
            continue
        follower = text[end]
        if follower == "e":
            exponent = _EXPONENT.match(text, end)
            if exponent:
                power = max(-300, min(300, int(exponent.group(1))))
                numbers.add(_number_key(value * 10.0**power))
        elif follower == " ":
            scale = _SCALE.match(text, end)
            if scale:
                numbers.add(_number_key(value * _SCALES[scale.group(1)]))
    return numbers


def _word_numbers(text: str) -> set[float]:
    """Numbers written as words: ``three``, ``dozen``, ``twice``."""
    return {_number_key(_NUMBER_WORDS[w]) for w in _LETTERS.findall(text) if w in _NUMBER_WORDS}


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _number_key(value: float) -> float:
    """A number as a set key: sign dropped, nine significant digits (``5 == 5.0``)."""
    try:
        value = abs(float(value))
    except OverflowError:  # an int too large for a float
        return math.inf
    return value if value.is_integer() else float(f"{value:.9g}")


class _Grounding:
    """The conversation's text, prepared once for many lookups."""

    __slots__ = ("_numbers", "_words", "text")

    def __init__(self, text: str) -> None:
        self.text = _normalise(text)
        self._numbers: set[float] | None = None
        self._words: set[float] | None = None

    def has_text(self, value: str, token_share: float) -> bool:
        needle = _normalise(value)
        if not needle or needle in self.text:
            return True
        words = _WORD.findall(needle, 0, len(needle))[:_MAX_GROUNDING_WORDS]
        if not words:
            return True  # punctuation or short bits only: nothing meaningful to look for
        found = sum(1 for w in words if w in self.text)
        return found >= token_share * len(words) and found > 0

    def has_number(self, value: float) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self._numbers is None:
            self._numbers = _text_numbers(self.text)
        try:
            keys = (_number_key(value), _number_key(value * 100), _number_key(value / 100))
        except OverflowError:  # an int too large for a float is found nowhere
            return False
        if any(k in self._numbers for k in keys):  # 0.05 for "5%" too
            return True
        if self._words is None:
            self._words = _word_numbers(self.text)
        return keys[0] in self._words


def _leaves(
    value: Any, schema: dict[str, Any], path: str, depth: int
) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """The strings and numbers inside ``value`` with their paths and schemas."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        yield path, value, schema
    elif isinstance(value, list | tuple):
        items = schema.get("items")
        items = items if isinstance(items, dict) else {}
        for i, item in enumerate(value):
            yield from _leaves(item, items, f"{path}[{i}]", depth + 1)
    elif isinstance(value, dict):
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        for key, item in value.items():
            sub = props.get(key)
            yield from _leaves(
                item, sub if isinstance(sub, dict) else {}, f"{path}.{key}", depth + 1
            )
