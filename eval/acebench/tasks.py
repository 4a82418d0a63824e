"""ACEBench questions as agent tasks for the arm runner (:mod:`eval.tasks`).

An :class:`AceTask` is an :class:`~eval.tasks.runner.AgentTask` whose messages are our
system prompt (the time or user profile the question carries, and for the special
categories the three answer formats ACEBench's checker looks for) followed by the
dialogue, one message per turn (ACEBench's ``system:`` turns are the assistant's). Its
:meth:`AceTask.check` is our ACEBench checker (:mod:`eval.acebench.checker`) on the
executed calls and the model's prose answer.

The prompts are ours; only the answer formats of the special categories are
ACEBench's (its checker reads them).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from eval.acebench.checker import (
    INCOMPLETE_PHRASE,
    IRRELEVANT_PHRASE,
    WRONG_VALUE_PHRASE,
    AceCheck,
    check,
)
from eval.acebench.data import AceQuestion, load_questions
from eval.tasks.runner import AgentTask
from toolrm_agent.core.calls import Proposal

__all__ = [
    "NORMAL_PROMPT",
    "SPECIAL_PROMPT",
    "AceTask",
    "load_ace_tasks",
    "select_questions",
    "system_prompt",
]

NORMAL_PROMPT = (
    "You are a function-calling assistant. Answer the user's last request by calling the "
    "offered functions. When the request needs several calls, make all of them in one answer. "
    "Give a parameter only when the conversation (or the user's profile) gives its value, and "
    "use the user's own words for a value unless the parameter asks for a format. Call only "
    "the offered functions, and do not answer in prose."
)
"""The system message of the normal categories (ours)."""

SPECIAL_PROMPT = (
    "You are a function-calling assistant. When the user's last request gives every value an "
    "offered function needs, in the form its parameters ask for, call that function. "
    "Otherwise call nothing and answer in one line, in the first of these forms that applies:\n"
    f"- a value has the wrong form for its parameter: {WRONG_VALUE_PHRASE} (VALUE) for the "
    "parameters (PARAMETER) in the conversation history.\n"
    f"- a required value is missing: {INCOMPLETE_PHRASE} (PARAMETER1, PARAMETER2) for the "
    "api (FUNCTION)\n"
    f"- no offered function can do what is asked: Due to {IRRELEVANT_PHRASE}, I cannot solve "
    "this problem."
)
"""The system message of the special categories (ours; the three forms are ACEBench's)."""


def system_prompt(question: AceQuestion) -> str:
    """Our system message for one question: the category's prompt, then its context."""
    parts = [SPECIAL_PROMPT if question.category.startswith("special_") else NORMAL_PROMPT]
    if question.time.strip():
        parts.append(f"Current date and time: {question.time.strip()}")
    if question.profile.strip():
        parts.append(
            "The user's profile (values the request leaves open may come from it):\n"
            + question.profile.strip()
        )
    return "\n\n".join(parts)


@dataclass(frozen=True)
class AceTask(AgentTask):
    """One ACEBench question as the agent sees it; checked by our ACEBench checker."""

    phrases: bool = True
    """Special categories: require ACEBench's answer formats (the reference's rule)."""

    @classmethod
    def from_ace(cls, question: AceQuestion, *, phrases: bool = True) -> AceTask:
        messages: list[BaseMessage] = [SystemMessage(content=system_prompt(question))]
        for role, text in question.turns:
            messages.append(HumanMessage(content=text) if role == "user" else AIMessage(content=text))
        return cls(question=question, messages=tuple(messages), answer=question.ground_truth,
                   phrases=phrases)

    def check(self, final: Proposal, text: str = "") -> AceCheck:
        return check(self.question, final.calls, text, phrases=self.phrases)


def select_questions(
    questions: Sequence[AceQuestion], limit: int | None, seed: int
) -> list[AceQuestion]:
    """At most ``limit`` questions of one category, drawn with ``seed`` (the same draw for
    every arm and every run with that seed), kept in ACEBench's order; all when ``limit``
    is ``None``."""
    if limit is None or limit >= len(questions):
        return list(questions)
    category = questions[0].category if questions else ""
    keep = set(random.Random(f"{seed}|{category}").sample(range(len(questions)), max(0, limit)))
    return [q for i, q in enumerate(questions) if i in keep]


def load_ace_tasks(
    categories: Sequence[str],
    *,
    data_dir: Path | None = None,
    limit: int | None = None,
    seed: int = 0,
    phrases: bool = True,
) -> list[AceTask]:
    """Tasks of the given categories, category by category (:func:`select_questions`)."""
    tasks: list[AceTask] = []
    for category in categories:
        chosen = select_questions(load_questions(category, data_dir), limit, seed)
        tasks.extend(AceTask.from_ace(q, phrases=phrases) for q in chosen)
    return tasks
