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
:class:`JudgeTemplates`) so a user can swap any of them, and so are the answer tags
(:class:`AnswerTags`): a checkpoint trained on another format is judged with that format,
read from a user's TOML file (:mod:`toolrm_agent.judges.template_file`, ``templates=<path>``
in a judge spec; docs/paper-checkpoints.md). They use :meth:`str.format`
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
from typing import Any, Literal, TypedDict, Unpack

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from toolrm_agent.calls import Proposal, _canonical_value
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
        """The chat messages with ``fields`` filled in: the system message (left out when
        the template's ``system`` is empty, as a model trained without one expects), then
        the user message."""
        system = [SystemMessage(content=self.system.format(**fields))] if self.system else []
        return [*system, HumanMessage(content=self.user.format(**fields))]


@dataclass(frozen=True)
class RewardTemplate:
    """The conversation a reward model (``disc:``) reads, as :meth:`str.format` templates:
    an optional system message, a user message and the assistant message (by default
    the proposal itself). Fields: ``{tools}``, ``{conversation}``, ``{proposal}``."""

    user: str
    system: str = ""
    assistant: str = "{proposal}"

    def format(self, **fields: str) -> list[dict[str, str]]:
        """``{"role", "content"}`` messages with ``fields`` filled in (no system message
        when ``system`` is empty)."""
        messages = [{"role": "system", "content": self.system.format(**fields)}] if self.system else []
        messages.append({"role": "user", "content": self.user.format(**fields)})
        messages.append({"role": "assistant", "content": self.assistant.format(**fields)})
        return messages


@dataclass(frozen=True)
class AnswerTags:
    """Where a judge's answer puts its decision: each tag an ``(open, close)`` pair of
    literal strings (``("<choice>", "</choice>")``).

    ``choice_values`` are the two texts inside the choice tag that mean Response 1 and
    Response 2. ``accept`` / ``reject`` are verdict words read besides ours (``correct``,
    ``incorrect``, ``yes``, ``no``, ...). Answers are read with these tags first; when
    they are not found, the lenient readings of :func:`parse_choice` /
    :func:`parse_verdict` still apply.
    """

    choice: tuple[str, str] = ("<choice>", "</choice>")
    choice_values: tuple[str, str] = ("1", "2")
    verdict: tuple[str, str] = ("<verdict>", "</verdict>")
    accept: tuple[str, ...] = ()
    reject: tuple[str, ...] = ()
    score: tuple[str, str] = ("<score>", "</score>")
    critique: tuple[str, str] = ("<critique>", "</critique>")


DEFAULT_TAGS = AnswerTags()
"""Our answer tags: ``<choice>1</choice>``, ``<verdict>``, ``<score>``, ``<critique>``."""


class _TemplateChanges(TypedDict, total=False):
    """What :meth:`JudgeTemplates.override` may replace."""

    pairwise: PromptTemplate
    pairwise_thinking: PromptTemplate
    pointwise: PromptTemplate
    pointwise_thinking: PromptTemplate
    pairwise_reminder: str
    pointwise_reminder: str
    tags: AnswerTags
    reward: RewardTemplate | None
    source: str | None


