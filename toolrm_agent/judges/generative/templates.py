"""Prompt templates for generative judges, and the prompts they fill.

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
read from a user's TOML file (:mod:`toolrm_agent.judges.generative.template_file`, ``templates=<path>``
in a judge spec; docs/paper-checkpoints.md). They use :meth:`str.format`
fields: ``{tools}``, ``{conversation}``, ``{response_1}``, ``{response_2}`` (pairwise) and
``{proposal}`` (pointwise). Values are substituted once, so braces inside tool schemas
are safe; braces written in a template itself must be doubled.

The untrusted parts are rendered, neutralised and cut by :mod:`toolrm_agent.prompting.prompt_text`
before a template is filled; the answers are read by :mod:`toolrm_agent.judges.generative.answers`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypedDict, Unpack

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.prompting.prompt_text import (
    DEFAULT_PROMPT_BUDGET,
    PromptBudget,
    render_conversation,
    render_proposal,
    render_tools,
)

__all__ = [
    "DEFAULT_TAGS",
    "DEFAULT_TEMPLATES",
    "PAIRWISE",
    "PAIRWISE_THINKING",
    "POINTWISE",
    "POINTWISE_THINKING",
    "AnswerTags",
    "JudgeTemplates",
    "PromptTemplate",
    "RewardTemplate",
    "pairwise_messages",
    "pointwise_messages",
    "reward_template_messages",
]


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
    """The four templates a :class:`~toolrm_agent.judges.generative.generative.GenerativeJudge` uses,
    the answer tags it reads, and (for a ``disc:`` reward model) the reward template.
    A user's template file is read into one by
    :func:`toolrm_agent.judges.generative.template_file.load_templates`."""

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
    (:func:`toolrm_agent.judges.trained.discriminative.format_for_reward`)."""
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
