"""``build_agent_graph``: a ReAct agent graph with the critic between model and tools.

::

    agent ──▶ critic ──Send(tools, [call]) × k──▶ tools ──▶ agent
      │          └──▶ agent (retry)   └──▶ END (halt)
      └──▶ END (no tool call)

One task per tool call
    An approved proposal with k calls runs as k ``Send`` tasks of the ``tools`` node
    (a ``ToolNode``), one call each, in the same superstep, exactly as LangChain's
    ``create_agent`` dispatches them. LangGraph stores the writes of every task that
    finished as *pending writes* of the step, so when one call raises (or the process
    dies) and the run is resumed on the same thread, only the calls that have no stored
    result run again; the ones that finished are never re-executed. (With one
    ``ToolNode`` task for the whole message, the failure of one call discarded the
    results of all, and the resume ran every call again.)

Calls already answered are skipped
    Before dispatching, every call that already has a ``ToolMessage`` after the proposal
    (the critic's error answers for malformed calls, or results kept from an earlier
    attempt) is left out; and the ``tools`` node itself answers a call whose
    ``tool_call_id`` already has a ToolMessage in the state with that message instead of
    running the tool again (for instance after a human added the result with
    ``update_state`` while the run was interrupted before ``tools``).

What LangGraph guarantees, and what it does not
    Nodes run *at least once*: a task's writes are saved when the task finishes, so a
    process killed while a tool runs, or after the tool's side effect but before its
    write reached the checkpointer, runs that one call again on resume. The critic's
    verdicts are stored per tool_call_id (``toolrm_verdicts``), so the judge is not asked
    again for a stored verdict, and a call whose result is stored never runs again; the
    one window left (a kill inside a single tool call) can only be closed by the tool
    itself: make side-effecting tools idempotent, keyed by ``runtime.tool_call_id``
    (a tool may take a ``ToolRuntime`` argument), which is stable across resumes.
    Use a durable checkpointer (``SqliteSaver``, ``PostgresSaver``) and
    ``durability="sync"`` on ``invoke``/``stream`` when crashes must not lose steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Protocol

from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langgraph.channels.untracked_value import UntrackedValue
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import Command, Send

from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.core.specs import ToolSpec
from toolrm_agent.critic._options import CriticOptions
from toolrm_agent.critic._state import VERDICTS_KEY, add_usage, critic_marker, merge_verdicts, state_get
from toolrm_agent.critic._tool_errors import ToolErrorHandling, arun_tool, check_handling, run_tool
from toolrm_agent.critic._transcript import with_unique_id
from toolrm_agent.judges.base import Judge
from toolrm_agent.naming._hints import warn_text_call

__all__ = [
    "CriticNode", "ToolRMState", "build_agent_graph", "critic_marker", "pending_tool_calls", "route_to_critic", "sends",
]


class ToolRMState(MessagesState, total=False):
    """``MessagesState`` plus the critic's keys (see :mod:`toolrm_agent.critic.node`)."""

    toolrm_verdicts: Annotated[dict[str, dict[str, Any]], merge_verdicts]
    toolrm_usage: Annotated[dict[str, int], add_usage]
    toolrm_run_usage: Annotated[dict[str, int], UntrackedValue]


class CriticNode(Protocol):
    """What :func:`build_agent_graph` uses of its critic, a
    :class:`~toolrm_agent.critic.node.ToolRMCritic`. This module sits below
    :mod:`toolrm_agent.critic.node` (which re-exports :func:`build_agent_graph`), so it names
    the critic by what it uses rather than importing it."""

    @property
    def judge(self) -> Judge: ...

    @property
    def options(self) -> CriticOptions: ...

    @property
    def proposer(self) -> Any: ...

    @property
    def tools(self) -> tuple[ToolSpec, ...] | None: ...

    @property
    def model_node(self) -> str: ...

    @property
    def tools_node(self) -> str: ...

    def override(self, **changes: Any) -> CriticNode: ...

    def __call__(self, state: Any, config: RunnableConfig) -> Command[str]: ...

    async def acall(self, state: Any, config: RunnableConfig) -> Command[str]: ...


def route_to_critic(critic_node: str = "critic") -> Callable[[Any], str]:
    """A routing function for the model node: to ``critic_node`` when the last message
    proposes tool calls (valid or malformed), else to ``END``."""

    def route(state: Any) -> str:
        messages = state_get(state, "messages", [])
        last = messages[-1] if messages else None
        if isinstance(last, AIMessage) and (last.tool_calls or last.invalid_tool_calls):
            return critic_node
        warn_text_call(last)  # a call written as text would end the run silently
        return END

    route.__name__ = f"route_to_{critic_node}"
    return route


