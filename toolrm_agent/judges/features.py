"""What the trained critic measures about a proposal besides its text: call features.

:func:`call_features` turns one (context, proposal) into a fixed vector of numbers
(:data:`FEATURE_NAMES`) and a list of :class:`Finding` objects, the same facts in words.
The trained discriminative critic (:mod:`toolrm_agent.judges.trained.trained`) feeds the numbers
to its scalar head and writes its critique from the findings, so a rejection says what to
fix: which value is not in the request, which part of the request no call covers, how many
calls the request seems to need, that no offered tool fits.

The features are cheap (pure Python, tens of microseconds) and deterministic:

* **schema** — counts of the :class:`~toolrm_agent.judges.schema.SchemaJudge` error codes
  (unknown function, missing required, unexpected argument, wrong type, enum, duplicate
  call, unparseable call);
* **grounding** — argument values that appear nowhere in the conversation (checked as
  the schema judge does: whole, by words, numbers in any notation), the share of value
  words missing from it, optional arguments given with such values;
* **coverage** — the *entities* of the latest user message (numbers, quoted strings,
  capitalised names such as ``New York`` or ``S&P 500``) that some argument value
  contains: a missing parallel call or a left-out optional argument leaves part of the
  request uncovered. Entities, not words: a value that copies more of the request
  (``'Los Angeles court'`` for ``'Los Angeles'``) covers nothing more;
* **conventions** — values that break a format the parameter's description states (a
  date for ``YYYY-MM-DD``), a percentage given as ``5`` where the description asks for a
  decimal (or ``0.05`` where it asks for a percentage), and how many words string values
  take beyond the entity they name;
* **shape** — the number of calls, of distinct functions, whether nothing is called,
  and cues of how many calls the request needs (items joined by "and", commas, numbers);
* **lexical fit** — the share of a called function's name words (``get_top_scorer`` →
  get, top, scorer) and description words found in the request, the lowest over the
  calls, and the best share among all offered functions (what a no-call answer is
  weighed against).

The request (the latest user message) is read as the judge prompt holds it
(:func:`~toolrm_agent.prompting.prompt_text.request_in_budget`): a message longer than the prompt
budget's ``message`` share is read by its head and tail, never whole.

Relevance of the called functions to the request needs a sentence encoder; it is added by
the trained judge (see ``relevance`` there), not here, so this module imports nothing heavy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.specs import ToolSpec, spec_index
from toolrm_agent.core.verdicts import IssueCode
from toolrm_agent.judges.schema import (
    SchemaJudge,
    _Grounding,
    _leaves,
    _text_numbers,
    _word_numbers,
)
from toolrm_agent.prompting.prompt_text import request_in_budget, without_judge_markup

_STOP = frozenset(
    """a an the of to in on for and or with by at from is are was were be been being what
    how can could would should will you me my i it its this that these those please find get
    give tell about as into which who whom whose want need like also then there their them
    they we our us do does did have has had any some all each every much many more most
    just than so if when where why use using want let know show help make one""".split()
)
_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?|[^\W\d_]+")
_AND = re.compile(r"\b(?:and|as well as|also|both|respectively|then|plus|each)\b", re.IGNORECASE)

SCHEMA_CODES: tuple[IssueCode, ...] = (
    IssueCode.UNKNOWN_FUNCTION,
    IssueCode.MISSING_REQUIRED,
    IssueCode.UNEXPECTED_ARGUMENT,
    IssueCode.TYPE_MISMATCH,
    IssueCode.ENUM_VIOLATION,
    IssueCode.DUPLICATE_CALL,
    IssueCode.MALFORMED_ARGUMENTS,
)

DECISIVE_SCHEMA_CODES: tuple[IssueCode, ...] = tuple(c for c in SCHEMA_CODES if c is not IssueCode.DUPLICATE_CALL)
"""Schema errors that reject a proposal whatever the trained critic's score (:attr:`Finding.decisive`): a
call to a function that is not offered, or with arguments its schema does not allow, fails when it runs.
A repeated call is only counted: it may be meant (BFCL's ground truth repeats a call in 3 of its 979 dev
answers). The schema judge finds one of these errors in 2 of BFCL's 979 dev ground truths (where BFCL's own
answer breaks its schema) and in 446 of the 2,169 wrong answers paired with them; on the live dev set, in 2
of 208 and 81 of 280 (``train/results/s12/schema_errors.py``)."""

FEATURE_NAMES: tuple[str, ...] = (
    *(f"err_{c.value}" for c in SCHEMA_CODES),
    "any_error",
    "no_call",
    "n_calls",
    "n_functions",
    "n_offered",
    "n_leaves",
    "ungrounded",
    "ungrounded_share",
    "ungrounded_word_share",
    "optional_given",
    "optional_ungrounded",
    "default_values",
    "coverage",
    "covered",
    "uncovered",
    "request_numbers_unused",
    "format_violations",
    "percent_mismatch",
    "value_words",
    "request_and_cues",
    "request_commas",
    "request_numbers",
    "calls_minus_cues",
    "same_function_calls",
    "history_turns",
    "name_overlap_min",
    "name_overlap_best_offered",
    "description_overlap_min",
)


@dataclass(frozen=True)
class Finding:
    """One fact about the proposal, in words a small policy can act on."""

    code: IssueCode
    message: str
    call: str | None = None
    """The function the finding is about (``None``: the proposal as a whole)."""
    decisive: bool = False
    """Rejects the proposal whatever its score: a call that breaks the offered tool's schema
    (:data:`DECISIVE_SCHEMA_CODES`), or a request that joins items ("and", "also", ...) and
    gives values no call uses, which is only half answered."""


@dataclass(frozen=True)
class Features:
    values: tuple[float, ...]
    findings: tuple[Finding, ...]


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t[0].isdigit() or (len(t) >= 2 and t not in _STOP)]


_WRITTEN_NUMBER = re.compile(
    r"(?<![\w^.,])\d[\d,]*(?:\.\d+)?(?![\w^]|[.,]\d)(?:\s*(thousand|million|billion|trillion)\b)?", re.IGNORECASE
)
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _written_numbers(text: str) -> set[float]:
    """Numbers written in digits as values: not glued to a word ("B1", "m2"), not an exponent
    ("m/s^2"); "3,4" is two numbers unless it groups thousands ("1,000"); "1.2 million" is
    1200000."""
    out: set[float] = set()
    for m in _WRITTEN_NUMBER.finditer(text):
        token = m.group().split()[0].rstrip(",") if m.group(1) else m.group().rstrip(",")
        token = re.sub(r"(?i)(thousand|million|billion|trillion)$", "", token).rstrip(",")
        parts = [token] if "," not in token or _THOUSANDS.fullmatch(token) else token.split(",")
        scale = _SCALE[m.group(1).lower()] if m.group(1) else 1.0
        out |= {n * scale for part in parts if part and (n := _number(part)) is not None}
    return out


def _number(token: str) -> float | None:
    try:
        return float(token.replace(",", ""))
    except ValueError:
        return None


def _stem(word: str) -> str:
    return word[:5]


def _value_tokens(value: Any) -> tuple[set[str], set[float]]:
    words: set[str] = set()
    numbers: set[float] = set()
    for _, leaf, _ in _leaves(value, {}, "", 0):
        if isinstance(leaf, str):
            for t in _tokens(leaf):
                n = _number(t) if t[0].isdigit() else None
                if n is not None:
                    numbers.add(n)
                else:
                    words.add(_stem(t))
            numbers |= _text_numbers(leaf.lower())
        elif isinstance(leaf, int | float) and not isinstance(leaf, bool):
            number = _finite(leaf)
            if number is not None:
                numbers.add(abs(number))
    return words, numbers


def _finite(value: int | float) -> float | None:
    """``value`` as a finite float, or ``None``: an integer past the float range (a JSON
    number of 309 digits is an ordinary tool-call argument) raises ``OverflowError`` in
    ``float()``, and NaN or an infinity matches no number of the request."""
    try:
        number = float(value)
    except (OverflowError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _number_match(n: float, pool: Iterable[float]) -> bool:
    return any(math.isclose(n, p, rel_tol=1e-9) or math.isclose(n, p * 100) or math.isclose(n * 100, p)
               for p in pool)


def _show(value: Any, limit: int = 50) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_SCHEMA = SchemaJudge(check_grounding=False)


def call_features(context: JudgeContext, proposal: Proposal) -> Features:
    """The feature vector and findings of one proposal (see the module docstring)."""
    findings: list[Finding] = []
    index = spec_index(context.tools)
    # the request as the judge prompt holds it (a megabyte message: its head and tail)
    request = request_in_budget(context)
    grounding = _Grounding(context.grounding_text())

    # -- schema
    counts = dict.fromkeys(SCHEMA_CODES, 0)
    if proposal.calls or proposal.failures:
        critique = _SCHEMA.critique(context, proposal)
        for verdict in critique.calls:
            for issue in verdict.issues:
                if issue.code in counts and issue.severity == "error":
                    counts[issue.code] += 1
                    findings.append(Finding(issue.code, issue.message, _call_name(proposal, verdict.tool_call_id),
                                            decisive=issue.code in DECISIVE_SCHEMA_CODES))

    # -- grounding of every leaf value
    leaves = 0
    ungrounded = 0
    optional_given = 0
    optional_ungrounded = 0
    defaults = 0
    value_words: set[str] = set()
    value_numbers: set[float] = set()
    context_words = {_stem(t) for t in _tokens(context.grounding_text())}
    missing_words = 0
    all_words = 0
    for call in proposal.calls:
        spec: ToolSpec | None = index.get(call.name)
        required = set(spec.required) if spec else set()
        props = spec.properties if spec else {}
        for key, value in call.arguments.items():
            prop = props.get(key)
            schema: dict[str, Any] = prop if isinstance(prop, dict) else {}
            is_default = "default" in schema and schema["default"] == value
            defaults += is_default
            optional = key not in required
            optional_given += optional
            words, numbers = _value_tokens(value)
            value_words |= words
            value_numbers |= numbers
            all_words += len(words)
            missing_words += sum(1 for w in words if w not in context_words)
            bad = []
            for path, leaf, leaf_schema in _leaves(value, schema, key, 0):
                leaves += 1
                if is_default or _grounded(leaf, leaf_schema, grounding):
                    continue
                bad.append((path, leaf))
            ungrounded += len(bad)
            optional_ungrounded += bool(bad) and optional
            for path, leaf in bad[:2]:
                findings.append(
                    Finding(
                        IssueCode.UNGROUNDED_VALUE,
                        f"`{call.name}`: the value {_show(leaf)} for `{path}` is not in the "
                        "request; use the user's own words or leave an optional argument out.",
                        call.name,
                    )
                )

    # -- coverage of the latest request: its entities
    request_tokens = _tokens(request)
    request_numbers = {n for t in request_tokens if t[0].isdigit() and (n := _number(t)) is not None}
    request_numbers |= _word_numbers(request.lower())
    entities = _entities(request)
    value_text = " ".join(
        _norm(str(leaf)) for c in proposal.calls for _, leaf, _ in _leaves(c.arguments, {}, "", 0)
    )
    covered_entities = {e for e in entities if e in value_text}
    covered_numbers = {n for n in request_numbers if _number_match(n, value_numbers)}
    total = len(entities) + len(request_numbers)
    covered = len(covered_entities) + len(covered_numbers)
    unused_numbers = sorted(request_numbers - covered_numbers)
    missing_entities = sorted(entities - covered_entities)
    if proposal.calls and missing_entities and len(missing_entities) <= 3 and unused_numbers == []:
        shown = ", ".join(f"'{_as_written(e, request)}'" for e in missing_entities)
        findings.append(
            Finding(IssueCode.UNCOVERED_REQUEST, f"the request names {shown}, which no call uses; "
                    "if the user asked about several items, each may need its own call.")
        )
    violations, percent, words_beyond = _conventions(proposal, index, request, entities)
    if proposal.calls and unused_numbers and len(unused_numbers) <= 4:
        shown = ", ".join(f"{n:g}" for n in unused_numbers)
        # "250 dollars in euros and 40 pounds in yen" answered with one call: half the request.
        # Only a value the user plainly wrote as a number vetoes (not "two sides", "m/s^2" or
        # "A(3,4)" read as 34: those stay findings for the score)
        joined = bool(covered_numbers) and _AND.search(request) is not None and bool(
            {n for n in _written_numbers(request) if not _number_match(n, value_numbers)}
        )
        findings.append(
            Finding(IssueCode.UNCOVERED_REQUEST, f"the request mentions {shown}, which no call "
                    "uses; each value the user gives should go into a call"
                    + (" (the request asks for several things: each may need its own call)." if joined else "."),
                    decisive=bool(joined))
        )

    # -- shape
    n_calls = len(proposal.calls) + len(proposal.failures)
    names = [c.name for c in proposal.calls]
    and_cues = len(_AND.findall(request))
    commas = request.count(",")
    same_function = n_calls - len(set(names)) if names else 0
    if not n_calls:
        findings.append(Finding(IssueCode.NO_CALL, "nothing is called."))

    values = (
        *(float(counts[c]) for c in SCHEMA_CODES),
        float(any(counts.values())),
        float(n_calls == 0),
        math.log1p(n_calls),
        math.log1p(len(set(names))),
        math.log1p(len(context.tools)),
        math.log1p(leaves),
        math.log1p(ungrounded),
        ungrounded / leaves if leaves else 0.0,
        missing_words / all_words if all_words else 0.0,
        math.log1p(optional_given),
        math.log1p(optional_ungrounded),
        math.log1p(defaults),
        covered / total if total else 1.0,
        math.log1p(covered),
        math.log1p(total - covered),
        math.log1p(len(unused_numbers)),
        math.log1p(violations),
        float(percent),
        math.log1p(words_beyond),
        math.log1p(and_cues),
        math.log1p(commas),
        math.log1p(len(request_numbers)),
        float(n_calls) - (1.0 + min(and_cues, 5)),
        math.log1p(same_function),
        math.log1p(sum(1 for t in context.turns if t.role in ("assistant", "tool"))),
        *_lexical_fit(proposal, context, request),
    )
    return Features(values=tuple(float(v) for v in values), findings=tuple(findings))


_QUOTED = re.compile(r"'([^']{1,60})'|\"([^\"]{1,60})\"")
_CAPITALISED = re.compile(r"(?<![\w'])([A-Z][\w&.'-]*(?:\s+(?:of|de|du|la|le|\d+|[A-Z][\w&.'-]*))*)")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n)\s*[\"']?$")
_NORM = re.compile(r"[^\w&]+")


def _norm(text: str) -> str:
    return " " + _NORM.sub(" ", text.lower()).strip() + " "


def _as_written(entity: str, request: str) -> str:
    """A normalised entity (``" new york "``) as the request writes it (``New York``)."""
    words = entity.split()
    found = re.search(r"\W+".join(re.escape(w) for w in words), request, re.IGNORECASE) if words else None
    return found.group(0) if found else entity.strip()


def _bare(word: str) -> str:
    """``What's`` → ``what``: a word without its contraction or possessive, lower-cased."""
    return re.split(r"['’]", word.lower(), maxsplit=1)[0]


