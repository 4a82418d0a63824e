"""Rule-based corruptions of the ground truth that mirror the mistakes real models make.

Each corruption takes the ground truth of one record and returns a wrong proposal, or
``None`` where it does not apply (no parallel call to drop, no optional argument to
leave out). What they copy, measured on the failing BFCL outputs of 57 models (the
rejected sides of ``toolrm eval trbench``): most real mistakes are well-formed calls —
a parallel call missing or merged into one list, a value that is not in the request
(``'Paris, France'`` for ``'Paris'``, ``'default'``), a value reformatted or partly
copied, an optional argument the user gave left out, an invented optional argument, a
neighbouring function, and calls where no offered tool fits.

============================  ===============================================================
name                          what it does
============================  ===============================================================
``drop_call``                 one of several calls left out
``duplicate_call``            one call repeated verbatim
``merge_parallel``            calls of one function that differ in one argument merged into
                              one call whose value is the list of their values
``split_list``                a list argument of several items split into one call per item
``swap_values``               one argument's values swapped between two calls of one function
``ungrounded_value``          a value replaced by one that appears nowhere in the conversation
``paraphrase_value``          a string value reformatted, cut short or padded ("Paris, France")
``drop_optional``             an optional argument the ground truth gives is left out
``add_optional``              an optional argument the ground truth does not give is added with
                              a value nobody asked for
``drop_required``             a required argument left out
``type_change``               a value given the wrong type (``"5"`` for 5, a list for a string)
``wrong_function``            another offered function called with what fits of the arguments
``unknown_function``          a function that is not offered (a near-miss of the right name)
``no_call``                   nothing called although the request needs a call
``irrelevant_call``           (no-call records) an offered function called although none fits
``surface_form``              a canonical value written the way a user says it: an ISO date as
                              "10th December 2022", ``USD`` as "dollars", ``CA`` as
                              "California", ``km`` as "kilometers", ``True`` as "yes"
                              (:mod:`train.surface_forms`)
``extra_words``               a value copied from the request with the words around it
                              (``"human"`` → ``"human cell"``, ``"Marshall"`` → ``"Marshall, MN"``)
``item_for_category``         a value the request does not spell out (a category, a code)
                              replaced by words the user did write (``"dessert"`` →
                              ``"brownies"``)
============================  ===============================================================

The last three mirror a current model's most common mistake (BFCL's
``value_error:string``): copying the user's words where the tool needs another value.
Their wrong values are *grounded* (they appear in the request, or are how a user would
write the value), so a critic cannot catch them by checking that values were given.

Every corruption is deterministic given its ``random.Random``; :func:`corrupt` applies
a seeded selection of them and tags each result with its name.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.specs import ToolSpec
from train.records import TrainRecord
from train.scoring import values_equal
from train.surface_forms import surface_forms


@dataclass(frozen=True)
class Situation:
    """What a corruption may look at: the record's ground truth, tools and text."""

    record: TrainRecord
    calls: tuple[ToolCall, ...]
    specs: dict[str, ToolSpec]
    text: str
    """The conversation's text, lower-cased (to check that a new value is ungrounded)."""
    pool: Sequence[str]
    """String values seen in other records (material for ungrounded replacements)."""

    @classmethod
    def of(cls, record: TrainRecord, pool: Sequence[str] = ()) -> Situation:
        specs = {s.name: s for s in record.specs()}
        text = " ".join(str(m.get("content") or "") for m in record.messages).lower()
        return cls(record, record.ground_truth().calls, specs, text, pool)

    def grounded(self, value: Any) -> bool:
        return str(value).lower() in self.text


Corruption = Callable[[Situation, random.Random], Proposal | None]


def _proposal(calls: Sequence[ToolCall]) -> Proposal:
    return Proposal(calls=tuple(c.override(id=f"c{i}") for i, c in enumerate(calls)))


def _with_args(call: ToolCall, args: dict[str, Any]) -> ToolCall:
    return call.override(arguments=args)


def _replace_value(s: Situation, i: int, key: str, new: Any) -> Proposal:
    """The proposal with argument ``key`` of call ``i`` set to ``new``."""
    calls = list(s.calls)
    calls[i] = _with_args(calls[i], {**calls[i].arguments, key: new})
    return _proposal(calls)


