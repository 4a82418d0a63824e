"""The parsers of the generative judges' answers: a pairwise choice, a pointwise verdict.

Parsers (:func:`parse_choice`, :func:`parse_verdict`) read the *answer* part of a
completion: anything inside ``<think>...</think>`` (or before a lone ``</think>``, as a
Qwen3 chat template produces when it opens the think block itself) is ignored. They
try the exact tags first (the last occurrence wins), then lenient phrasings
("Response 1 is better", ``\\boxed{2}``, "choice: 2", "CORRECT", "the answer is
incorrect"). Whatever they cannot read gives ``None``, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from toolrm_agent.core.thinking import strip_thinking
from toolrm_agent.judges.generative.templates import DEFAULT_TAGS, AnswerTags
from toolrm_agent.prompting.prompt_text import cap_critique

__all__ = [
    "MAX_ANSWER_CHARS",
    "Choice",
    "ParsedVerdict",
    "normalize_score",
    "parse_choice",
    "parse_verdict",
]

Choice = Literal[1, 2]

MAX_ANSWER_CHARS = 20_000
"""The *lenient* readings of a judge answer (phrasings such as "the call is incorrect")
look at its last this-many characters only, so that a megabyte of text costs no more
than this much regex work. The strict tags (``<choice>``, ``<verdict>``, ``<score>``,
``<critique>``) are found in the whole answer, in linear time: our own template asks for
the verdict *before* the critique, and a long critique must never hide it."""


def _flat(text: str) -> str:
    """The tail of an answer with every run of white space made one space (linear time).

    Every pattern below then meets at most one blank where it allows blanks, so none can
    backtrack over a long run of blanks.
    """
    return re.sub(r"\s+", " ", text[-MAX_ANSWER_CHARS:])


def _boxed(answer: str) -> re.Pattern[str]:
    """``\\boxed{<answer>}`` (or ``\\boxed{\\text{<answer>}}``), ``answer`` a pattern with one group."""
    return re.compile(r"\\boxed\{\s*(?:\\text\{)?\s*" + answer + r"\s*\}?\s*\}", re.IGNORECASE)


def _last_match(patterns: list[re.Pattern[str]], answer: str) -> str | None:
    """Group 1 of the match of ``patterns`` that ends last in ``answer`` (on a tie, the
    earlier pattern's); ``None`` when none matches."""
    best: tuple[int, str] | None = None
    for pattern in patterns:
        for m in pattern.finditer(answer):
            if best is None or m.end() > best[0]:
                best = (m.end(), m.group(1))
    return best[1] if best is not None else None


_CHOICE_TAG = re.compile(r"<choice>\s*(?:response\s*)?([12])\s*</choice>", re.IGNORECASE)

_R = r"(?:response|answer|candidate|assistant|option)"
_CHOICE_LENIENT = [
    _boxed(r"(?:" + _R + r"\s*)?([12])"),
    re.compile(r"<choice>\s*(?:" + _R + r"\s*)?([12])\b", re.IGNORECASE),
    re.compile(
        r"\b(?:final\s+)?(?:choice|answer|verdict|decision|preference|winner)\s*(?:is\s*)?[:=]?\s*"
        r"[*_`\"'\[(]*\s*(?:" + _R + r"\s*)?#?([12])\b(?![.,]\d)",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b"
        + _R
        + r"\s*#?([12])\b\W{0,3}\s*(?:is|was)\s+(?:clearly\s+|slightly\s+|much\s+|the\s+)?"
        r"(?:better|best|preferred|superior|stronger|more\s+(?:correct|accurate|appropriate))",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:better|best|preferred|superior|correct)\s+(?:" + _R + r"|one|choice)\s+is\s*[:]?\s*"
        r"[*_`\"'\[(]*\s*(?:" + _R + r"\s*)?#?([12])\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:i\s+)?(?:prefer|choose|pick|select|go\s+with)\s+(?:" + _R + r"\s*)?#?([12])\b",
        re.IGNORECASE,
    ),
]
_CHOICE_BARE = re.compile(r"^\W*(?:" + _R + r"\s*)?([12])\W*$", re.IGNORECASE)


def _tagged(tag: tuple[str, str], body: str = r"(.{0,400}?)") -> re.Pattern[str]:
    """A user's ``(open, close)`` tag around ``body``, matched literally, any case."""
    return re.compile(re.escape(tag[0]) + body + re.escape(tag[1]), re.IGNORECASE | re.DOTALL)


def _tagged_choice(whole: str, tags: AnswerTags) -> Choice | None:
    """The last choice inside the user's choice tag, read against ``choice_values``."""
    values = {v.strip().lower(): n for v, n in zip(tags.choice_values, (1, 2), strict=True)}
    for body in reversed(_tagged(tags.choice).findall(whole)):
        found = values.get(" ".join(body.split()).lower())
        if found is not None:
            return _as_choice(str(found))
    return None