def _entities(request: str) -> set[str]:
    """Quoted strings and capitalised names of the request, normalised (``" new york "``)."""
    found: set[str] = set()
    for m in _QUOTED.finditer(request):
        found.add(_norm(m.group(1) or m.group(2)))
    for m in _CAPITALISED.finditer(request):
        phrase = m.group(1).rstrip(".'-")
        words = phrase.split()
        if _SENTENCE_START.search(request[: m.start()]) and _bare(words[0]) in _STOP | _VERBS:
            words = words[1:]  # "Find ..." / "What ..." at a sentence start are not names
            while words and _bare(words[0]) in _STOP:
                words = words[1:]
            if not words or not words[0][:1].isupper():
                continue
        if words and not (len(words) == 1 and _bare(words[0]) in _STOP):
            found.add(_norm(" ".join(words)))
    return {e for e in found if e.strip()}


_VERBS = frozenset(
    """calculate compute find get give tell show list book order search look check play
    fetch retrieve provide estimate determine predict convert analyze analyse identify
    create generate send schedule buy sell plan locate compare translate""".split()
)
_DATE_HINT = re.compile(r"yyyy|yy-mm|mm[-/]dd|dd[-/]mm|iso ?8601|\bdate format\b", re.IGNORECASE)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_DECIMAL_HINT = re.compile(r"\bdecimal\b|\bfraction\b|e\.g\.,? 0\.\d", re.IGNORECASE)
_PERCENT_HINT = re.compile(r"percent|percentage|%", re.IGNORECASE)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent)", re.IGNORECASE)


