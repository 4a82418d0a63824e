"""Prompt templates for generative judges, and the parsers for their answers.

Two tasks, each in a *thinking* and a *non-thinking* variant:

* **pairwise**: the judge sees the offered tools, the conversation so far and two
  candidate responses ("Response 1", "Response 2") and ends its answer with exactly
  ``<choice>1</choice>`` or ``<choice>2</choice>``. This answer format is the one the
  ToolRM-Gen checkpoints were trained on, so a vLLM-served ToolRM works as is.
* **pointwise critique**: the judge sees one proposal and answers with
  ``<verdict>correct</verdict>`` or ``<verdict>incorrect</verdict>``, an optional
  ``<score>0.0-1.0</score>`` and ``<critique>what to fix</critique>``.

The wording is our own; templates are plain data (:class:`PromptTemplate`,
:class:`JudgeTemplates`) so a user can swap any of them. They use :meth:`str.format`
fields: ``{tools}``, ``{conversation}``, ``{response_1}``, ``{response_2}`` (pairwise) and
``{proposal}`` (pointwise). Values are substituted once, so braces inside tool schemas
are safe; braces written in a template itself must be doubled.

Parsers (:func:`parse_choice`, :func:`parse_verdict`) read the *answer* part of a
completion: anything inside ``<think>...</think>`` (or before a lone ``</think>``, as a
Qwen3 chat template produces when it opens the think block itself) is ignored. They
try the exact tags first (the last occurrence wins), then lenient phrasings
("Response 1 is better", ``\\boxed{2}``, "choice: 2", "CORRECT", "the answer is
incorrect"). Whatever they cannot read gives ``None``, never an exception.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Literal

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from toolrm_agent.calls import Proposal
from toolrm_agent.context import JudgeContext, Turn
from toolrm_agent.specs import ToolSpec

Choice = Literal[1, 2]

# --------------------------------------------------------------------------------------
# templates
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptTemplate:
    """A system message and a user message with :meth:`str.format` fields."""

    system: str
    user: str

    def format(self, **fields: str) -> list[BaseMessage]:
        """The two chat messages with ``fields`` filled in."""
        return [
            SystemMessage(content=self.system.format(**fields)),
            HumanMessage(content=self.user.format(**fields)),
        ]


@dataclass(frozen=True)
class JudgeTemplates:
    """The four templates a :class:`~toolrm_agent.judges.generative.GenerativeJudge` uses."""

    pairwise: PromptTemplate
    pairwise_thinking: PromptTemplate
    pointwise: PromptTemplate
    pointwise_thinking: PromptTemplate
    pairwise_reminder: str = (
        "I could not find your decision. Answer again with exactly <choice>1</choice> or "
        "<choice>2</choice>."
    )
    """Sent (after the unreadable answer) when a pairwise answer could not be parsed."""
    pointwise_reminder: str = (
        "I could not find your verdict. Answer again with <verdict>correct</verdict> or "
        "<verdict>incorrect</verdict>, then <critique>what to fix</critique>."
    )
    """Sent (after the unreadable answer) when a pointwise answer could not be parsed."""

    def for_pairwise(self, thinking: bool) -> PromptTemplate:
        return self.pairwise_thinking if thinking else self.pairwise

    def for_pointwise(self, thinking: bool) -> PromptTemplate:
        return self.pointwise_thinking if thinking else self.pointwise

    def override(self, **changes: PromptTemplate) -> JudgeTemplates:
        """A copy with some templates replaced."""
        return replace(self, **changes)


_SYSTEM_PAIRWISE = """\
You review function calls that an AI assistant proposes before they are executed. \
You are given the functions the assistant may call (as JSON schemas), the conversation \
so far, and two candidate responses for the assistant's next turn. Decide which of the \
two responses is the better next step.

Judge them on these points, in this order of weight:
1. Function choice: the called functions exist among the offered tools and are the \
right ones for what the user asked. Calling nothing is right only if no offered \
function fits the request.
2. Arguments against the schema: every required parameter is present, no parameter \
is invented, each value has the declared type and respects any enum or format.
3. Grounding: each value comes from the user's words or from earlier tool results; \
values that were made up, or that change what the user said, are errors.
4. Completeness: when the request needs several calls (for instance the same \
function for several items), all of them are there, with no duplicates.
Ignore style, the order of parallel calls and the order of arguments. Do not favour \
a response because of its position or its length."""

_USER_PAIRWISE = """\
## Available functions
{tools}

