"""The exceptions toolrm-agent raises: one small hierarchy under :class:`ToolRMError`.

::

    ToolRMError
    ├── ToolSpecError            a tool description that cannot become a ToolSpec
    ├── JudgeError               a judge could not produce a verdict (carries a post-mortem)
    │   ├── JudgeBackendError    the backend raised or timed out on every attempt
    │   └── JudgeParseError      the backend answered, but nothing parseable
    ├── BudgetExhaustedError     a critic budget is spent and the policy is "raise"
    ├── ModelProvisioningError   an offline model cannot be built (missing wheel, bad checksum)
    ├── CheckpointError          a critic checkpoint that is missing or not a critic
    └── TrainingError            a data build or a trainer that cannot go on (bad options)

Malformed *tool calls* never raise: they become :class:`toolrm_agent.calls.ParseFailure`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ToolRMError(Exception):
    """Base class of every error raised by toolrm-agent."""


class ToolSpecError(ToolRMError, ValueError):
    """A tool description that cannot be turned into a :class:`ToolSpec`."""


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
    """A critic budget (retries, calls or tokens) is spent and the policy says raise."""


class ModelProvisioningError(ToolRMError):
    """An offline model cannot be provisioned; the message says what to install."""


class CheckpointError(ToolRMError, FileNotFoundError):
    """A critic checkpoint (``disc:DIR``, ``gen:DIR``) that is missing or unreadable."""


class TrainingError(ToolRMError, ValueError):
    """A data build or a trainer that cannot go on: bad options, inconsistent inputs."""