def parse_choice(text: str | None, *, tags: AnswerTags = DEFAULT_TAGS) -> Choice | None:
    """``1`` or ``2`` from a pairwise judge's answer, or ``None`` when it says neither.

    Strict: the last ``<choice>N</choice>`` outside reasoning blocks (with ``tags`` other
    than ours: the last of the user's choice tag holding one of its ``choice_values``,
    then ours). Lenient, when no tag is found: the last of phrasings such as
    ``\\boxed{1}``, ``choice: 2``, "Response 1 is better", "I prefer Response 2", or an
    answer that is only ``1`` or ``2``.
    """
    if not text:
        return None
    whole = strip_thinking(text)
    if tags != DEFAULT_TAGS:
        custom = _tagged_choice(whole, tags)
        if custom is not None:
            return custom
    ours = _CHOICE_TAG.findall(whole)  # the whole answer: a long explanation may follow
    if ours:
        return _as_choice(ours[-1])
    answer = _flat(whole)
    found = _last_match(_CHOICE_LENIENT, answer)
    if found is not None:
        return _as_choice(found)
    bare = _CHOICE_BARE.match(answer.strip())
    return _as_choice(bare.group(1)) if bare else None


def _as_choice(digit: str) -> Choice:
    return 1 if digit == "1" else 2


@dataclass(frozen=True)
class ParsedVerdict:
    """What a pointwise judge said: accepted (``None`` if unreadable), critique, score."""

    accepted: bool | None
    critique: str = ""
    score: float | None = None


_POSITIVE = {
    "correct",
    "accept",
    "accepted",
    "approve",
    "approved",
    "yes",
    "pass",
    "valid",
    "good",
    "right",
    "true",
}
_NEGATIVE = {
    "incorrect", "reject", "rejected", "no", "fail", "failed", "invalid", "bad", "wrong", "false",
    "not correct", "not_correct", "not valid",
}  # fmt: skip

_VERDICT_TAG = re.compile(r"<verdict>([^<]*)</verdict>", re.IGNORECASE)
_SCORE_TAG = re.compile(r"<score>([^<]{0,40})</score>", re.IGNORECASE)
_SCORE_BODY = re.compile(r" ?([-+]?\d+(?:\.\d+)?) ?(?:/ ?(\d+))? ?")
_ANY_TAG = re.compile(r"</?(?:verdict|score|critique|choice)>", re.IGNORECASE)
_TAG_BLOCKS = re.compile(r"<(verdict|score)>[^<]*</\1>", re.IGNORECASE)

_WORD = r"(not\s+(?:correct|valid)|incorrect|correct|invalid|valid|wrong|rejected|reject|accepted|accept)"
_VERDICT_LENIENT = [
    re.compile(r"<verdict>\s*" + _WORD + r"\b", re.IGNORECASE),
    _boxed(_WORD),
    re.compile(
        r"\b(?:final\s+)?(?:verdict|judg(?:e)?ment|decision|answer)\s*[:=]\s*[*_`\"'\[(]*\s*"
        + _WORD
        + r"\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:the\s+)?(?:answer|response|proposal|call|calls|function\s+calls?|tool\s+calls?|it|this)\s+"
        r"(?:is|are|looks|seems)\s+(?:entirely\s+|fully\s+|completely\s+)?" + _WORD + r"\b",
        re.IGNORECASE,
    ),
]
_VERDICT_UPPER = re.compile(
    r"\b(INCORRECT|CORRECT|INVALID|VALID|WRONG|REJECTED|REJECT|ACCEPTED|ACCEPT)\b"
)
_SCORE_LENIENT = re.compile(
    r"\bscore\s*[:=]\s*([-+]?\d+(?:\.\d+)?)(?:\s*/\s*(\d+))?", re.IGNORECASE
)


def parse_verdict(text: str | None, *, tags: AnswerTags = DEFAULT_TAGS) -> ParsedVerdict:
    """A pointwise judge's verdict, critique and score; ``accepted=None`` if unreadable.

    Strict: the last ``<verdict>...</verdict>`` outside reasoning blocks, whose word is
    one of ``correct``/``accept``/``yes``/``valid``... or ``incorrect``/``reject``/``no``/
    ``wrong``...; the last ``<critique>...</critique>``; the last ``<score>x</score>``
    (values on a 0-10 or 0-100 scale, or written ``7/10``, are mapped to 0-1). Lenient,
    when no verdict tag is found: "verdict: incorrect", ``\\boxed{correct}``, "the call is
    incorrect", or a capitalised ``CORRECT``/``INCORRECT``; the critique is then the
    answer text without its tags.

    With ``tags`` other than ours (:class:`AnswerTags`), the user's verdict, score and
    critique tags are read first (a verdict word from its ``accept`` / ``reject`` lists or
    ours), and what they do not give is read as above.
    """
    if not text:
        return ParsedVerdict(accepted=None)
    answer = strip_thinking(text)
    if tags != DEFAULT_TAGS:
        return _tagged_verdict(answer, tags)
    # strict tags in the whole answer (linear): a long critique after the verdict, as our
    # template asks for it, must not push the verdict out of sight
    accepted = _strict_verdict(answer)
    flat = _flat(answer)
    if accepted is None:
        accepted = _lenient_verdict(flat)
    return ParsedVerdict(accepted=accepted, critique=_critique(answer), score=_score(answer, flat))


