"""``ToolRMMiddleware``: the critic for ``langchain.agents.create_agent``.

::

    from langchain.agents import create_agent
    from toolrm_agent import SchemaJudge, ToolRMMiddleware

    agent = create_agent(model, tools, middleware=[ToolRMMiddleware(SchemaJudge(), max_retries=2)])

It makes the same decisions as :class:`~toolrm_agent.critic.node.ToolRMCritic` (one shared
engine: same modes, budgets, policies, state keys and ToolMessages; see that module's
docstring), split over two hooks:

* ``wrap_model_call`` / ``awrap_model_call`` judge the model's answer where the offered
  tools and system prompt are known. In ``best_of_n`` mode they call the model handler
  ``n`` times (only when the first answer proposes calls), rank the candidates and return
  the winner, so only the winner enters the transcript (the first answer streams as
  usual; the extra samples and the judge's calls are tagged ``TAG_NOSTREAM``). The
  verdicts go into state through ``ExtendedModelResponse.command``.
* ``after_model`` / ``aafter_model`` (``can_jump_to=["model", "end"]``) read the stored
  verdict and route: a rejection returns ``{"jump_to": "model", "messages": [error
  ToolMessage for every tool_call_id]}``, a halt returns ``{"jump_to": "end", ...}`` with
  a final AIMessage, an approval returns nothing and ``create_agent`` runs the tools. A
  message without a stored verdict (another middleware rewrote it) is judged here, against
  ``tools`` given to the middleware.
* ``after_agent`` / ``aafter_agent`` raise the
  :class:`~toolrm_agent.core.errors.BudgetExhaustedError` of ``on_budget_exhausted="raise"``:
  by then the halt has written an answer for every tool_call_id and a closing
  AIMessage, so the checkpointed thread stays a valid transcript.

The answer's AIMessage is written back repaired when needed: a message id already used
earlier in the thread gets a fresh one (else ``add_messages`` would overwrite the earlier
message and the agent could loop on a replayed verdict), and tool call ids that are
missing or repeated, or names padded with spaces, are fixed before judging (see
:mod:`toolrm_agent.critic._transcript`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, NotRequired, Unpack

from langchain.agents.middleware.types import (
    AgentMiddleware,
    AgentState,
    ExtendedModelResponse,
    ModelRequest,
    ModelResponse,
    OmitFromInput,
    PrivateStateAttr,
    hook_config,
)
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.channels.untracked_value import UntrackedValue
from langgraph.errors import GraphBubbleUp
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.runtime import Runtime
from langgraph.types import Command

from toolrm_agent.core._frozen import Frozen
from toolrm_agent.core.errors import ConfigurationError, ToolSpecError
from toolrm_agent.core.specs import ToolSpec, to_specs
from toolrm_agent.critic._engine import CriticEngine, Outcome, Step, budget_error
from toolrm_agent.critic._escalation import areview, review
from toolrm_agent.critic._options import CriticKeywords, CriticOptions, make_options
from toolrm_agent.critic._state import (
    RUN_USAGE_KEY,
    VERDICTS_KEY,
    add_usage,
    merge_verdicts,
    state_get,
)
from toolrm_agent.critic._tool_errors import ToolErrorHandling, arun_tool, check_handling, run_tool
from toolrm_agent.critic._tracing import trace_verdicts
from toolrm_agent.critic._transcript import pending_raise, with_unique_id
from toolrm_agent.judges.base import Judge, check_judge
from toolrm_agent.naming._hints import warn_text_call
from toolrm_agent.prompting._calling import acall_nostream, call_nostream, failed_sample_logged

__all__ = ["ToolRMMiddleware", "ToolRMMiddlewareState"]

logger = logging.getLogger("toolrm_agent.critic")


class ToolRMMiddlewareState(AgentState[Any]):
    """``AgentState`` plus the critic's keys (see :mod:`toolrm_agent.critic.node`)."""

    toolrm_verdicts: NotRequired[Annotated[dict[str, dict[str, Any]], OmitFromInput, merge_verdicts]]
    toolrm_usage: NotRequired[Annotated[dict[str, int], OmitFromInput, add_usage]]
    toolrm_run_usage: NotRequired[Annotated[dict[str, int], UntrackedValue, PrivateStateAttr]]