## Conversation so far
{conversation}

## Response 1
{response_1}

## Response 2
{response_2}

{instructions}"""

_PAIRWISE_PLAIN = (
    "Which response is the better next step? Give at most one sentence of reason, then "
    "end your answer with exactly <choice>1</choice> or <choice>2</choice>."
)
_PAIRWISE_THINKING = (
    "Which response is the better next step? First check both responses point by point "
    "against the criteria (which functions, which arguments, where each value comes "
    "from, whether anything is missing). Then end your answer with exactly "
    "<choice>1</choice> or <choice>2</choice> and nothing after it."
)

_SYSTEM_POINTWISE = """\
You review function calls that an AI assistant proposes before they are executed. \
You are given the functions the assistant may call (as JSON schemas), the conversation \
so far, and the assistant's proposed next turn. Decide whether the proposal should be \
executed as it is.

A proposal is correct only if all of these hold:
1. Function choice: every called function exists among the offered tools and is the \
right one for what the user asked; calling nothing is right only if no offered \
function fits the request.
2. Arguments against the schema: every required parameter is present, no parameter \
is invented, each value has the declared type and respects any enum or format.
3. Grounding: each value comes from the user's words or from earlier tool results, \
and is not made up or altered.
4. Completeness: every call the request needs is there, with no duplicates.
When the proposal is incorrect, your critique is read by the assistant so it can fix \
its calls: name the call and the argument, say what is wrong and what it should be."""

_USER_POINTWISE = """\
## Available functions
{tools}

## Conversation so far
{conversation}

## Proposed next turn
{proposal}