def pending_tool_calls(
    messages: Sequence[BaseMessage], added: Sequence[BaseMessage] = ()
) -> list[dict[str, Any]]:
    """The tool calls of the last proposal that have no ``ToolMessage`` yet.

    ``messages`` is the transcript; ``added`` the messages a node is about to add (the
    critic's update: a best-of-N winner that replaces the proposal, error answers of
    malformed calls). The proposal is the first AIMessage with tool calls in ``added``,
    else the last AIMessage of ``messages``.
    """
    ai: AIMessage | None = next(
        (m for m in added if isinstance(m, AIMessage) and m.tool_calls), None
    )
    after: list[BaseMessage] = []
    if ai is None:
        for i in range(len(messages) - 1, -1, -1):
            message = messages[i]
            if isinstance(message, AIMessage):
                ai = message
                after = list(messages[i + 1 :])
                break
    if ai is None:
        return []
    answered = {m.tool_call_id for m in [*after, *added] if isinstance(m, ToolMessage)}
    return [
        {**call, "type": "tool_call"} for call in ai.tool_calls if call["id"] not in answered
    ]


def sends(tools_node: str, calls: Sequence[dict[str, Any]]) -> list[Send]:
    """One ``Send`` task of ``tools_node`` per call (the critic's partial execution uses it too)."""
    # a list holding one ToolCall: ToolNode reads the state itself (no state copy in
    # the Send packet, so nothing large lands in the checkpoint's task list)
    return [Send(tools_node, [call]) for call in calls]


def _fan_out(command: Command[str], state: Any, tools_node: str, model_node: str) -> Command[str]:
    """The critic's ``Command(goto=tools)`` as one ``Send`` per pending call."""
    if command.goto != tools_node:
        return command
    update = command.update if isinstance(command.update, dict) else {}
    added = list(update.get("messages") or [])
    calls = pending_tool_calls(state_get(state, "messages", []), added)
    goto: list[Send] | str = sends(tools_node, calls) if calls else model_node
    return Command(goto=goto, update=command.update, graph=command.graph)


def _critic_node(critic: CriticNode, name: str) -> Runnable[Any, Any]:
    """The critic as a node whose "execute" route fans out one task per call."""

    def run(state: Any, config: RunnableConfig) -> Command[str]:
        return _fan_out(critic(state, config), state, critic.tools_node, critic.model_node)

    async def arun(state: Any, config: RunnableConfig) -> Command[str]:
        command = await critic.acall(state, config)
        return _fan_out(command, state, critic.tools_node, critic.model_node)

    return RunnableLambda(run, afunc=arun, name=name)


def _answered(request: Any) -> ToolMessage | None:
    """The ToolMessage that already answers this request's tool_call_id after the last
    proposal, if any (an id reused by an earlier proposal does not count)."""
    call_id = request.tool_call.get("id")
    messages = state_get(request.state, "messages", []) if request.state is not None else []
    if isinstance(messages, Sequence):
        for message in reversed(messages):
            if isinstance(message, AIMessage):
                break
            if isinstance(message, ToolMessage) and message.tool_call_id == call_id:
                return message
    return None


def _tool_wrappers(handling: ToolErrorHandling) -> tuple[Any, Any]:
    """The ``ToolNode``'s wrappers: a call already answered is not run again; a tool that
    raises answers with an error ToolMessage (see :mod:`toolrm_agent.critic._tool_errors`)."""

    def once(request: Any, execute: Any) -> Any:
        return _answered(request) or run_tool(request, execute, handling)

    async def aonce(request: Any, execute: Any) -> Any:
        return _answered(request) or await arun_tool(request, execute, handling)

    return once, aonce