def _conventions(
    proposal: Proposal, index: dict[str, ToolSpec], request: str, entities: set[str]
) -> tuple[int, int, int]:
    """(format violations, percentage-scale mismatches, words of values beyond entities)."""
    violations = percent = beyond = 0
    percents = {float(m.group(1)) for m in _PERCENT.finditer(request)}
    for call in proposal.calls:
        spec = index.get(call.name)
        props = spec.properties if spec else {}
        for key, value in call.arguments.items():
            prop = props.get(key)
            schema: dict[str, Any] = prop if isinstance(prop, dict) else {}
            text = f"{schema.get('description', '')} {schema.get('format', '')}"
            if isinstance(value, str):
                if _DATE_HINT.search(text) and "yyyy" in text.lower() and not _ISO_DATE.match(value) \
                        and text.lower().find("yyyy") < text.lower().find("dd"):
                    violations += 1
                norm = _norm(value)
                if any(e in norm for e in entities):
                    named = max((e for e in entities if e in norm), key=len)
                    beyond += max(0, len(norm.split()) - len(named.split()))
            elif isinstance(value, int | float) and not isinstance(value, bool) and percents:
                if (number := _finite(value)) is None:
                    continue
                if _DECIMAL_HINT.search(text) and number in percents and number > 1:
                    percent += 1
                elif _PERCENT_HINT.search(text) and not _DECIMAL_HINT.search(text) \
                        and any(math.isclose(number * 100, p) for p in percents) and number < 1:
                    percent += 1
    return violations, percent, beyond


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _name_words(name: str) -> set[str]:
    spaced = _CAMEL.sub(" ", name).replace(".", " ").replace("_", " ").replace("-", " ")
    return {_stem(w) for w in _tokens(spaced) if not w[0].isdigit()}