{instructions}"""

_POINTWISE_PLAIN = (
    "Answer in this form and nothing else:\n"
    "<verdict>correct</verdict> or <verdict>incorrect</verdict>\n"
    "<score>a number from 0.0 (certainly wrong) to 1.0 (certainly right)</score>\n"
    "<critique>one or two sentences on what to fix; empty if nothing</critique>"
)
_POINTWISE_THINKING = (
    "First check the proposal point by point against the criteria (which functions, "
    "which arguments, where each value comes from, whether anything is missing). Then "
    "finish with:\n"
    "<verdict>correct</verdict> or <verdict>incorrect</verdict>\n"
    "<score>a number from 0.0 (certainly wrong) to 1.0 (certainly right)</score>\n"
    "<critique>what to fix, addressed to the assistant; empty if nothing</critique>"
)

PAIRWISE = PromptTemplate(
    _SYSTEM_PAIRWISE, _USER_PAIRWISE.replace("{instructions}", _PAIRWISE_PLAIN)
)
PAIRWISE_THINKING = PromptTemplate(
    _SYSTEM_PAIRWISE, _USER_PAIRWISE.replace("{instructions}", _PAIRWISE_THINKING)
)
POINTWISE = PromptTemplate(
    _SYSTEM_POINTWISE, _USER_POINTWISE.replace("{instructions}", _POINTWISE_PLAIN)
)
POINTWISE_THINKING = PromptTemplate(
    _SYSTEM_POINTWISE, _USER_POINTWISE.replace("{instructions}", _POINTWISE_THINKING)
)

DEFAULT_TEMPLATES = JudgeTemplates(
    pairwise=PAIRWISE,
    pairwise_thinking=PAIRWISE_THINKING,
    pointwise=POINTWISE,
    pointwise_thinking=POINTWISE_THINKING,
)
"""The templates a judge uses unless told otherwise."""

# --------------------------------------------------------------------------------------
# rendering the context
# --------------------------------------------------------------------------------------

MAX_TURN_CHARS = 4000
"""Longer tool results (and text replies under judgement) are cut to this many characters."""


def render_tools(tools: tuple[ToolSpec, ...] | list[ToolSpec]) -> str:
    """The offered tools as one JSON schema per line block (name, description, parameters)."""
    if not tools:
        return "(no functions offered)"
    return "\n".join(
        json.dumps(
            {"name": t.name, "description": t.description, "parameters": t.parameters},
            ensure_ascii=False,
            indent=2,
        )
        for t in tools
    )


def render_conversation(
    turns: tuple[Turn, ...] | list[Turn], *, max_chars: int = MAX_TURN_CHARS
) -> str:
    """The conversation as ``[role]`` blocks; assistant calls in the canonical Hermes form."""
    blocks: list[str] = []
    for turn in turns:
        if turn.role == "tool":
            header = (
                f"[tool result for {turn.tool_call_id}]" if turn.tool_call_id else "[tool result]"
            )
        else:
            header = f"[{turn.role}]"
        body = turn.content.strip()
        if turn.role == "tool":  # tool results can be huge; the user's words are never cut
            body = _clip(body, max_chars)
        if turn.tool_calls:
            calls = Proposal(calls=turn.tool_calls).render()
            body = f"{body}\n{calls}" if body else calls
        blocks.append(f"{header}\n{body or '(empty)'}")
    return "\n\n".join(blocks) if blocks else "(empty conversation)"


def render_proposal(proposal: Proposal) -> str:
    """A proposal as the judge sees it: canonical calls, plus its text when it has no call."""
    rendered = proposal.render()
    if proposal.is_empty and proposal.content.strip():
        return f"(no function call; the assistant replies)\n{_clip(proposal.content.strip(), MAX_TURN_CHARS)}"
    return rendered


def pairwise_messages(
    context: JudgeContext,
    first: Proposal,
    second: Proposal,
    *,
    thinking: bool = False,
    templates: JudgeTemplates = DEFAULT_TEMPLATES,
) -> list[BaseMessage]:
    """The chat messages asking which of ``first`` (Response 1) and ``second`` is better."""
    return templates.for_pairwise(thinking).format(
        tools=render_tools(context.tools),
        conversation=render_conversation(context.turns),
        response_1=render_proposal(first),
        response_2=render_proposal(second),
    )


def pointwise_messages(
    context: JudgeContext,
    proposal: Proposal,
    *,
    thinking: bool = False,
    templates: JudgeTemplates = DEFAULT_TEMPLATES,
) -> list[BaseMessage]:
    """The chat messages asking for a verdict and a critique of ``proposal``."""
    return templates.for_pointwise(thinking).format(
        tools=render_tools(context.tools),
        conversation=render_conversation(context.turns),
        proposal=render_proposal(proposal),
    )


def _clip(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}…[{len(text) - max_chars} more characters cut]"


# --------------------------------------------------------------------------------------
# parsing answers
# --------------------------------------------------------------------------------------

_THINK_TAG = re.compile(r"<(/?)think(?:ing)?>", re.IGNORECASE)

MAX_ANSWER_CHARS = 20_000
"""Judge answers are read from their last this-many characters: a verdict sits at the end,
and a megabyte of text must not cost more than this much parsing."""


def strip_thinking(text: str) -> str:
    """The answer part of a completion: reasoning blocks removed.

    Removes every ``<think>...</think>`` block (an unclosed one runs to the end), and
    everything before a lone closing ``</think>`` (a chat template that opens the think
    block in the prompt leaves only the closing tag in the completion). One pass over the
    tags: linear in the length of ``text``, however the tags repeat.
    """
    out: list[str] = []
    depth_open = False
    pos = 0
    first = True
    for m in _THINK_TAG.finditer(text):
        closing = bool(m.group(1))
        if first and closing and not depth_open:
            pos = m.end()  # a lone closing tag: everything before it was reasoning
            out.clear()
        elif not closing and not depth_open:
            out.append(text[pos : m.start()])
            depth_open = True
        elif closing and depth_open:
            out.append(" ")
            pos = m.end()
            depth_open = False
        first = False
    if not depth_open:
        out.append(text[pos:])
    return "".join(out)


def _flat(text: str) -> str:
    """The tail of an answer with every run of white space made one space (linear time).

    Every pattern below then meets at most one blank where it allows blanks, so none can
    backtrack over a long run of blanks.
    """
    return re.sub(r"\s+", " ", text[-MAX_ANSWER_CHARS:])


_CHOICE_TAG = re.compile(r"<choice>\s*(?:response\s*)?([12])\s*</choice>", re.IGNORECASE)

_R = r"(?:response|answer|candidate|assistant|option)"
_CHOICE_LENIENT = [
    re.compile(r"\\boxed\{\s*(?:\\text\{)?\s*(?:" + _R + r"\s*)?([12])\s*\}?\s*\}", re.IGNORECASE),
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


def parse_choice(text: str | None) -> Choice | None:
    """``1`` or ``2`` from a pairwise judge's answer, or ``None`` when it says neither.

    Strict: the last ``<choice>N</choice>`` outside reasoning blocks. Lenient, when no
    tag is found: the last of phrasings such as ``\\boxed{1}``, ``choice: 2``, "Response 1
    is better", "I prefer Response 2", or an answer that is only ``1`` or ``2``.
    """
    if not text:
        return None
    answer = _flat(strip_thinking(text))
    tags = _CHOICE_TAG.findall(answer)
    if tags:
        return _as_choice(tags[-1])
    best: tuple[int, str] | None = None
    for pattern in _CHOICE_LENIENT:
        for m in pattern.finditer(answer):
            if best is None or m.end() > best[0]:
                best = (m.end(), m.group(1))
    if best is not None:
        return _as_choice(best[1])
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
    re.compile(r"\\boxed\{\s*(?:\\text\{)?\s*" + _WORD + r"\s*\}?\s*\}", re.IGNORECASE),
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


def parse_verdict(text: str | None) -> ParsedVerdict:
    """A pointwise judge's verdict, critique and score; ``accepted=None`` if unreadable.

    Strict: the last ``<verdict>...</verdict>`` outside reasoning blocks, whose word is
    one of ``correct``/``accept``/``yes``/``valid``... or ``incorrect``/``reject``/``no``/
    ``wrong``...; the last ``<critique>...</critique>``; the last ``<score>x</score>``
    (values on a 0-10 or 0-100 scale, or written ``7/10``, are mapped to 0-1). Lenient,
    when no verdict tag is found: "verdict: incorrect", ``\\boxed{correct}``, "the call is
    incorrect", or a capitalised ``CORRECT``/``INCORRECT``; the critique is then the
    answer text without its tags.
    """
    if not text:
        return ParsedVerdict(accepted=None)
    answer = strip_thinking(text)[-MAX_ANSWER_CHARS:]
    flat = _flat(answer)
    accepted = _strict_verdict(flat)
    if accepted is None:
        accepted = _lenient_verdict(flat)
    return ParsedVerdict(accepted=accepted, critique=_critique(answer), score=_score(flat))


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
    best: tuple[int, str] | None = None
    for pattern in _VERDICT_LENIENT:
        for m in pattern.finditer(answer):
            if best is None or m.end() > best[0]:
                best = (m.end(), m.group(1))
    if best is None:
        upper = _VERDICT_UPPER.findall(answer)
        if upper:
            best = (0, upper[-1])
    if best is None:
        bare = answer.strip().strip("*_`'\".!").strip()
        if _word_verdict(bare) is not None:
            best = (0, bare)
    return _word_verdict(best[1]) if best is not None else None


def _critique(answer: str) -> str:
    """The last ``<critique>...</critique>`` (found with ``rfind``: linear), else the
    answer without its tags; at most :data:`MAX_TURN_CHARS` characters either way."""
    low = answer.lower()
    end = low.rfind("</critique>")
    start = low.rfind("<critique>", 0, end) if end >= 0 else -1
    if start >= 0:
        return answer[start + len("<critique>") : end].strip()[:MAX_TURN_CHARS]
    rest = _ANY_TAG.sub(" ", _TAG_BLOCKS.sub(" ", answer))
    return re.sub(r"[ \t]+", " ", rest).strip()[:MAX_TURN_CHARS]


def _score(answer: str) -> float | None:
    found = [m.groups() for t in _SCORE_TAG.findall(answer) if (m := _SCORE_BODY.fullmatch(t))]
    found = found or _SCORE_LENIENT.findall(answer)
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