def _replace_first(
    s: Situation, rng: random.Random, options: list[tuple[int, str]], new_value: Callable[[ToolCall, str], Any]
) -> Proposal | None:
    """The first of the shuffled ``options`` (call index, argument) that ``new_value`` gives
    a value for (``None``: none), set to it; ``None`` if none does."""
    rng.shuffle(options)
    for i, key in options:
        new = new_value(s.calls[i], key)
        if new is not None:
            return _replace_value(s, i, key, new)
    return None


def _drop_argument(s: Situation, options: list[tuple[int, str]], rng: random.Random) -> Proposal | None:
    """The proposal without one of ``options`` (call index, argument), drawn; ``None`` if there is none."""
    if not options:
        return None
    i, key = rng.choice(options)
    calls = list(s.calls)
    calls[i] = _with_args(calls[i], {k: v for k, v in calls[i].arguments.items() if k != key})
    return _proposal(calls)


def _scalar_keys(call: ToolCall, kinds: tuple[type, ...] = (str, int, float)) -> list[str]:
    return [
        k
        for k, v in call.arguments.items()
        if isinstance(v, kinds) and not isinstance(v, bool)
    ]


# ------------------------------------------------------------------------- call count


def drop_call(s: Situation, rng: random.Random) -> Proposal | None:
    if len(s.calls) < 2:
        return None
    keep = list(s.calls)
    keep.pop(rng.randrange(len(keep)))
    return _proposal(keep)


def duplicate_call(s: Situation, rng: random.Random) -> Proposal | None:
    if not s.calls:
        return None
    calls = list(s.calls)
    calls.insert(rng.randrange(len(calls) + 1), rng.choice(s.calls))
    return _proposal(calls)


def extra_call(s: Situation, rng: random.Random) -> Proposal | None:
    """One call too many: a variant of a call the request asked for once.

    Real models over-call as often as they under-call on BFCL: the same function again
    with two values swapped (``hcf(36, 24)`` then ``hcf(24, 36)``) or with an extra
    argument. Only for requests of one call: in a parallel request another call with
    other values may be one the user asked for.
    """
    if len(s.calls) != 1:
        return None
    call = rng.choice(s.calls)
    args = dict(call.arguments)
    same_type = [
        (a, b)
        for i, a in enumerate(_scalar_keys(call))
        for b in _scalar_keys(call)[i + 1 :]
        if type(args[a]) is type(args[b]) and args[a] != args[b]
    ]
    spec = s.specs.get(call.name)
    unset = [k for k in spec.properties if k not in args] if spec else []
    ways = ["swap"] * bool(same_type) + ["add"] * bool(unset)
    if not ways:
        return None
    if rng.choice(ways) == "swap":
        a, b = rng.choice(same_type)
        args[a], args[b] = args[b], args[a]
    else:
        key = rng.choice(unset)
        schema = spec.properties.get(key) if spec else None
        value = _invent(schema if isinstance(schema, dict) else {}, s, rng)
        if value is None:
            return None
        args[key] = value
    extra = _with_args(call, args)
    calls = list(s.calls)
    calls.insert(calls.index(call) + 1, extra)
    return _proposal(calls)


def merge_parallel(s: Situation, rng: random.Random) -> Proposal | None:
    by_name: dict[str, list[ToolCall]] = {}
    for c in s.calls:
        by_name.setdefault(c.name, []).append(c)
    groups = [g for g in by_name.values() if len(g) >= 2]
    if not groups:
        return None
    group = rng.choice(groups)
    differing = [
        k
        for k in group[0].arguments
        if all(k in c.arguments for c in group)
        and len({repr(c.arguments[k]) for c in group}) == len(group)
    ]
    if not differing:
        return None
    key = rng.choice(differing)
    merged_args = dict(group[0].arguments)
    merged_args[key] = [c.arguments[key] for c in group]
    rest = [c for c in s.calls if c not in group]
    return _proposal([_with_args(group[0], merged_args), *rest])


