"""What judges return: verdicts per call, critiques per proposal, preferences, rankings.

All are pydantic models, so they cross process and checkpoint boundaries as JSON
(``model_dump(mode="json")``) and come back with ``model_validate``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from toolrm_agent.core._frozen import validated_override


class IssueCode(StrEnum):
    """Machine codes for what is wrong with a call (or with the judging of it)."""

    UNKNOWN_FUNCTION = "unknown_function"
    """The called function is not among the offered tools."""
    MISSING_REQUIRED = "missing_required"
    """A required argument is absent."""
    UNEXPECTED_ARGUMENT = "unexpected_argument"
    """An argument the function does not declare."""
    TYPE_MISMATCH = "type_mismatch"
    """A value of the wrong JSON type (BFCL leniency: an int is a valid float)."""
    ENUM_VIOLATION = "enum_violation"
    """A value outside the parameter's ``enum``."""
    MALFORMED_ARGUMENTS = "malformed_arguments"
    """The call itself could not be parsed (bad JSON, bad Python syntax, no name)."""
    UNGROUNDED_VALUE = "ungrounded_value"
    """A value that appears nowhere in the conversation (soft signal, a warning)."""
    DUPLICATE_CALL = "duplicate_call"
    """The same call twice in one proposal."""
    REPEATED_CALL = "repeated_call"
    """A call identical to one already executed in this turn, its result in the transcript
    (added by the critic whatever the judge)."""
    NO_CALL = "no_call"
    """The proposal holds no function call although one was expected."""
    UNCOVERED_REQUEST = "uncovered_request"
    """Part of the request (a value, an item of a list) is used by no call: a call or an
    argument may be missing (the trained critic)."""
    IRRELEVANT_CALL = "irrelevant_call"
    """None of the offered functions fits the request, yet one is called (the trained critic)."""
    LM_SUGGESTION = "lm_suggestion"
    """The language model a trained critic reads expects another value for an argument (a
    warning that names the LM's value: a hint, not a rule)."""
    JUDGE_REJECTED = "judge_rejected"
    """A generative judge found a problem it described in free text."""
    JUDGE_UNPARSEABLE = "judge_unparseable"
    """The judge's answer could not be parsed; the failure policy decided."""
    JUDGE_ERROR = "judge_error"
    """The judge's backend failed (raised or timed out); the failure policy decided."""


Severity = Literal["error", "warning"]


class Issue(BaseModel):
    """One finding about a call. Errors reject; warnings only lower the score."""

    model_config = ConfigDict(frozen=True)

    code: IssueCode
    severity: Severity = "error"
    message: str
    argument: str | None = None


class TokenUsage(BaseModel):
    """Tokens a judge spent (from the backend's usage metadata)."""

    model_config = ConfigDict(frozen=True)

    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


class CallVerdict(BaseModel):
    """The verdict on one tool call of a proposal."""

    model_config = ConfigDict(frozen=True)

    tool_call_id: str
    name: str | None = None
    ok: bool
    score: float = Field(ge=0.0, le=1.0)
    issues: tuple[Issue, ...] = ()
    feedback: str = ""

    @property
    def codes(self) -> list[IssueCode]:
        return [i.code for i in self.issues]


JudgeStatus = Literal["ok", "unparseable", "backend_error", "skipped"]


class Critique(BaseModel):
    """The verdict on a whole proposal (one assistant turn's calls)."""

    model_config = ConfigDict(frozen=True)

    accepted: bool
    score: float = Field(ge=0.0, le=1.0)
    """What the score means depends on the judge. A trained critic with a calibration map
    (``calibration.json``; every critic ``toolrm train disc --method cached`` writes)
    gives P(correct), fitted on held-out records; an older critic directory gives
    ``sigmoid(logit)``, a ranking score. The schema judge gives a rule score (accepted
    proposals in [0.5, 1], rejected ones below 0.5), a generative judge the score its
    answer states, else 1 or 0 by its verdict, the likelihood judge the geometric-mean
    token probability: ranking scores, not probabilities. Decision bands
    (``CriticOptions.bands``) read the score as it is."""
    text: str = ""
    """What to fix, written for the agent; empty when accepted without remarks."""
    judge: str
    calls: tuple[CallVerdict, ...] = ()
    usage: TokenUsage = TokenUsage()
    latency_s: float = 0.0
    status: JudgeStatus = "ok"
    """``ok`` unless the judge failed and the failure policy filled in the verdict."""
    raw_output: str | None = None

    @property
    def codes(self) -> list[IssueCode]:
        return [i.code for c in self.calls for i in c.issues]

    def override(self, **changes: object) -> Critique:
        """A validated copy with ``changes`` applied (``override(score=5)`` raises
        pydantic's ``ValidationError``: scores are in [0, 1])."""
        return validated_override(self, changes)


class Preference(BaseModel):
    """A pairwise verdict: which of two proposals is better."""

    model_config = ConfigDict(frozen=True)

    choice: Literal[1, 2] | None
    """1 or 2; ``None`` when the judge could not decide (unparseable, tie, error)."""
    judge: str
    scores: tuple[float, float] | None = None
    """Pointwise scores of (a, b) when the preference came from scores."""
    consistent: bool | None = None
    """For a pairwise judge asked in both orders: did both orders agree?"""
    votes: tuple[Literal[1, 2] | None, ...] = ()
    """The choice per order asked, mapped back to the (a, b) numbering."""
    usage: TokenUsage = TokenUsage()
    latency_s: float = 0.0
    status: JudgeStatus = "ok"
    raw_outputs: tuple[str, ...] = ()


class Ranking(BaseModel):
    """Several proposals ranked best first."""

    model_config = ConfigDict(frozen=True)

    order: tuple[int, ...]
    """Indices into the ranked proposals, best first."""
    scores: tuple[float, ...] = ()
    """A score per proposal (same indexing as the input), when the judge has one."""
    accepted: tuple[bool, ...] = ()
    """The judge's verdict per proposal (same indexing as the input), when it gives one."""
    judge: str
    usage: TokenUsage = TokenUsage()
    latency_s: float = 0.0
    comparisons: int = 0

    @property
    def best(self) -> int:
        return self.order[0]
