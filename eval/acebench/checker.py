"""Our ACEBench checker, written to the semantics of ACEBench's own (no code carried over).

**Normal categories** (:func:`check_normal`): the answer is a list of calls; the ground
truth one dict ``{name: {arg: value}}`` or a list of such alternatives (any one passing
is enough). Calls are order-free: the number of calls and of calls per function must
match, then each expected call is matched one-to-one with an answered call of the same
function that passes :func:`check_call`. A repeated function appears in the ground
truth as ``name_1``, ``name_2`` (the suffix is dropped when the bare name is offered).

A call passes when every required parameter is given, every given parameter is both in
the function's schema and in the ground truth (an optional parameter the ground truth
leaves out is an error; one the ground truth has and the answer leaves out is not),
and each value matches (:func:`match_value`):

* strings are compared after ACEBench's normalisation (lower case; spaces and ``, . / - _
  * ^`` removed; ``'`` read as ``"``): the expected string must occur in the answered one
  (in a list, the two must be equal);
* numbers equal numerically (``5`` matches ``5.0``; a bool is no number), booleans
  exactly (the strings ``"true"`` / ``"false"`` read as booleans);
* lists element by element, in order, and of the same length;
* objects (nested to any depth) with the same keys, each value matched recursively.

Where the reference's behaviour is a quirk rather than a rule we check more: the
reference does not compare numbers and booleans at all (only their type), skips the
value of a parameter whose ground-truth type differs from its schema type, and may
match two expected calls to one answered call. Here every value is compared and the
matching is one-to-one.

**Special categories** (:func:`check_special`): the right answer makes **no call**.

* ``special_incomplete`` (ground truth ``{function: [missing params]}``): the answer
  names every missing parameter (and, with ``phrases``, the function, after the phrase
  ``Missing necessary parameters``);
* ``special_error_param`` (``{param: [wrong values]}``): the answer quotes every wrong
  value (with ``phrases``, after ``There is incorrect value``);
* ``special_irrelevant``: the answer declines (with ``phrases``, it says ``the limitations
  of the function``; without, any answer without a call declines).

``phrases=True`` (the default) is the reference's rule: the answer must use ACEBench's
answer formats, which the agent's system prompt gives it (:mod:`eval.acebench.tasks`).
Names and values are looked for after the same normalisation as strings.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from toolrm_agent.core.calls import ToolCall
from toolrm_agent.core.errors import ConfigurationError

__all__ = [
    "INCOMPLETE_PHRASE",
    "IRRELEVANT_PHRASE",
    "WRONG_VALUE_PHRASE",
    "AceCheck",
    "check",
    "check_call",
    "check_normal",
    "check_special",
    "expected_calls",
    "match_value",
    "normalize",
    "right_refusal",
]

INCOMPLETE_PHRASE = "Missing necessary parameters"
WRONG_VALUE_PHRASE = "There is incorrect value"
IRRELEVANT_PHRASE = "the limitations of the function"

_STRIP = re.compile(r"[ ,./\-_*^]")
_SUFFIX = re.compile(r"_\d+$")


class AceCheck(BaseModel):
    """The checker's verdict (the fields the agent runner reads from any checker)."""

    model_config = ConfigDict(frozen=True)

    valid: bool
    error_type: str | None = None
    errors: list[str] = Field(default_factory=list)


_OK = AceCheck(valid=True)


def _fail(error_type: str, message: str) -> AceCheck:
    return AceCheck(valid=False, error_type=error_type, errors=[message])


def normalize(text: str) -> str:
    """ACEBench's string normalisation: lower case, ``' ,./-_*^`` removed, ``'`` → ``"``."""
    return _STRIP.sub("", text).lower().replace("'", '"')


# ------------------------------------------------------------------------- values