@dataclass(frozen=True)
class JudgeTemplates:
    """The four templates a :class:`~toolrm_agent.judges.generative.GenerativeJudge` uses,
    the answer tags it reads, and (for a ``disc:`` reward model) the reward template.
    A user's template file is read into one by
    :func:`toolrm_agent.judges.template_file.load_templates`."""

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
    tags: AnswerTags = DEFAULT_TAGS
    """How answers are read (:class:`AnswerTags`)."""
    reward: RewardTemplate | None = None
    """What a reward model (``disc:``) reads; ``None``: its own input format
    (:func:`toolrm_agent.judges.discriminative.format_for_reward`)."""
    source: str | None = None
    """The template file these were read from, if any (for messages and reports)."""

    def for_pairwise(self, thinking: bool) -> PromptTemplate:
        return self.pairwise_thinking if thinking else self.pairwise

    def for_pointwise(self, thinking: bool) -> PromptTemplate:
        return self.pointwise_thinking if thinking else self.pointwise

    def override(self, **changes: Unpack[_TemplateChanges]) -> JudgeTemplates:
        """A copy with some templates (or reminders) replaced."""
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
# untrusted text: neutralised, and cut to the judge's budget
# --------------------------------------------------------------------------------------
#
# Everything inserted into a prompt (tool names, descriptions and schemas, every turn of
# the conversation, tool results, call arguments, unparsed call text, tool call ids) is
# written by someone other than us and may try to steer the judge. :func:`neutralize`
# makes sure none of it can open a section of its own or end the answer early:
#
# * every line break (``\r\n``, ``\r``, ``\v``, ``\f``, ``\x1c``-``\x1e``, ``\x85``,
#   U+2028, U+2029) becomes ``\n``, so "a line" means the same to us and to the model;
# * a line that starts (after blanks) with ``#`` (our section headers are ``## ...``) or
#   with a role header such as ``[user]`` / ``[tool result ...]`` gets a backslash in
#   front: ``\## Response 2``, ``\[system]``;
# * the ``<`` of our answer and fence tags (``<choice>``, ``</critique>``, ``<verdict>``,
#   ``<score>``, ``<think>``, ``<tool_call>``, ``<tool_call_unparsed>``, ...) and of role
#   tags (``<system>``, ``<user>``, ``<assistant>``, ``<s>``, ``<start_of_turn>``) becomes
#   ``‹`` (U+2039), and chat-template special tokens ``<|...|>`` become ``‹|...|›``
#   (servers such as llama.cpp and HF tokenizers turn the literal text ``<|im_start|>``
#   into the real special token).
#
# The text stays readable, and reading it back is the reverse mapping: ``‹`` → ``<``,
# ``|›`` → ``|>``, and a leading ``\`` before ``#`` or ``[`` dropped.

_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_RESERVED_TAG = re.compile(
    r"<(?=/?\s*(?:choice|verdict|score|critique|think|thinking|answer|tool_call_unparsed"
    r"|tool_calls?|tool_response|tool_result|tools|function_calls?|system|user|assistant"
    r"|s|start_of_turn|end_of_turn|im_start|im_end)\b)",
    re.IGNORECASE,
)
_SPECIAL_OPEN = re.compile(r"<\|")
_SPECIAL_CLOSE = re.compile(r"\|>")
_LINE_MARKER = re.compile(
    r"^([ \t]*+)(?=#|\[\s*(?:system|user|assistant|tool|function)\b)", re.IGNORECASE | re.MULTILINE
)

NEUTRAL_LT = "\u2039"
"""What the ``<`` of a reserved tag in untrusted text becomes (``‹``)."""
NEUTRAL_GT = "\u203a"
"""What the ``>`` of a chat-template token ``|>`` in untrusted text becomes (``›``)."""


def neutralize(text: str) -> str:
    """Untrusted ``text`` made unable to break out of its section (see the notes above).

    Linear in the length of ``text``; idempotent (neutral text is left as it is).
    """
    text = _LINE_BREAKS.sub("\n", text)
    text = _RESERVED_TAG.sub(NEUTRAL_LT, text)
    text = _SPECIAL_CLOSE.sub("|" + NEUTRAL_GT, _SPECIAL_OPEN.sub(NEUTRAL_LT + "|", text))
    return _LINE_MARKER.sub(r"\1\\", text)


_NEUTRAL_MARKER = re.compile(r"^([ \t]*+)\\(?=#|\[)", re.MULTILINE)


def unneutralize(text: str) -> str:
    """The reading of neutral text: ``‹`` → ``<``, ``|›`` → ``|>``, the ``\\`` put in front of a
    line's ``#`` or ``[`` dropped. Gives back the original, line breaks made ``\\n``, for
    text that held no ``‹``, ``|›`` or line-leading ``\\#`` / ``\\[`` of its own."""
    text = _NEUTRAL_MARKER.sub(r"\1", text)
    return text.replace("|" + NEUTRAL_GT, "|>").replace(NEUTRAL_LT, "<")


