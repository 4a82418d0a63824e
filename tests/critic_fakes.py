"""Fakes for the critic and middleware tests: a scripted judge and two tiny tools.

``ScriptedJudge`` judges each call with a rule (``feedback_for(call) -> str | None``:
``None`` means the call is fine) and can instead raise, sleep, or answer as an
unparseable judge would (``behaviour``). It records every proposal it was asked about.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Literal

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import tool

from toolrm_agent.calls import Proposal, ToolCall
from toolrm_agent.context import JudgeContext
from toolrm_agent.errors import JudgeBackendError, JudgePostMortem
from toolrm_agent.judges.base import BaseJudge
from toolrm_agent.verdicts import CallVerdict, Critique, Issue, IssueCode, TokenUsage

TOOL_NAMES = {"get_weather", "get_time"}


@tool
def get_weather(city: str) -> str:
    """Current weather of a city."""
    return f"sunny in {city}"


@tool
def get_time(zone: str) -> str:
    """Current time in a time zone."""
    return f"12:00 in {zone}"


TOOLS = [get_weather, get_time]


def weather_rule(call: ToolCall) -> str | None:
    """Reject unknown functions and calls that miss their one required argument."""
    if call.name not in TOOL_NAMES:
        return f"unknown function {call.name!r}; use one of {sorted(TOOL_NAMES)}"
    required = {"get_weather": "city", "get_time": "zone"}[call.name]
    if required not in call.arguments:
        return f"missing required argument {required!r}"
    return None


Behaviour = Literal["rule", "raise", "unparseable_open", "unparseable_closed", "sleep"]


class ScriptedJudge(BaseJudge):
    """A judge whose verdicts follow a rule, or which fails in a chosen way."""

    def __init__(
        self,
        feedback_for: Callable[[ToolCall], str | None] = weather_rule,
        *,
        behaviour: Behaviour = "rule",
        tokens: tuple[int, int] = (10, 5),
        sleep_s: float = 0.0,
        score_of: Callable[[Proposal], float] | None = None,
        name: str = "scripted",
    ) -> None:
        self.feedback_for = feedback_for
        self.behaviour = behaviour
        self.tokens = tokens
        self.sleep_s = sleep_s
        self.score_of = score_of
        self.name = name
        self.seen: list[Proposal] = []
        self.contexts: list[JudgeContext] = []

    @property
    def calls(self) -> int:
        return len(self.seen)

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        if self.behaviour == "sleep":  # a backend that hangs
            time.sleep(self.sleep_s)
        return self._verdict(context, proposal)

    async def acritique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        if self.behaviour == "sleep":  # an async backend that hangs: cancellable
            await asyncio.sleep(self.sleep_s)
        return self._verdict(context, proposal)

    def _verdict(self, context: JudgeContext, proposal: Proposal) -> Critique:
        self.seen.append(proposal)
        self.contexts.append(context)
        usage = TokenUsage(input_tokens=self.tokens[0], output_tokens=self.tokens[1])
        if self.behaviour == "raise":
            raise JudgeBackendError(
                "backend down",
                JudgePostMortem(judge=self.name, attempts=2, input_tokens=7, output_tokens=0),
            )
        if self.behaviour.startswith("unparseable"):
            accepted = self.behaviour == "unparseable_open"
            return Critique(
                accepted=accepted,
                score=0.5,
                text="" if accepted else "The critic could not read its own answer.",
                judge=self.name,
                usage=usage,
                status="unparseable",
                raw_output="<garbage>",
            )
        verdicts: list[CallVerdict] = []
        for call in proposal.calls:
            feedback = self.feedback_for(call)
            verdicts.append(
                CallVerdict(
                    tool_call_id=call.id,
                    name=call.name,
                    ok=feedback is None,
                    score=1.0 if feedback is None else 0.0,
                    issues=(Issue(code=IssueCode.JUDGE_REJECTED, message=feedback),) if feedback else (),
                    feedback=feedback or "",
                )
            )
        for failure in proposal.failures:
            verdicts.append(
                CallVerdict(
                    tool_call_id=failure.id,
                    name=failure.name,
                    ok=False,
                    score=0.0,
                    issues=(Issue(code=IssueCode.MALFORMED_ARGUMENTS, message=failure.reason),),
                )
            )
        accepted = all(v.ok for v in verdicts)
        score = sum(v.score for v in verdicts) / max(len(verdicts), 1)
        if self.score_of is not None:
            score = self.score_of(proposal)
        bad = [v for v in verdicts if not v.ok]
        return Critique(
            accepted=accepted,
            score=score,
            text="" if accepted else "; ".join(f"{v.name}: {v.feedback or 'malformed'}" for v in bad),
            judge=self.name,
            calls=tuple(verdicts),
            usage=usage,
        )


def assert_every_call_answered(messages: list[BaseMessage]) -> None:
    """Each AIMessage's tool_call_ids (valid and malformed) have a ToolMessage after it,
    before the next AIMessage."""
    for i, message in enumerate(messages):
        if not isinstance(message, AIMessage):
            continue
        ids = [c["id"] for c in message.tool_calls] + [c["id"] for c in message.invalid_tool_calls]
        answered = set()
        for later in messages[i + 1 :]:
            if isinstance(later, AIMessage):
                break
            if isinstance(later, ToolMessage):
                answered.add(later.tool_call_id)
        missing = [cid for cid in ids if cid not in answered]
        assert not missing, f"tool_call_ids without a ToolMessage after message {i}: {missing}"