class ToolRMMiddleware(Frozen, AgentMiddleware[ToolRMMiddlewareState, Any, Any]):
    """Judge every tool call an agent proposes before ``create_agent`` runs it.

    Takes the same options as :class:`~toolrm_agent.critic.node.ToolRMCritic` (``options=``,
    or the same keyword options, :class:`~toolrm_agent.critic.node.CriticKeywords`) except
    the routing names and the proposer (best-of-N samples the agent's own model).
    ``handle_tool_errors`` (default ``True``): a tool that raises answers its call with an
    error ToolMessage, so the model corrects itself and the critic reads the error next
    turn (``False``: the exception ends the run; a callable ``(exception) -> str``: your
    text; see :mod:`toolrm_agent.critic._tool_errors`). An agent given no tools raises
    :class:`~toolrm_agent.core.errors.ConfigurationError` at its first model call.
    ``tools`` is only needed for messages judged in ``after_model`` (see the module
    docstring); they are shown to the judge as :attr:`judge_tools`, never registered
    with the agent (``AgentMiddleware.tools`` stays empty).

    Immutable like the critic: setting an attribute raises
    :class:`~toolrm_agent.core.errors.FrozenError`; :meth:`override` returns a new
    middleware with a fresh engine; :meth:`check` probes the judge at startup.
    """

    state_schema = ToolRMMiddlewareState
    tools = ()  # AgentMiddleware: the middleware registers no tools of its own

    def __init__(
        self,
        judge: Judge,
        *,
        options: CriticOptions | None = None,
        tools: Sequence[Any] | None = None,
        handle_tool_errors: ToolErrorHandling = True,
        **keywords: Unpack[CriticKeywords],
    ) -> None:
        super().__init__()
        self.handle_tool_errors = check_handling(handle_tool_errors)
        self.judge = judge
        self.options = make_options(options, **keywords)
        self.judge_tools: tuple[ToolSpec, ...] = to_specs(tools) if tools is not None else ()
        self._engine = CriticEngine(judge, self.options, self.judge_tools)

    def override(self, **changes: Any) -> ToolRMMiddleware:
        """A new middleware (with a fresh engine) with ``changes`` applied: ``judge``,
        ``tools``, ``options`` or any :class:`~toolrm_agent.critic.node.CriticOptions` /
        budget field; validated like the constructor."""
        judge = changes.pop("judge", self.judge)
        tools = changes.pop("tools", self.judge_tools)
        handling = changes.pop("handle_tool_errors", self.handle_tool_errors)
        new = changes.pop("options", None)
        base = make_options(new) if new is not None else self.options
        return ToolRMMiddleware(
            judge, tools=tools, options=base.override(**changes) if changes else base, handle_tool_errors=handling
        )

    def check(self) -> None:
        """Fail now if the judge cannot work (see :meth:`ToolRMCritic.check
        <toolrm_agent.critic.node.ToolRMCritic.check>`): raises
        :class:`~toolrm_agent.core.errors.ConfigurationError`."""
        check_judge(self.judge)

    # ------------------------------------------------------------ wrap_model_call

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResponse[Any] | ExtendedModelResponse[Any]:
        _require_tools(request)
        first = _unique_message_id(request, handler(request))
        begun = self._begin_request(request, first)
        if not isinstance(begun, Step):
            return _counted(first, begun)
        config = _current_config()
        samples = _draw(config, handler, request, self._engine.samples_wanted(begun), "best-of-N sample")
        judged = None if begun.blocked else self._engine.ask(begun, _ais(samples), config)
        k = self._engine.resamples_wanted(begun, judged)
        if k and judged is not None:  # resample: only now, below the accept band
            samples += _draw(config, handler, request, k, "resample")
            judged = self._engine.ask_more(begun, judged, _ais(samples), config)
        outcome = self._engine.finish(begun, judged)
        trace_verdicts(outcome.records, config)
        return self._respond(first, samples, outcome)

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any] | ExtendedModelResponse[Any]:
        _require_tools(request)
        first = _unique_message_id(request, await handler(request))
        begun = self._begin_request(request, first)
        if not isinstance(begun, Step):
            return _counted(first, begun)
        config = _current_config()
        samples = await _adraw(config, handler, request, self._engine.samples_wanted(begun))
        judged = None if begun.blocked else await self._engine.aask(begun, _ais(samples), config)
        k = self._engine.resamples_wanted(begun, judged)
        if k and judged is not None:  # resample: only now, below the accept band
            samples = await _adraw(config, handler, request, k)
            judged = await self._engine.aask_more(begun, judged, _ais(samples), config)
        outcome = self._engine.finish(begun, judged)
        trace_verdicts(outcome.records, config)
        return self._respond(first, samples, outcome)

    def _begin_request(
        self, request: ModelRequest[Any], response: ModelResponse[Any]
    ) -> Step | Outcome | None:
        """The proposal in ``response`` ready to judge, an :class:`Outcome` when a stored
        verdict or a spent step budget decides, or ``None`` when there is no proposal."""
        ai = _ai_of(response)
        if ai is None or not (ai.tool_calls or ai.invalid_tool_calls):
            warn_text_call(ai)  # a call written as text would end the run silently
            return None
        if response.structured_response is not None:  # a final structured answer, no tool run
            return None
        state = request.state or {}
        history = list(state_get(state, "messages", []))
        if ai.id is None:  # give it an id now, so the stored verdict matches it later
            ai.id = f"lc_run-{uuid.uuid4()}"
        context: list[BaseMessage] = [request.system_message] if request.system_message is not None else []
        context += request.messages
        begun = self._engine.begin(
            [*history, ai],
            verdicts=state_get(state, VERDICTS_KEY, {}),
            run_usage=state_get(state, RUN_USAGE_KEY, {}),
            context_messages=context,
            tools=_specs(request.tools),
        )
        return begun

    @staticmethod
    def _respond(
        first: ModelResponse[Any], samples: list[ModelResponse[Any]], outcome: Outcome
    ) -> ExtendedModelResponse[Any]:
        chosen = first if outcome.winner == 0 else samples[outcome.winner - 1]
        result = list(chosen.result)
        if outcome.proposal is not None:  # the winner or the repaired proposal, original id
            result = [outcome.proposal if isinstance(m, AIMessage) else m for m in result]
        return ExtendedModelResponse(
            model_response=ModelResponse(result=result, structured_response=chosen.structured_response),
            command=Command(update=outcome.bookkeeping()),
        )

    # ------------------------------------------------------------- wrap_tool_call

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]]
    ) -> ToolMessage | Command[Any]:
        """A tool that raises answers with an error ToolMessage (``handle_tool_errors``)."""
        result: ToolMessage | Command[Any] = run_tool(request, handler, self.handle_tool_errors)
        return result

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        result: ToolMessage | Command[Any] = await arun_tool(request, handler, self.handle_tool_errors)
        return result

    # ---------------------------------------------------------------- after_model

    @hook_config(can_jump_to=["model", "end"])
    def after_model(self, state: ToolRMMiddlewareState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        begun = self._begin_state(state)
        if isinstance(begun, Outcome):
            if begun.route == "ask" and begun.pending is not None:  # ask the human now
                begun = review(self._engine, state_get(state, "messages", []), begun.pending,
                               state_get(state, RUN_USAGE_KEY, {}), _current_config())
            return self._update(begun)
        judged = None if begun.blocked else self._engine.ask(begun, (), _current_config())
        return self._update(self._engine.finish(begun, judged))

    @hook_config(can_jump_to=["model", "end"])
    async def aafter_model(
        self, state: ToolRMMiddlewareState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        begun = self._begin_state(state)
        if isinstance(begun, Outcome):
            if begun.route == "ask" and begun.pending is not None:  # ask the human now
                begun = await areview(self._engine, state_get(state, "messages", []), begun.pending,
                                      state_get(state, RUN_USAGE_KEY, {}), _current_config())
            return self._update(begun)
        judged = None if begun.blocked else await self._engine.aask(begun, (), _current_config())
        return self._update(self._engine.finish(begun, judged))

    def _begin_state(self, state: Any) -> Step | Outcome:
        messages = state_get(state, "messages", [])
        if not messages or not isinstance(messages[-1], AIMessage):
            return Outcome(route="end", reason="no_proposal")
        return self._engine.begin(
            messages,
            verdicts=state_get(state, VERDICTS_KEY, {}),
            run_usage=state_get(state, RUN_USAGE_KEY, {}),
            count_replay=False,  # wrap_model_call counted this proposal already
        )

    # ---------------------------------------------------------------- after_agent

    def after_agent(self, state: ToolRMMiddlewareState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Raise the BudgetExhaustedError a halted run owes (``on_budget_exhausted="raise"``)."""
        self._raise_pending(state)
        return None

    async def aafter_agent(
        self, state: ToolRMMiddlewareState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        self._raise_pending(state)
        return None

    def _raise_pending(self, state: Any) -> None:
        messages = state_get(state, "messages", [])
        marker = pending_raise(messages, state_get(state, VERDICTS_KEY, {}))
        if marker is not None:
            reason = str(marker.get("reason") or "budget")
            run_usage = state_get(state, RUN_USAGE_KEY, {})
            raise budget_error(reason, self.options, run_usage, [messages[-1]])

    @staticmethod
    def _update(outcome: Outcome) -> dict[str, Any] | None:
        trace_verdicts(outcome.records, _current_config(), reused=outcome.reused)
        update = outcome.state_update()
        if outcome.route == "retry":
            update["jump_to"] = "model"
        elif outcome.route == "halt":
            update["jump_to"] = "end"
        return update or None


def _draw(
    config: RunnableConfig | None,
    handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    request: ModelRequest[Any],
    k: int,
    what: str,
) -> list[ModelResponse[Any]]:
    """``k`` more answers of the model, one after another (a failed one is left out)."""
    samples: list[ModelResponse[Any]] = []
    for _ in range(k):
        with failed_sample_logged(what):
            samples.append(call_nostream(config, handler, request))
    return samples


async def _adraw(
    config: RunnableConfig | None,
    handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    request: ModelRequest[Any],
    k: int,
) -> list[ModelResponse[Any]]:
    """``k`` more answers of the model, drawn concurrently (a failed one is left out)."""
    samples: list[ModelResponse[Any]] = []
    draws = (acall_nostream(config, handler, request) for _ in range(k))
    for result in await asyncio.gather(*draws, return_exceptions=True):
        if isinstance(result, GraphBubbleUp):
            raise result
        if isinstance(result, BaseException):
            logger.warning("best-of-N sample failed: %s", result)
        else:
            samples.append(result)
    return samples


def _require_tools(request: ModelRequest[Any]) -> None:
    """An agent given no tools can run no call, and the critic has nothing to judge one
    against: say so at the first model call instead of ending silently."""
    if not request.tools:
        raise ConfigurationError(
            "ToolRMMiddleware: the agent offers the model no tools (create_agent(model, tools=[] or None)), "
            "so no call can run and the critic has nothing to check a call against; pass your tools "
            "to create_agent, or drop the middleware for a model that only chats"
        )


def _unique_message_id(request: ModelRequest[Any], response: ModelResponse[Any]) -> ModelResponse[Any]:
    """``response`` with a fresh id on its AIMessage when that id is already used in the
    thread (see :func:`~toolrm_agent.critic._transcript.with_unique_id`)."""
    ai = _ai_of(response)
    if ai is None:
        return response
    fresh = with_unique_id(ai, state_get(request.state or {}, "messages", []))
    if fresh is ai:
        return response
    result = [fresh if m is ai else m for m in response.result]
    return ModelResponse(result=result, structured_response=response.structured_response)


def _counted(
    response: ModelResponse[Any], outcome: Outcome | None
) -> ModelResponse[Any] | ExtendedModelResponse[Any]:
    """``response`` as is, plus the bookkeeping of a decision made without the judge (a
    replayed verdict or a spent step budget), so every proposal counts as a step."""
    if outcome is None:
        return response
    return ExtendedModelResponse(model_response=response, command=Command(update=outcome.bookkeeping()))


def _ai_of(response: ModelResponse[Any]) -> AIMessage | None:
    for message in response.result:
        if isinstance(message, AIMessage):
            return message
    return None


def _ais(responses: Sequence[ModelResponse[Any]]) -> list[BaseMessage]:
    """One message per response, in order (a response without an AIMessage keeps its
    place with a placeholder, so candidate numbers still match responses)."""
    return [_ai_of(r) or AIMessage(content="") for r in responses]


def _specs(tools: Sequence[Any]) -> tuple[ToolSpec, ...]:
    """The request's tools as specs; provider built-ins that are no functions are skipped."""
    specs: list[ToolSpec] = []
    for tool in tools or ():
        try:
            specs.extend(to_specs([tool]))
        except ToolSpecError as exc:
            logger.debug("tool left out of the critic's view: %s", exc)
    return tuple(specs)


def _current_config() -> RunnableConfig | None:
    try:
        from langgraph.config import get_config

        return get_config()
    except RuntimeError:
        return None