def _one_line(text: str, limit: int) -> str:
    """Neutral text on one line (white space runs made one blank), cut to ``limit``."""
    flat = " ".join(neutralize(text[: limit * 4]).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class PromptBudget:
    """How many characters of untrusted text one judge prompt holds, and where.

    What is cut, and why (a long input never silently pushes the instructions, which come
    after it, out of the judge's context; the template's own text is not counted):

    * a tool result, or a text reply under judgement, keeps its first ``turn`` characters
      (the head of a result is where its status and fields are);
    * any other message (system, user, assistant) longer than ``message`` keeps its first
      three quarters and its last quarter: a request usually opens with the task and
      ends with the question;
    * a proposal (each of the two in a pairwise prompt) keeps its first ``proposal``
      characters;
    * the tools keep ``tools`` characters: the functions the proposals call first, then
      the others in the order offered; the names of those left out are listed;
    * the conversation gets what is left of ``total``: the first system message and the
      last user message are always kept (cut further if they alone are too long), then
      the most recent turns, newest first; a run of turns left out is one marker line.

    Every cut leaves a visible marker (``…[N more characters cut]``, ``[… N turns cut to
    fit the judge's budget …]``, ``[… N more functions cut ...]``); nothing is dropped
    silently.
    """

    total: int = 48_000
    tools: int = 16_000
    proposal: int = 8_000
    turn: int = 4_000
    message: int = 16_000


DEFAULT_PROMPT_BUDGET = PromptBudget()
"""The prompt budget a judge uses unless told otherwise (about 12k tokens of untrusted text)."""

MAX_TURN_CHARS = DEFAULT_PROMPT_BUDGET.turn
"""Longer tool results (and text replies under judgement) are cut to this many characters."""


def _clip(text: str, max_chars: int) -> str:
    """The first ``max_chars`` characters of ``text`` and a marker counting the rest."""
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}…[{len(text) - max_chars} more characters cut]"


def _middle_cut(text: str, max_chars: int) -> tuple[str, str, int]:
    """(head, tail, characters cut) of ``text`` cut in the middle to ``max_chars``: its
    first three quarters and last quarter kept (``(text, "", 0)`` when it fits)."""
    if len(text) <= max_chars:
        return text, "", 0
    head = max_chars * 3 // 4
    tail = max_chars - head
    return text[:head], text[len(text) - tail :], len(text) - head - tail


def _clip_middle(text: str, max_chars: int) -> str:
    """``text`` with its middle cut: the first three quarters and the last quarter kept."""
    head, tail, cut = _middle_cut(text, max_chars)
    if not cut:
        return text
    return f"{head}\n…[{cut} characters cut from the middle]…\n{tail}"


def message_in_budget(text: str, prompt_budget: PromptBudget = DEFAULT_PROMPT_BUDGET) -> str:
    """A (non-tool) message as much of it as a judge prompt shows: within
    ``prompt_budget.message`` characters, the first three quarters and the last quarter kept
    (see :class:`PromptBudget`), the cut one line ``…``; ``text`` itself when it fits.

    For readers of the text other than the prompt (the trained critic's request
    features, its relevance encoder): they read what the judge prompt holds, never a
    megabyte, and the marker carries no count (a count is a number the reader would
    take as part of the request).
    """
    if len(text) <= prompt_budget.message:
        return text
    head, tail, cut = _middle_cut(text.strip(), prompt_budget.message)  # stripped, as the prompt does
    return f"{head}\n…\n{tail}" if cut else text


