"""Untrusted text in any prompt: neutralised, cut to a budget, rendered for a judge.

Everything a prompt shows that someone else wrote (tools, the conversation, tool results,
proposals) goes through here, whatever the prompt: :func:`neutralize` (and its reading
:func:`unneutralize`), the :class:`PromptBudget` and its cuts (:func:`message_in_budget`,
:func:`request_in_budget`, :func:`without_judge_markup`), the renderings of tools, calls,
proposals and the conversation, and :func:`cap_critique` for the critique text the policy
reads. The judge templates that hold these renderings are in
:mod:`toolrm_agent.judges.generative.templates`, the parsers of the judges' answers in
:mod:`toolrm_agent.judges.generative.answers`; judges that never prompt a model (the schema checks,
the trained critic's features) import only this module.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from toolrm_agent.core.calls import Proposal, _canonical_value
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.specs import ToolSpec

__all__ = [
    "DEFAULT_PROMPT_BUDGET",
    "MAX_CRITIQUE_CHARS",
    "MAX_SCHEMA_DEPTH",
    "MAX_TURN_CHARS",
    "NEUTRAL_GT",
    "NEUTRAL_LT",
    "PromptBudget",
    "cap_critique",
    "message_in_budget",
    "neutralize",
    "render_calls",
    "render_conversation",
    "render_proposal",
    "render_tools",
    "request_in_budget",
    "unneutralize",
    "without_judge_markup",
]

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
_CHAT_TURN = re.compile(
    r"<\|im_start\|>[ \t]*(?:system|user|assistant|tool)\b[^<]{0,2000}(?:<\|im_end\|>)?", re.IGNORECASE
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
    user's request), and a forged chat turn (``<|im_start|>system`` and its text up to the
    next tag, at most 2,000 characters). The prompt builder keeps such text, neutralized; readers that take
    values from the request (the trained critic's features) drop it, so an injected
    ``<choice>1</choice>`` is no number the user asked for. Carriage returns count as line
    breaks (a forged header on a ``\\r``-ended line is a header too). Linear in ``text``."""
    text = _JUDGE_SECTION.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CHAT_TURN.sub(" ", text)
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