def _lexical_fit(proposal: Proposal, context: JudgeContext, request: str) -> tuple[float, float, float]:
    """(lowest name-word share over the calls, best over the offered, lowest description share)."""
    words = {_stem(t) for t in _tokens(request) if not t[0].isdigit()}

    def share(found: set[str]) -> float:
        return len(found & words) / len(found) if found else 0.0

    index = spec_index(context.tools)
    offered = [share(_name_words(s.name)) for s in context.tools]
    names = [share(_name_words(c.name)) for c in proposal.calls]
    descriptions = [
        share({_stem(t) for t in _tokens(without_judge_markup(index[c.name].description)) if not t[0].isdigit()})
        if c.name in index else 0.0
        for c in proposal.calls
    ]
    return (min(names) if names else 0.0, max(offered) if offered else 0.0,
            min(descriptions) if descriptions else 0.0)


def _call_name(proposal: Proposal, call_id: str) -> str | None:
    return next((c.name for c in proposal.calls if c.id == call_id), None)


def _grounded(value: Any, schema: dict[str, Any], grounding: _Grounding) -> bool:
    return _SCHEMA._is_grounded(value, schema, grounding)


__all__ = ["DECISIVE_SCHEMA_CODES", "FEATURE_NAMES", "Features", "Finding", "SCHEMA_CODES", "call_features"]