def split_list(s: Situation, rng: random.Random) -> Proposal | None:
    options = [
        (i, k)
        for i, c in enumerate(s.calls)
        for k, v in c.arguments.items()
        if isinstance(v, list) and 2 <= len(v) <= 5
        and all(isinstance(x, str | int | float) for x in v)
    ]
    if not options:
        return None
    i, key = rng.choice(options)
    call = s.calls[i]
    pieces = [_with_args(call, {**call.arguments, key: [item]}) for item in call.arguments[key]]
    if rng.random() < 0.5:  # half the time the item is given bare, not as a one-item list
        pieces = [_with_args(call, {**call.arguments, key: item}) for item in call.arguments[key]]
    return _proposal([*s.calls[:i], *pieces, *s.calls[i + 1 :]])


def swap_values(s: Situation, rng: random.Random) -> Proposal | None:
    options = []
    for i, a in enumerate(s.calls):
        for j in range(i + 1, len(s.calls)):
            b = s.calls[j]
            if a.name != b.name:
                continue
            for k in a.arguments:
                if k in b.arguments and repr(a.arguments[k]) != repr(b.arguments[k]):
                    options.append((i, j, k))
    # one key swapped between two calls of one function (needs another key to differ,
    # otherwise the swap only reorders the calls)
    options = [
        (i, j, k)
        for i, j, k in options
        if any(
            kk != k and repr(s.calls[i].arguments.get(kk)) != repr(s.calls[j].arguments.get(kk))
            for kk in s.calls[i].arguments
        )
    ]
    if not options:
        return None
    i, j, key = rng.choice(options)
    calls = list(s.calls)
    a, b = calls[i], calls[j]
    calls[i] = _with_args(a, {**a.arguments, key: b.arguments[key]})
    calls[j] = _with_args(b, {**b.arguments, key: a.arguments[key]})
    return _proposal(calls)


# ----------------------------------------------------------------------------- values

_SUFFIXES = (", USA", ", UK", " City", " Inc.", " (default)", " area", ", Europe", " 2024")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTHS = (
    "January February March April May June July August September October November December"
).split()


def _new_number(value: float | int, s: Situation, rng: random.Random) -> float | int | None:
    for _ in range(8):
        if isinstance(value, int):
            cand: float | int = rng.choice(
                [value + rng.randint(1, 9), value * 10, max(0, value - rng.randint(1, 5)) or 7,
                 rng.choice([10, 12, 24, 30, 50, 100, 365, 1000])]
            )
        else:
            cand = rng.choice([round(value * rng.uniform(0.3, 3.0), 2), value * 100, value / 100, 0.5])
        if cand != value and not s.grounded(cand):
            return cand
    return None


def _new_string(value: str, s: Situation, rng: random.Random) -> str | None:
    pool = [p for p in s.pool if p.lower() != value.lower() and not s.grounded(p)]
    if pool and rng.random() < 0.7:
        return rng.choice(pool)
    generic = ["default", "unknown", "all", "example", "none", "string", "user", "general"]
    cand = rng.choice(generic)
    return None if s.grounded(cand) or cand == value.lower() else cand


def ungrounded_value(s: Situation, rng: random.Random) -> Proposal | None:
    def new_value(call: ToolCall, key: str) -> Any:
        old = call.arguments[key]
        return _new_number(old, s, rng) if isinstance(old, int | float) else _new_string(old, s, rng)

    return _replace_first(s, rng, [(i, k) for i, c in enumerate(s.calls) for k in _scalar_keys(c)], new_value)