def _tagged_verdict(answer: str, tags: AnswerTags) -> ParsedVerdict:
    """:func:`parse_verdict` of a (thinking-free) ``answer`` with the user's ``tags``."""
    accept = {" ".join(w.split()).lower() for w in tags.accept}
    reject = {" ".join(w.split()).lower() for w in tags.reject}
    accepted: bool | None = None
    for body in reversed(_tagged(tags.verdict).findall(answer)):
        word = " ".join(body.split()).strip("*_`'\".!").lower()
        accepted = False if word in reject else True if word in accept else _word_verdict(word)
        if accepted is not None:
            break
    scores = [m.groups() for t in _tagged(tags.score, r"(.{0,40}?)").findall(answer)
              if (m := _SCORE_BODY.fullmatch(" ".join(t.split())))]  # fmt: skip
    low = answer.lower()  # the last critique found with rfind, as ours is: linear
    end = low.rfind(tags.critique[1].lower())
    start = low.rfind(tags.critique[0].lower(), 0, end) if end >= 0 else -1
    critique = answer[start + len(tags.critique[0]) : end] if start >= 0 else None
    # what the user's tags leave open is read from the answer without them, as ours are
    rest = answer
    for tag in (tags.verdict, tags.score, tags.critique):
        rest = _tagged(tag).sub(" ", rest)
    fallback = parse_verdict(rest)
    score = None
    if scores:
        value, scale = scores[-1]
        score = normalize_score(float(value), float(scale) if scale else None)
    return ParsedVerdict(
        accepted=accepted if accepted is not None else fallback.accepted,
        critique=cap_critique(critique.strip()) if critique is not None else fallback.critique,
        score=score if score is not None else fallback.score,
    )


def _word_verdict(word: str) -> bool | None:
    w = re.sub(r"\s+", " ", word.strip().strip("*_`'\".!").lower())
    if w in _NEGATIVE:
        return False
    if w in _POSITIVE:
        return True
    return None


def _strict_verdict(answer: str) -> bool | None:
    for word in reversed([w.strip() for w in _VERDICT_TAG.findall(answer)]):
        verdict = _word_verdict(word)
        if verdict is not None:
            return verdict
    return None


def _lenient_verdict(answer: str) -> bool | None:
    found = _last_match(_VERDICT_LENIENT, answer)
    if found is None:
        upper = _VERDICT_UPPER.findall(answer)
        if upper:
            found = upper[-1]
    if found is None:
        bare = answer.strip().strip("*_`'\".!").strip()
        if _word_verdict(bare) is not None:
            found = bare
    return _word_verdict(found) if found is not None else None


def _critique(answer: str) -> str:
    """The last ``<critique>...</critique>`` (found with ``rfind``: linear), else the
    answer without its tags; capped by :func:`cap_critique` either way."""
    low = answer.lower()
    end = low.rfind("</critique>")
    start = low.rfind("<critique>", 0, end) if end >= 0 else -1
    if start >= 0:
        return cap_critique(answer[start + len("<critique>") : end].strip())
    rest = _ANY_TAG.sub(" ", _TAG_BLOCKS.sub(" ", answer))
    return cap_critique(re.sub(r"[ \t]+", " ", rest).strip())


def _score(answer: str, flat: str) -> float | None:
    """The last ``<score>`` tag of the whole answer, else a lenient "score: x" in its tail."""
    found = [
        m.groups() for t in _SCORE_TAG.findall(answer) if (m := _SCORE_BODY.fullmatch(re.sub(r"\s+", " ", t)))
    ]
    found = found or _SCORE_LENIENT.findall(flat)
    if not found:
        return None
    value, scale = found[-1]
    return normalize_score(float(value), float(scale) if scale else None)


def normalize_score(value: float, scale: float | None = None) -> float:
    """A score mapped into [0, 1]: ``x/scale`` if a scale is given, 0-10 and 0-100 guessed."""
    if scale:
        value = value / scale
    elif 1.0 < value <= 10.0:
        value = value / 10.0
    elif 10.0 < value <= 100.0:
        value = value / 100.0
    return min(1.0, max(0.0, value))