def _as_bool(value: Any) -> Any:
    if value == "true":
        return True
    if value == "false":
        return False
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def match_value(value: Any, expected: Any, *, where: str, exact_strings: bool = False) -> str | None:
    """Why ``value`` does not match ``expected`` (``None``: it matches); rules in the
    module docstring. ``where`` names the place for the message (``f.arg.key[0]``);
    ``exact_strings``: normalised strings must be equal (inside lists), not contained."""
    value = _as_bool(value)
    if isinstance(expected, bool):
        if value is not expected:
            return f"{where}: expected {expected!r}, got {value!r}"
        return None
    if _is_number(expected):
        if _is_number(value):
            return None if math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12) else (
                f"{where}: expected {expected!r}, got {value!r}"
            )
        if isinstance(value, str) and normalize(value) == normalize(str(expected)):
            return None  # a schema that types the number as a string
        return f"{where}: expected the number {expected!r}, got {value!r}"
    if isinstance(expected, str):
        if not isinstance(value, str):
            if _is_number(value) and normalize(str(value)) == normalize(expected):
                return None
            return f"{where}: expected a string like {expected!r}, got {value!r}"
        want, got = normalize(expected), normalize(value)
        ok = want == got if exact_strings else want in got
        return None if ok else f"{where}: expected {expected!r}, got {value!r}"
    if isinstance(expected, Mapping):
        if not isinstance(value, Mapping):
            return f"{where}: expected an object, got {value!r}"
        missing = sorted(set(expected) - set(value))
        extra = sorted(set(value) - set(expected))
        if missing or extra:
            return f"{where}: keys differ (missing {missing}, unexpected {extra})"
        for key, sub in expected.items():
            why = match_value(value[key], sub, where=f"{where}.{key}")
            if why:
                return why
        return None
    if isinstance(expected, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            return f"{where}: expected a list, got {value!r}"
        if len(value) != len(expected):
            return f"{where}: expected {len(expected)} items, got {len(value)}"
        for i, (v, e) in enumerate(zip(value, expected, strict=True)):
            why = match_value(v, e, where=f"{where}[{i}]", exact_strings=True)
            if why:
                return why
        return None
    return None if value == expected else f"{where}: expected {expected!r}, got {value!r}"


# -------------------------------------------------------------------------- calls


def _schema(functions: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    for doc in functions:
        if doc.get("name") == name:
            params = doc.get("parameters")
            return params if isinstance(params, Mapping) else {}
    return None


def check_call(
    functions: Sequence[Mapping[str, Any]], call: ToolCall, expected: Mapping[str, Any]
) -> AceCheck:
    """One answered call against one expected call ``{arg: value}`` of the same function."""
    schema = _schema(functions, call.name)
    if schema is None:
        return _fail("wrong_function_name", f"{call.name} is not an offered function")
    properties = schema.get("properties") or {}
    if not properties and not call.arguments:
        return _OK
    for param in schema.get("required") or []:
        if param not in call.arguments:
            return _fail("lack_args", f"{call.name}: missing required parameter {param!r}")
    for param, value in call.arguments.items():
        if param not in properties or param not in expected:
            return _fail("addition_args", f"{call.name}: parameter {param!r} is not expected")
        why = match_value(value, expected[param], where=f"{call.name}.{param}")
        if why:
            return _fail("value_error", why)
    return _OK


def expected_calls(
    functions: Sequence[Mapping[str, Any]], answer: Mapping[str, Any]
) -> list[tuple[str, Mapping[str, Any]]]:
    """The ground truth's calls as ``(function, {arg: value})``: ``name_2`` → ``name``
    unless ``name_2`` itself is offered."""
    offered = {str(doc.get("name")) for doc in functions}
    out = []
    for key, args in answer.items():
        bare = _SUFFIX.sub("", key)
        name = key if key in offered or bare == key else bare
        out.append((name, args if isinstance(args, Mapping) else {}))
    return out


def _match_all(
    functions: Sequence[Mapping[str, Any]],
    calls: Sequence[ToolCall],
    expected: Sequence[tuple[str, Mapping[str, Any]]],
) -> AceCheck:
    """A one-to-one assignment of answered calls to expected calls (backtracking; a
    handful of calls at most)."""
    first_error: list[AceCheck] = []
    verdicts: dict[tuple[int, int], bool] = {}

    def fits(i: int, j: int) -> bool:
        if (i, j) not in verdicts:
            name, args = expected[i]
            result = check_call(functions, calls[j], args) if calls[j].name == name else _fail(
                "wrong_function_name", f"expected {name}, got {calls[j].name}"
            )
            if not result.valid and not first_error and calls[j].name == name:
                first_error.append(result)
            verdicts[(i, j)] = result.valid
        return verdicts[(i, j)]

    used: set[int] = set()

    def assign(i: int) -> bool:
        if i == len(expected):
            return True
        for j in range(len(calls)):
            if j not in used and fits(i, j):
                used.add(j)
                if assign(i + 1):
                    return True
                used.discard(j)
        return False

    if assign(0):
        return _OK
    return first_error[0] if first_error else _fail("value_error", "no assignment of calls fits")


def check_normal(
    functions: Sequence[Mapping[str, Any]], calls: Sequence[ToolCall], ground_truth: Any
) -> AceCheck:
    """Calls against a normal ground truth (one answer or a list of alternatives)."""
    alternatives = ground_truth if isinstance(ground_truth, list) else [ground_truth]
    results = []
    for answer in alternatives:
        if not isinstance(answer, Mapping):
            continue
        result = _check_answer(functions, calls, answer)
        if result.valid:
            return result
        results.append(result)
    return results[0] if results else _fail("no_ground_truth", "the ground truth is not a call")


def _check_answer(
    functions: Sequence[Mapping[str, Any]], calls: Sequence[ToolCall], answer: Mapping[str, Any]
) -> AceCheck:
    expected = expected_calls(functions, answer)
    if not calls:
        return _fail("no_call", f"no call; expected {len(expected)}")
    if len(calls) != len(expected):
        return _fail("wrong_count", f"expected {len(expected)} calls, got {len(calls)}")
    want = Counter(name for name, _ in expected)
    got = Counter(c.name for c in calls)
    if want != got:
        extra = sorted((got - want).elements())
        missing = sorted((want - got).elements())
        return _fail("function_mismatch", f"unexpected calls {extra}, missing calls {missing}")
    return _match_all(functions, calls, expected)


# ------------------------------------------------------------------------ special


def _names_all(text: str, needles: Sequence[Any]) -> list[str]:
    """The needles the text does not mention (after normalisation)."""
    hay = normalize(text)
    return [str(n).strip() for n in needles if normalize(str(n).strip()) not in hay]


def check_special(
    category: str, calls: Sequence[ToolCall], text: str, ground_truth: Any, *, phrases: bool = True
) -> AceCheck:
    """A special question's answer: no call, and the text says what the module docstring
    asks. ``phrases``: the reference's rule (ACEBench's answer formats required)."""
    if calls:
        names = ", ".join(c.name for c in calls)
        return _fail("unexpected_call", f"called {names}; the right answer makes no call")
    lowered = text.lower()
    if category == "special_irrelevant":
        if phrases and IRRELEVANT_PHRASE.lower() not in lowered:
            return _fail("error_detection", "does not say the functions cannot do this")
        if not text.strip():
            return _fail("error_detection", "no answer")
        return _OK
    if not isinstance(ground_truth, Mapping):
        return _fail("no_ground_truth", "the ground truth names nothing")
    if category == "special_incomplete":
        if phrases and INCOMPLETE_PHRASE.lower() not in lowered:
            return _fail("error_detection", f"does not say {INCOMPLETE_PHRASE!r}")
        for function, params in ground_truth.items():
            if phrases and normalize(function) not in normalize(text):
                return _fail("error_correction", f"does not name the function {function}")
            missing = _names_all(text, params if isinstance(params, list) else [params])
            if missing:
                return _fail("error_correction", f"does not name the missing {missing}")
        return _OK
    if category == "special_error_param":
        if phrases and WRONG_VALUE_PHRASE.lower() not in lowered:
            return _fail("error_detection", f"does not say {WRONG_VALUE_PHRASE!r}")
        for _param, values in ground_truth.items():
            missing = _names_all(text, values if isinstance(values, list) else [values])
            if missing:
                return _fail("error_correction", f"does not quote the wrong values {missing}")
        return _OK
    raise ConfigurationError(f"{category!r} is not a special ACEBench category")


def right_refusal(category: str, ground_truth: Any) -> str:
    """The answer a special question wants, in ACEBench's format (the chosen side of a
    special pair; it passes :func:`check_special`)."""
    if category == "special_incomplete" and isinstance(ground_truth, Mapping):
        return "; ".join(
            f"{INCOMPLETE_PHRASE} ({', '.join(str(p).strip() for p in params)}) for the api ({name})"
            for name, params in ground_truth.items()
        )
    if category == "special_error_param" and isinstance(ground_truth, Mapping):
        return " ".join(
            f"{WRONG_VALUE_PHRASE} ({', '.join(str(v) for v in values)}) for the parameters "
            f"({param}) in the conversation history."
            for param, values in ground_truth.items()
        )
    return f"Due to {IRRELEVANT_PHRASE}, I cannot solve this problem."


def check(question: Any, calls: Sequence[ToolCall], text: str = "", *, phrases: bool = True) -> AceCheck:
    """Score an answer to ``question`` (an :class:`~eval.acebench.data.AceQuestion`)."""
    if question.category.startswith("special_"):
        return check_special(question.category, calls, text, question.ground_truth, phrases=phrases)
    return check_normal(question.functions, calls, question.ground_truth)