_ANSWER_ELEMENT = re.compile(r"<(choice|verdict|score|critique)\s*>[^<]{0,400}</\1\s*>", re.IGNORECASE)
_JUDGE_TAG = re.compile(
    r"</?\s*\|?(?:choice|verdict|score|critique|think|thinking|answer|tool_call_unparsed|tool_calls?"
    r"|tool_response|tool_result|tools|function_calls?|system|user|assistant|start_of_turn|end_of_turn"
    r"|im_start|im_end)\b[^<>\n]{0,100}\|?>",
    re.IGNORECASE,
)
_JUDGE_SECTION = re.compile(
    r"^[ \t]*#{1,6}[ \t]*(?:available functions|conversation so far|response [12]|proposed next turn)[ \t]*$"
    r"(?:\n[^\n]+)*",
    re.IGNORECASE | re.MULTILINE,
)
_JUDGE_LINE = re.compile(
    r"^[ \t]*\[\s*(?:system|user|assistant|tool result)[^\]\n]{0,40}\][ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)


def without_judge_markup(text: str) -> str:
    """``text`` less what is addressed to a judge rather than to the agent: answer elements
    (``<choice>1</choice>``, ``<verdict>…</verdict>``, ``<score>``, ``<critique>``), chat and
    answer tags, role-marker lines (``[system]``), and a forged section of this module's
    prompts: a line with one of its section headers (``## Response 1``) and the paragraph
    under it (text under a judge's own header claims to be the judge's prompt, not the
    user's request). The prompt builder keeps such text, neutralized; readers that take
    values from the request (the trained critic's features) drop it, so an injected
    ``<choice>1</choice>`` is no number the user asked for. Linear in ``text``."""
    text = _JUDGE_SECTION.sub("", text)
    text = _ANSWER_ELEMENT.sub(" ", text)
    text = _JUDGE_TAG.sub(" ", text)
    return _JUDGE_LINE.sub("", text)


def request_in_budget(context: JudgeContext, prompt_budget: PromptBudget = DEFAULT_PROMPT_BUDGET) -> str:
    """The last user message (what the agent is asked to do) within the prompt budget
    (:func:`message_in_budget`), less judge markup (:func:`without_judge_markup`); ``""``
    when there is none."""
    return without_judge_markup(message_in_budget(context.user_request, prompt_budget))


MAX_SCHEMA_DEPTH = 32
"""Tool schemas nested deeper than this render a marker there (real schemas are shallow)."""


def _bounded(value: Any, depth: int = 0) -> Any:
    """``value`` with key order kept and anything deeper than :data:`MAX_SCHEMA_DEPTH`
    replaced by ``"<nested too deep>"`` (indented JSON of deep values is quadratic)."""
    if depth > MAX_SCHEMA_DEPTH:
        return "<nested too deep>"
    if isinstance(value, dict):
        return {k: _bounded(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_bounded(v, depth + 1) for v in value]
    return value


def _json_text(value: Any, indent: int | None = None) -> str:
    """JSON for the prompt, depth-bounded; the canonical form when plain JSON cannot render it."""
    try:
        return json.dumps(_bounded(value), ensure_ascii=False, indent=indent, default=str)
    except (TypeError, ValueError, RecursionError):
        return json.dumps(_canonical_value(value), ensure_ascii=False, indent=indent, default=str)


def render_tools(
    tools: tuple[ToolSpec, ...] | list[ToolSpec],
    *,
    max_chars: int | None = None,
    keep: set[str] | frozenset[str] = frozenset(),
) -> str:
    """The offered tools as one JSON schema per line block (name, description, parameters).

    With ``max_chars``, tools are kept whole while they fit, those named in ``keep`` (the
    functions a proposal calls) first; the names of the tools left out are listed on a
    marker line. A kept tool longer than the whole budget keeps its head.
    """
    if not tools:
        return "(no functions offered)"
    blocks = [
        neutralize(
            _json_text(
                {
                    "name": t.name,
                    # cut first (with its marker): neutralising a megabyte is wasted work
                    "description": t.description
                    if max_chars is None
                    else _clip(t.description, max_chars),
                    "parameters": t.parameters,
                },
                indent=2,
            )
        )
        for t in tools
    ]
    if max_chars is None or sum(len(b) + 1 for b in blocks) <= max_chars:
        return "\n".join(blocks)
    order = sorted(range(len(tools)), key=lambda i: (tools[i].name not in keep, i))
    kept: set[int] = set()
    used = 0
    for i in order:
        size = len(blocks[i]) + 1
        if used + size <= max_chars:
            kept.add(i)
            used += size
        elif not kept and tools[i].name in keep:  # a called tool larger than the budget
            blocks[i] = _clip(blocks[i], max_chars)
            kept.add(i)
            used += len(blocks[i]) + 1
    cut = [tools[i].name for i in range(len(tools)) if i not in kept]
    shown: list[str] = []
    for name in cut:  # the names while they fit in about a thousand characters
        if sum(len(n) + 2 for n in shown) > 1000:
            break
        shown.append(name[:200])
    names = _one_line(", ".join(shown), 1000)
    marker = f"[… {len(cut)} more functions cut to fit the judge's budget: {names} …]"
    return "\n".join([*(blocks[i] for i in sorted(kept)), marker])


def render_calls(proposal: Proposal, *, max_chars: int | None = None) -> str:
    """The calls of a proposal as :meth:`Proposal.render` writes them, with the untrusted
    parts (names, arguments, unparsed text, reasons) neutralised inside their fences.

    With ``max_chars``, each block's body is cut (an equal share each, at least 200
    characters) so that every fence stays closed; blocks beyond the budget are left out
    behind a marker line saying how many.
    """
    n = len(proposal.calls) + len(proposal.failures)
    if n == 0:
        return "(no function call)"
    share = None if max_chars is None else max(200, max_chars // n - 60)

    def fit(body: str) -> str:  # cut first: neutralising a megabyte is wasted work
        return neutralize(body if share is None else _clip(body, share))

    bodies = sorted(c.canonical() for c in proposal.calls)
    failures = [
        (json.dumps(_one_line(f.reason, 300)), _clip(f.raw, MAX_TURN_CHARS))
        for f in proposal.failures
    ]

    blocks = [f"<tool_call>\n{fit(b)}\n</tool_call>" for b in bodies]
    blocks += [
        f"<tool_call_unparsed reason={reason}>\n{fit(raw)}\n</tool_call_unparsed>"
        for reason, raw in failures
    ]
    if max_chars is None:
        return "\n".join(blocks)
    kept: list[str] = []
    used = 0
    for block in blocks:
        if kept and used + len(block) + 1 > max_chars:
            break
        kept.append(block)
        used += len(block) + 1
    if len(kept) < len(blocks):
        kept.append(f"[… {len(blocks) - len(kept)} more calls cut to fit the judge's budget …]")
    return "\n".join(kept)


def _turn_block(turn: Turn, max_chars: int, message_chars: int) -> str:
    if turn.role == "tool":
        header = (
            f"[tool result for {_one_line(turn.tool_call_id, 80)}]"
            if turn.tool_call_id
            else "[tool result]"
        )
    else:
        header = f"[{turn.role}]"
    body = turn.content.strip()
    # tool results can be huge and keep their head; other messages keep head and tail
    body = _clip(body, max_chars) if turn.role == "tool" else _clip_middle(body, message_chars)
    body = neutralize(body)
    if turn.tool_calls:
        calls = render_calls(Proposal(calls=turn.tool_calls))
        body = f"{body}\n{calls}" if body else calls
    return f"{header}\n{body or '(empty)'}"


def render_conversation(
    turns: tuple[Turn, ...] | list[Turn],
    *,
    max_chars: int = MAX_TURN_CHARS,
    total_chars: int | None = None,
    message_chars: int = DEFAULT_PROMPT_BUDGET.message,
) -> str:
    """The conversation as ``[role]`` blocks; assistant calls in the canonical Hermes form.

    ``max_chars`` cuts each tool result, ``message_chars`` each other message (see
    :class:`PromptBudget`); with ``total_chars``, the whole conversation is fitted into that
    many characters: the first system message and the last user message always stay,
    then the most recent turns; left-out runs become one marker line each.
    """
    if not turns:
        return "(empty conversation)"
    blocks = [_turn_block(t, max_chars, message_chars) for t in turns]
    if total_chars is None or sum(len(b) + 2 for b in blocks) <= total_chars:
        return "\n\n".join(blocks)
    return "\n\n".join(_fit_turns(list(turns), blocks, total_chars))


def _fit_turns(turns: list[Turn], blocks: list[str], total_chars: int) -> list[str]:
    """The blocks that fit ``total_chars`` (see :func:`render_conversation`), with cut markers."""
    pinned = [i for i in (0,) if turns[0].role == "system"]
    last_user = next((i for i in range(len(turns) - 1, -1, -1) if turns[i].role == "user"), None)
    if last_user is not None and last_user not in pinned:
        pinned.append(last_user)
    reserve = 200  # room for the cut markers
    room = max(0, total_chars - reserve)
    if sum(len(blocks[i]) + 2 for i in pinned) > room:  # the system message gets a quarter
        margin = 60  # a cut marker's length
        if len(pinned) == 2:
            blocks[pinned[0]] = _clip(blocks[pinned[0]], max(0, room // 4 - margin))
        rest = room - sum(len(blocks[i]) + 2 for i in pinned[:-1])
        blocks[pinned[-1]] = _clip(blocks[pinned[-1]], max(0, rest - margin))
    kept = set(pinned)
    used = sum(len(blocks[i]) + 2 for i in pinned)
    for i in range(len(turns) - 1, -1, -1):  # newest first; stop at the first that does not fit
        if i in kept:
            continue
        if used + len(blocks[i]) + 2 > room:
            break
        kept.add(i)
        used += len(blocks[i]) + 2
    out: list[str] = []
    gap = 0
    for i, block in enumerate(blocks):
        if i in kept:
            if gap:
                out.append(_gap_marker(gap))
                gap = 0
            out.append(block)
        else:
            gap += 1
    if gap:
        out.append(_gap_marker(gap))
    return out


def _gap_marker(count: int) -> str:
    turns = "turn" if count == 1 else "turns"
    return f"[… {count} {turns} cut to fit the judge's budget …]"


def render_proposal(proposal: Proposal, *, max_chars: int | None = None) -> str:
    """A proposal as the judge sees it: canonical calls, plus its text when it has no call.

    Untrusted parts are neutralised; with ``max_chars`` each call is cut inside its fence
    (see :func:`render_calls`).
    """
    if proposal.is_empty and proposal.content.strip():
        limit = MAX_TURN_CHARS if max_chars is None else min(MAX_TURN_CHARS, max_chars)
        reply = neutralize(_clip(proposal.content.strip(), limit))
        return f"(no function call; the assistant replies)\n{reply}"
    return render_calls(proposal, max_chars=max_chars)


def _called(*proposals: Proposal) -> frozenset[str]:
    return frozenset(c.name for p in proposals for c in p.calls) | frozenset(
        f.name for p in proposals for f in p.failures if f.name
    )


def _fields(
    context: JudgeContext, proposals: dict[str, Proposal], prompt_budget: PromptBudget
) -> dict[str, str]:
    """The template fields: proposals, then tools, then the conversation in what is left."""
    fields = {key: render_proposal(p, max_chars=prompt_budget.proposal) for key, p in proposals.items()}
    fields["tools"] = render_tools(
        context.tools, max_chars=prompt_budget.tools, keep=_called(*proposals.values())
    )
    left = prompt_budget.total - sum(len(v) for v in fields.values())
    fields["conversation"] = render_conversation(
        context.turns,
        max_chars=prompt_budget.turn,
        total_chars=max(left, prompt_budget.turn),
        message_chars=prompt_budget.message,
    )
    return fields


def pairwise_messages(
    context: JudgeContext,
    first: Proposal,
    second: Proposal,
    *,
    thinking: bool = False,
    templates: JudgeTemplates = DEFAULT_TEMPLATES,
    prompt_budget: PromptBudget = DEFAULT_PROMPT_BUDGET,
) -> list[BaseMessage]:
    """The chat messages asking which of ``first`` (Response 1) and ``second`` is better.

    Untrusted text is neutralised and cut to ``prompt_budget`` (:class:`PromptBudget`).
    """
    return templates.for_pairwise(thinking).format(
        **_fields(context, {"response_1": first, "response_2": second}, prompt_budget)
    )


def pointwise_messages(
    context: JudgeContext,
    proposal: Proposal,
    *,
    thinking: bool = False,
    templates: JudgeTemplates = DEFAULT_TEMPLATES,
    prompt_budget: PromptBudget = DEFAULT_PROMPT_BUDGET,
) -> list[BaseMessage]:
    """The chat messages asking for a verdict and a critique of ``proposal``.

    Untrusted text is neutralised and cut to ``prompt_budget`` (:class:`PromptBudget`).
    """
    return templates.for_pointwise(thinking).format(
        **_fields(context, {"proposal": proposal}, prompt_budget)
    )


def reward_template_messages(
    context: JudgeContext,
    proposal: Proposal,
    template: RewardTemplate,
    *,
    prompt_budget: PromptBudget = DEFAULT_PROMPT_BUDGET,
) -> list[dict[str, str]]:
    """The ``{"role", "content"}`` messages a reward model reads for ``proposal``, from a
    user's :class:`RewardTemplate`; the fields are rendered, neutralised and cut to
    ``prompt_budget`` as in the generative judge's prompts."""
    return template.format(**_fields(context, {"proposal": proposal}, prompt_budget))


# --------------------------------------------------------------------------------------
# parsing answers
# --------------------------------------------------------------------------------------

_THINK_TAG = re.compile(r"<(/?)think(?:ing)?>", re.IGNORECASE)

MAX_ANSWER_CHARS = 20_000
"""The *lenient* readings of a judge answer (phrasings such as "the call is incorrect")
look at its last this-many characters only, so that a megabyte of text costs no more
than this much regex work. The strict tags (``<choice>``, ``<verdict>``, ``<score>``,
``<critique>``) are found in the whole answer, in linear time: our own template asks for
the verdict *before* the critique, and a long critique must never hide it."""


def strip_thinking(
    text: str,
    *,
    unclosed: Literal["drop", "keep"] = "drop",
    lone_close: Literal["first", "last", "keep"] = "first",
    sep: str = " ",
) -> str:
    """The answer part of a completion: reasoning blocks removed.

    Removes every ``<think>...</think>`` block (``<thinking>`` too, any case), leaving
    ``sep`` in its place. ``unclosed``: an opening tag that is never closed runs to the end
    of the text (``"drop"``, the default: a truncated trace) or stays as text (``"keep"``).
    ``lone_close``: a closing tag that closes no block cuts off everything before it when
    it is the first tag (``"first"``, the default: a chat template that opens the think
    block in the prompt leaves only the closing tag in the completion), wherever it is
    (``"last"``: the answer follows the last such tag), or never (``"keep"``). One pass
    over the tags: linear in the length of ``text``, however the tags repeat.
    """
    return split_thinking(text, unclosed=unclosed, lone_close=lone_close, sep=sep)[1]


def split_thinking(
    text: str,
    *,
    unclosed: Literal["drop", "keep"] = "drop",
    lone_close: Literal["first", "last", "keep"] = "first",
    sep: str = " ",
    strip_after: bool = False,
) -> tuple[str, str]:
    """``(reasoning, answer)`` of a completion, read as :func:`strip_thinking` reads it.

    ``answer`` is what :func:`strip_thinking` returns; ``reasoning`` is the text it
    removed (the bodies of the blocks, and the text cut off by a lone closing tag), each
    piece stripped, joined by newlines. ``strip_after``: the white space after a closed
    block goes with it.
    """
    kept: list[str | None] = []  # answer pieces; None where a block stood (``sep``)
    thought: list[str] = []
    open_end: int | None = None
    pos = 0
    first = True
    for m in _THINK_TAG.finditer(text):
        closing = bool(m.group(1))
        if closing and open_end is None:
            if lone_close == "last" or (first and lone_close == "first"):
                # a lone closing tag: everything before it was reasoning
                thought.extend(p for p in kept if p is not None)
                thought.append(text[pos : m.start()])
                kept.clear()
                pos = m.end()
        elif not closing and open_end is None:
            kept.append(text[pos : m.start()])
            open_end = m.end()
            pos = m.start()
        elif closing:
            thought.append(text[open_end : m.start()])
            kept.append(None)
            pos = m.end()
            while strip_after and pos < len(text) and text[pos].isspace():
                pos += 1
            open_end = None
        first = False
    if open_end is None:
        kept.append(text[pos:])
    elif unclosed == "keep":
        kept.append(text[pos:])
    else:
        thought.append(text[open_end:])
    answer = "".join(sep if p is None else p for p in kept)
    return "\n".join(t.strip() for t in thought if t.strip()), answer


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


MAX_CRITIQUE_CHARS = 4000
"""A critique keeps at most this many characters, its cut marker included (a visible
``…[N more characters cut]``): it is sent back to the policy model as is. Judges cap
what they parse, and the critic caps again whatever judge produced the text."""

_CUT_MARKER_ROOM = 40


def cap_critique(text: str) -> str:
    """A critique made safe to hand to the policy: chat-template special tokens
    (``<|im_start|>``) neutralised, cut to :data:`MAX_CRITIQUE_CHARS` (marker included,
    so capping a capped critique changes nothing)."""
    text = _SPECIAL_CLOSE.sub("|" + NEUTRAL_GT, _SPECIAL_OPEN.sub(NEUTRAL_LT + "|", text))
    if len(text) <= MAX_CRITIQUE_CHARS:
        return text
    return _clip(text, MAX_CRITIQUE_CHARS - _CUT_MARKER_ROOM)


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