def _paraphrase(value: str, rng: random.Random) -> str | None:
    date = _DATE.match(value)
    if date:
        y, m, d = date.groups()
        if 1 <= int(m) <= 12:
            return rng.choice(
                [f"{_MONTHS[int(m) - 1]} {int(d)}, {y}", f"{m}/{d}/{y}", f"{d}-{m}-{y}"]
            )
    words = value.split()
    moves: list[Callable[[], str]] = [lambda: value + rng.choice(_SUFFIXES)]
    if len(words) >= 2:
        moves += [lambda: " ".join(words[: rng.randint(1, len(words) - 1)]),
                  lambda: " ".join(words[1:])]
    if len(words) >= 2 and all(w[:1].isalpha() for w in words):
        moves.append(lambda: "".join(w[0].upper() for w in words))
    if len(value) >= 6 and len(words) == 1:
        moves.append(lambda: value[: max(3, len(value) // 2)])
    out = rng.choice(moves)()
    return out if out.strip() and out != value else None


def paraphrase_value(s: Situation, rng: random.Random) -> Proposal | None:
    options = [(i, k) for i, c in enumerate(s.calls) for k in _scalar_keys(c, (str,))]
    return _replace_first(s, rng, options, lambda call, key: _paraphrase(call.arguments[key], rng))


# ------------------------------------------------------------ the user's words, copied


def _differs(old: Any, new: Any) -> bool:
    return not values_equal(old, new)


def surface_form(s: Situation, rng: random.Random) -> Proposal | None:
    """A canonical value (ISO date, code, unit, boolean) written as a user would say it."""
    options = [(i, k) for i, c in enumerate(s.calls) for k, v in c.arguments.items()
               if isinstance(v, str | bool | int | float)]
    rng.shuffle(options)  # strings and booleans first: numbers written with commas are the easy case
    options.sort(key=lambda o: isinstance(s.calls[o[0]].arguments[o[1]], int | float)
                 and not isinstance(s.calls[o[0]].arguments[o[1]], bool))
    for i, key in options:
        old = s.calls[i].arguments[key]
        forms = [f for f in surface_forms(old) if _differs(old, f)]
        if not forms:
            continue
        grounded = [f for f in forms if s.grounded(f)]  # the user's own words first
        return _replace_value(s, i, key, rng.choice(grounded or forms))
    return None


_WORD = re.compile(r"[\w'-]+|,")
_STOP = frozenset(
    "a an the and or of for to in on at by with from is are be me my i you your we our it its this that "
    "please can could would will should what which who how when where find get show give tell need want "
    "some any all also about into than then there their".split()
)


def extra_words(s: Situation, rng: random.Random) -> Proposal | None:
    """A value the user wrote, copied with the one to three words next to it."""
    user = s.record.last_user_text()
    options = [(i, k) for i, c in enumerate(s.calls) for k in _scalar_keys(c, (str,))
               if 2 <= len(c.arguments[k]) <= 60]
    rng.shuffle(options)
    for i, key in options:
        old = s.calls[i].arguments[key]
        at = user.lower().find(old.lower())
        if at < 0:
            continue
        end = at + len(old)
        after = list(_WORD.finditer(user, end))
        before = list(_WORD.finditer(user[:at]))
        spans: list[str] = []
        for n in (1, 2, 3):
            right = after[:n]
            if len(right) == n and right[0].start() - end <= 2 and right[-1].group() != "," \
                    and not any(m.group().lower() in _STOP for m in right):
                spans.append(user[at : right[-1].end()])
            left = before[len(before) - n :] if len(before) >= n else []
            if left and at - left[-1].end() <= 1 and left[0].group() != "," \
                    and not any(m.group().lower() in _STOP for m in left):
                spans.append(user[left[0].start() : end])
        spans = [t.strip(" ,.?!") for t in spans]
        spans = [t for t in spans if t and _differs(old, t) and len(t) <= len(old) + 40]
        if spans:
            return _replace_value(s, i, key, rng.choice(spans))
    return None


_NOUN_AFTER = frozenset("a an the for of in at to with about my some any".split())


def item_for_category(s: Situation, rng: random.Random) -> Proposal | None:
    """A value the user did not spell out (a category, a code) replaced by words they did write.

    The words are a noun-like phrase of the request: the one or two words after an
    article or a preposition ("a recipe for *brownies*").
    """
    tokens = re.findall(r"[A-Za-z][A-Za-z'-]*", s.record.last_user_text())
    used = " ".join(str(v).lower() for c in s.calls for v in c.arguments.values())
    phrases: list[str] = []
    for j in range(1, len(tokens)):
        if tokens[j - 1].lower() not in _NOUN_AFTER or tokens[j].lower() in _STOP or len(tokens[j]) < 3:
            continue
        phrase = tokens[j]
        if j + 1 < len(tokens) and tokens[j + 1].lower() not in _STOP and rng.random() < 0.5:
            phrase += " " + tokens[j + 1]
        if phrase.lower() not in used:
            phrases.append(phrase)
    options = [(i, k) for i, c in enumerate(s.calls) for k in _scalar_keys(c, (str,))
               if 2 <= len(c.arguments[k]) <= 30 and len(c.arguments[k].split()) <= 3
               and not s.grounded(c.arguments[k])]
    if not phrases or not options:
        return None
    i, key = rng.choice(options)
    new = rng.choice(phrases)
    return _replace_value(s, i, key, new) if _differs(s.calls[i].arguments[key], new) else None


# -------------------------------------------------------------------------- arguments


def drop_optional(s: Situation, rng: random.Random) -> Proposal | None:
    options = []
    for i, c in enumerate(s.calls):
        spec = s.specs.get(c.name)
        required = set(spec.required) if spec else set()
        options += [(i, k) for k in c.arguments if k not in required]
    return _drop_argument(s, options, rng)


def drop_required(s: Situation, rng: random.Random) -> Proposal | None:
    options = []
    for i, c in enumerate(s.calls):
        spec = s.specs.get(c.name)
        if spec:
            options += [(i, k) for k in spec.required if k in c.arguments]
    return _drop_argument(s, options, rng)


def _invent(schema: dict[str, Any], s: Situation, rng: random.Random) -> Any:
    enum = schema.get("enum")
    default = schema.get("default")
    if isinstance(enum, list) and enum:
        choices = [e for e in enum if e != default]
        return rng.choice(choices) if choices else None
    kind = schema.get("type")
    if kind == "integer":
        return _new_number(rng.choice([5, 10, 20, 100]), s, rng)
    if kind == "number":
        return _new_number(rng.choice([0.5, 1.5, 2.5]), s, rng)
    if kind == "boolean":
        return (not default) if isinstance(default, bool) else True
    if kind == "array":
        item = _new_string("", s, rng)
        return [item] if item else None
    if kind in ("string", None):
        return _new_string("", s, rng)
    return None


def add_optional(s: Situation, rng: random.Random) -> Proposal | None:
    options = []
    for i, c in enumerate(s.calls):
        spec = s.specs.get(c.name)
        if spec:
            options += [(i, k) for k in spec.properties if k not in c.arguments]

    def new_value(call: ToolCall, key: str) -> Any:
        schema = s.specs[call.name].properties.get(key)
        return _invent(schema if isinstance(schema, dict) else {}, s, rng)

    return _replace_first(s, rng, options, new_value)


def type_change(s: Situation, rng: random.Random) -> Proposal | None:
    options = [(i, k) for i, c in enumerate(s.calls) for k in c.arguments]
    return _replace_first(s, rng, options, lambda call, key: _retyped(call.arguments[key]))


def _retyped(old: Any) -> Any:
    """``old`` as another JSON type (a number as a string, a string as a list, ...); None: none fits."""
    if isinstance(old, bool):
        return str(old).lower()
    if isinstance(old, int | float):
        return str(old)
    if isinstance(old, str) and old.strip().lstrip("-").replace(".", "", 1).isdigit():
        return float(old) if "." in old else int(old)
    if isinstance(old, str):
        return [old]
    if isinstance(old, list) and old:
        return old[0] if not isinstance(old[0], list | dict) else None
    return None


# -------------------------------------------------------------------------- functions


def _fill(spec: ToolSpec, donor: dict[str, Any], s: Situation, rng: random.Random) -> dict[str, Any]:
    """Arguments for ``spec``: same-named donor values first, then any value of a fitting type."""
    args: dict[str, Any] = {}
    spare = list(donor.values())
    for key in spec.required or list(spec.properties)[:2]:
        if key in donor:
            args[key] = donor[key]
            continue
        schema = spec.properties.get(key)
        kind = schema.get("type") if isinstance(schema, dict) else None
        fitting = [
            v for v in spare
            if (kind == "string" and isinstance(v, str))
            or (kind in ("integer", "number") and isinstance(v, int | float) and not isinstance(v, bool))
        ]
        if fitting:
            args[key] = rng.choice(fitting)
        else:
            invented = _invent(schema if isinstance(schema, dict) else {}, s, rng)
            if invented is not None:
                args[key] = invented
    return args


def wrong_function(s: Situation, rng: random.Random) -> Proposal | None:
    if not s.calls:
        return None
    used = {c.name for c in s.calls}
    others = [spec for name, spec in s.specs.items() if name not in used]
    if not others:
        return None
    i = rng.randrange(len(s.calls))
    spec = rng.choice(others)
    calls = list(s.calls)
    calls[i] = ToolCall(name=spec.name, arguments=_fill(spec, calls[i].arguments, s, rng))
    return _proposal(calls)


def _near_miss(name: str, rng: random.Random) -> str:
    parts = re.split(r"([._])", name)
    moves = [
        lambda: name + rng.choice(["_v2", "_info", "_details", "s"]),
        lambda: rng.choice(["get_", "fetch_", "search_"]) + name.split(".")[-1],
        lambda: name.replace(".", "_") if "." in name else name + "_api",
    ]
    if len(parts) > 1:
        moves.append(lambda: parts[-1])
    return rng.choice(moves)()


def unknown_function(s: Situation, rng: random.Random) -> Proposal | None:
    if not s.calls:
        return None
    i = rng.randrange(len(s.calls))
    name = _near_miss(s.calls[i].name, rng)
    if name in s.specs:
        return None
    calls = list(s.calls)
    calls[i] = calls[i].override(name=name)
    return _proposal(calls)


def no_call(s: Situation, rng: random.Random) -> Proposal | None:
    if not s.calls:
        return None
    return Proposal(content="Could you tell me more about what you need?")


_SPAN = re.compile(r"'([^']{2,40})'|\"([^\"]{2,40})\"|\b([A-Z][\w-]+(?: [A-Z][\w-]+)*)|(\d+(?:\.\d+)?)")


def irrelevant_call(s: Situation, rng: random.Random) -> Proposal | None:
    """For a record where nothing fits: call an offered function anyway.

    Half the time with values from the text, half the time with invented ones (what
    models do when the function needs arguments the user never gave).
    """
    if s.calls or not s.specs:
        return None
    if rng.random() < 0.5:
        spec = rng.choice(list(s.specs.values()))
        return _proposal([ToolCall(name=spec.name, arguments=_fill(spec, {}, s, rng))])
    user = s.record.last_user_text()
    found: list[Any] = []
    for m in _SPAN.finditer(user):
        quoted = m.group(1) or m.group(2) or m.group(3)
        if quoted:
            found.append(quoted)
        elif m.group(4):
            found.append(float(m.group(4)) if "." in m.group(4) else int(m.group(4)))
    donor = {f"v{i}": v for i, v in enumerate(found)} or {"v": user[:40]}
    spec = rng.choice(list(s.specs.values()))
    return _proposal([ToolCall(name=spec.name, arguments=_fill(spec, donor, s, rng))])


CORRUPTIONS: dict[str, Corruption] = {
    f.__name__: f
    for f in (
        drop_call,
        duplicate_call,
        extra_call,
        merge_parallel,
        split_list,
        swap_values,
        ungrounded_value,
        paraphrase_value,
        drop_optional,
        add_optional,
        drop_required,
        type_change,
        wrong_function,
        unknown_function,
        no_call,
        irrelevant_call,
        surface_form,
        extra_words,
        item_for_category,
    )
}


def corrupt(
    record: TrainRecord,
    *,
    rng: random.Random,
    limit: int = 6,
    pool: Sequence[str] = (),
    names: Sequence[str] | None = None,
) -> list[tuple[str, Proposal]]:
    """Up to ``limit`` distinct corrupted proposals, each tagged with its corruption.

    The corruptions are tried in a random order (``rng``), skipping those that do not
    apply and results that repeat one already made or the ground truth itself.
    """
    situation = Situation.of(record, pool)
    order = list(names or CORRUPTIONS)
    rng.shuffle(order)
    if record.no_call:  # the one corruption that applies, with different functions
        order = ["irrelevant_call"] * min(limit, 3) if "irrelevant_call" in order else []
    seen = {record.ground_truth().render()}
    out: list[tuple[str, Proposal]] = []
    for name in order:
        if len(out) >= limit:
            break
        proposal = CORRUPTIONS[name](situation, rng)
        if proposal is None:
            continue
        key = proposal.render()
        if key in seen:
            continue
        seen.add(key)
        out.append((name, proposal))
    return out


def value_pool(records: Sequence[TrainRecord], limit: int = 5000) -> list[str]:
    """Short string argument values of the ground truths, as material for replacements."""
    pool: dict[str, None] = {}
    for r in records:
        for c in r.calls:
            for v in c.arguments.values():
                if isinstance(v, str) and 2 <= len(v) <= 40:
                    pool.setdefault(v, None)
        if len(pool) >= limit:
            break
    return sorted(pool)


__all__ = [
    "CORRUPTIONS",
    "Corruption",
    "Situation",
    "corrupt",
    "value_pool",
]