def build_agent_graph(
    model: Any,
    tools: Sequence[Any],
    critic: CriticNode | None = None,
    *,
    checkpointer: Any = None,
    system_prompt: str | None = None,
    retry_model: Any = None,
    model_node: str = "agent",
    tools_node: str = "tools",
    critic_node: str = "critic",
    check_judge: bool = False,
    handle_tool_errors: ToolErrorHandling = True,
    **compile_kwargs: Any,
) -> Any:
    """A ReAct agent graph: model → critic → ``ToolNode`` → model (compiled).

    ``model`` is a chat model (its ``bind_tools(tools)`` is the policy). Without a critic
    the model routes to the tools directly (like ``tools_condition``), which makes a
    baseline. In best-of-N mode a critic without a proposer gets one that samples the
    same bound model with the same system prompt. ``retry_model`` (for example the same
    model at temperature > 0) answers instead of ``model`` right after the critic sent a
    proposal back: a small greedy policy tends to repeat the rejected call word for word.
    ``check_judge=True`` calls the judge's ``check()`` (a server probe, or loading its
    weights) before the graph is built, so a misconfigured judge fails here rather than
    at the first call, where the fail-open policy would hide it.
    ``handle_tool_errors`` (default ``True``): a tool that raises answers its call with an
    error ``ToolMessage`` naming the exception, so the model can correct the call and the
    critic reads the error on the next turn; ``False`` lets the exception end the run
    (LangGraph's default); a callable ``(exception) -> str`` writes your own text (see
    :mod:`toolrm_agent.critic._tool_errors`).
    ``compile_kwargs`` go to ``compile()`` (e.g. ``interrupt_before=["tools"]``).

    Raises :class:`~toolrm_agent.core.errors.ConfigurationError` when ``tools`` is empty: with
    no tool, no call can run and the critic has nothing to judge calls against.

    Each approved tool call runs as its own task (see the module docstring): a resumed
    run never executes again a call whose result is stored.
    """
    from langgraph.prebuilt import ToolNode

    if not tools:
        raise ConfigurationError(
            "build_agent_graph needs at least one tool (got "
            f"{'None' if tools is None else 'an empty list'}): with none, no call can run and the "
            "critic has nothing to check a call against. For a model that only chats, call it directly."
        )
    handling = check_handling(handle_tool_errors)
    bound: Runnable[Any, Any] = model.bind_tools(list(tools))
    bound_retry: Runnable[Any, Any] = retry_model.bind_tools(list(tools)) if retry_model is not None else bound
    system = SystemMessage(content=system_prompt) if system_prompt else None

    def prompt(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
        return [system, *messages] if system is not None else list(messages)

    def policy_for(state: ToolRMState) -> Runnable[Any, Any]:
        messages = state["messages"]
        # the critic's marker counts only where its own record agrees (a tool can forge it)
        marker = critic_marker(messages[-1], state_get(state, VERDICTS_KEY, {})) if messages else None
        return bound_retry if marker is not None and marker.get("decision") == "retry" else bound

    # an answer that repeats a message id of the thread gets a fresh one, else
    # add_messages would overwrite the earlier message (and its answered tool calls)
    def agent(state: ToolRMState, config: RunnableConfig) -> dict[str, Any]:
        messages = state["messages"]
        answer = policy_for(state).invoke(prompt(messages), config)
        return {"messages": [with_unique_id(answer, messages)]}

    async def aagent(state: ToolRMState, config: RunnableConfig) -> dict[str, Any]:
        messages = state["messages"]
        answer = await policy_for(state).ainvoke(prompt(messages), config)
        return {"messages": [with_unique_id(answer, messages)]}

    builder = StateGraph(ToolRMState)
    builder.add_node(model_node, RunnableLambda(agent, afunc=aagent, name=model_node))
    once, aonce = _tool_wrappers(handling)
    builder.add_node(tools_node, ToolNode(list(tools), wrap_tool_call=once, awrap_tool_call=aonce))
    builder.add_edge(START, model_node)
    builder.add_edge(tools_node, model_node)
    if critic is None:

        def route(state: Any) -> Any:
            messages = state_get(state, "messages", [])
            calls = pending_tool_calls(messages)
            if not calls and messages:
                warn_text_call(messages[-1])
            return sends(tools_node, calls) if calls else END

        route.__name__ = f"route_to_{tools_node}"
        builder.add_conditional_edges(model_node, route, [tools_node, END])
        return builder.compile(checkpointer=checkpointer, **compile_kwargs)

    changes: dict[str, Any] = {}
    if critic.options.draws_samples and critic.proposer is None:
        changes["proposer"] = RunnableLambda(prompt, name="toolrm_prompt") | bound
    if critic.tools is None:
        changes["tools"] = list(tools)
    if critic.model_node != model_node:
        changes["model_node"] = model_node
    if critic.tools_node != tools_node:
        changes["tools_node"] = tools_node
    if changes:
        critic = critic.override(**changes)
    if check_judge:
        check = getattr(critic.judge, "check", None)
        if callable(check):
            check()
    builder.add_node(
        critic_node,
        _critic_node(critic, critic_node),
        input_schema=ToolRMState,
        destinations=(tools_node, model_node, critic_node, END),  # itself: raise, or ask a human
    )
    builder.add_conditional_edges(model_node, route_to_critic(critic_node), [critic_node, END])
    return builder.compile(checkpointer=checkpointer, **compile_kwargs)
