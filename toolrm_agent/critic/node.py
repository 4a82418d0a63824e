"""``ToolRMCritic``: a LangGraph node between an agent's model node and its ``ToolNode``.

It reads the last ``AIMessage`` of ``state["messages"]``, asks a judge about its tool
calls, and routes with a ``Command``::

    from toolrm_agent import SchemaJudge, ToolRMCritic, add_critic

    critic = ToolRMCritic(SchemaJudge(), mode="retry", max_retries=2, tools=tools)
    builder = StateGraph(ToolRMState)
    builder.add_node("agent", call_model)
    builder.add_node("tools", ToolNode(tools))
    builder.add_edge(START, "agent")
    add_critic(builder, critic)          # agent -> critic -> tools -> agent, critic -> agent
    graph = builder.compile()

or all at once: ``build_agent_graph(model, tools, critic=critic)``.

Decisions
    * accepted → ``Command(goto=tools_node)``, the message unchanged.
    * rejected, ``mode="retry"`` → nothing runs: every tool_call_id of the message (valid
      and malformed calls alike) gets a ``ToolMessage(status="error")`` with the critique
      and the call's own feedback (a good call of a rejected parallel proposal is told it
      did not run because another call was rejected), and ``Command(goto=model_node)``.
    * ``mode="best_of_n"`` → ``n - 1`` more proposals are drawn from ``proposer`` (the
      same bound chat model, or a callable), identical ones are judged once, the judge
      ranks them (pointwise scores or its own tournament) and the winner takes the
      original message's id, so ``add_messages`` replaces the proposal and only the winner
      is in the transcript. A rejected winner takes the retry path.
    * ``mode="resample"`` → the proposal is judged alone; only below the accept band are
      up to ``n - 1`` more drawn from ``proposer`` (each judged once, the first never
      again) and the best kept as in best-of-N; when none is accepted, the retry path.
    * ``bands=DecisionBands(...)`` → the score decides, per call and tool: accept (runs),
      uncertain (``on_uncertain``: retry, or resample), reject (retry), or, for a tool in
      ``bands.block``, ``halt`` with ``reason="blocked"``; see
      :class:`~toolrm_agent.critic._options.DecisionBands`.
    * ``bands=DecisionBands(on_uncertain="ask")`` → the uncertain calls go to a human:
      the verdict is stored (``decision="ask"``), the node routes to itself and LangGraph's
      ``interrupt`` asks (approve / edit / reject per call; a timeout default); see
      :mod:`toolrm_agent.critic._escalation`. Needs a checkpointer.
    * ``shadow=True`` → judged and recorded (records with ``shadow: true``, usage
      ``shadow_interventions``, the ``decision_log``), but the run goes on as if there were
      no critic: no message is written, no sample drawn.
    * A malformed call (``invalid_tool_calls``) can never run: the proposal is rejected
      whatever the judge says. If a policy lets such a proposal through, its malformed
      calls are answered with error ToolMessages and the valid ones run; with no valid
      call at all the run ends as on ``halt``.

Budgets (:class:`CriticBudget`; LangGraph's recursion limit is ~10,000, so nothing else
stops a critic loop)
    * ``max_retries`` rejections sent back per turn (messages since the last
      ``HumanMessage``), counted from the transcript;
    * ``max_critic_calls`` judge calls per run (one ``invoke``/``ainvoke``/``stream``),
      counted as the backend calls the judge really makes (re-asks, retries, both
      pairwise orders, tournament matches: seen through LangChain callbacks);
    * ``max_critic_tokens`` judge tokens per run (checked before judging);
    * ``max_critic_steps`` proposals decided per run (default 50): it bounds the agent
      loop itself, when the other budgets are spent and ``"execute"`` lets calls run.
    When one is spent, ``on_budget_exhausted`` decides: ``"execute"`` lets the proposal run
    (recorded with ``reason="budget:<name>"``; not for ``max_critic_steps``, which always
    ends the run), ``"halt"`` answers every tool_call_id with an error ToolMessage, adds
    a final ``AIMessage`` that says why, and ends the run; ``"raise"`` does the same and
    then raises :class:`~toolrm_agent.core.errors.BudgetExhaustedError` (with ``budget``,
    ``limit``, the run's ``usage``) from the next step (the node routes to itself), so
    a checkpointed thread never keeps an unanswered tool call.

Judge failures (an exception, or ``judge_timeout_s`` passed) never kill the run:
``on_judge_error="execute"`` (default, fail open), ``"reject"`` (retry path, bounded by
``max_retries``) or ``"halt"``; recorded with ``status="error"``, the error text and a
post-mortem, and billed (calls and tokens the backend reported). A judge that declares
itself fail-closed (``on_backend_error``/``on_unparseable == "fail_closed"``) is never
failed open: an exception it raises anyway is handled as ``"reject"``. A judge answer
that could not be parsed (``Critique.status == "unparseable"``) was already decided by
the judge's own policy (``fail_open`` / ``fail_closed``); the critic follows
``accepted``, unless the judge's verdict on one of the calls says ``ok=False``.

Malformed proposals
    Before judging, a proposal whose calls have no id (LangChain allows ``id=None``),
    share an id (within the message or with an earlier call of the thread) or have a
    name padded with spaces is rewritten under its message id (``add_messages`` replaces
    it): fresh ids derived from the message id, stripped names. The judge sees, the
    critic answers and the ``ToolNode`` runs exactly these calls. A model that repeats a
    *message* id cannot be fixed here (``add_messages`` has overwritten the earlier
    message before the critic runs): the model node has to give such an answer a fresh
    id, as ``build_agent_graph``'s model node and the ``create_agent`` middleware do
    (``with_unique_id``); in a hand-built graph, ``max_critic_steps`` still ends the run.

State keys (:class:`ToolRMState`; the node adds them to any graph it is added to)
    ``messages``          the transcript (``add_messages``).
    ``toolrm_verdicts``   ``{tool_call_id: record}``, merged per key. A record (a JSON
                          dict of :class:`~toolrm_agent.critic._state.VerdictRecord`):
                          ``tool_call_id, name, message_id, fingerprint, decision``
                          (``execute|retry|halt``), ``reason`` (``accepted``, ``rejected``,
                          ``judge_error``, ``budget:max_retries|max_critic_calls|
                          max_critic_tokens``, ``uncertain``, ``blocked``), ``accepted, ok,
                          score, judge, status, critique, codes, message, final_message,
                          mode, candidates, attempt, error, post_mortem`` (``judge,
                          attempts, errors, input_tokens, output_tokens, seconds``),
                          ``raise_after``, ``band`` (the proposal's) and ``call_band``
                          (the call's own), ``call_hash`` (name + canonical arguments),
                          ``critic`` and ``critic_version``, ``asked_at`` and ``human``
                          (an escalation), ``shadow``.
                          When every tool_call_id of the message already has a record for
                          this very proposal (same fingerprint, same call hash, same critic
                          and version, same shadow flag), the critic replays it without
                          calling the judge: a resumed run neither re-judges nor re-bills,
                          and an edited call or a newer critic judges again.
    ``toolrm_usage``      counters summed over the thread: ``critic_calls, input_tokens,
                          output_tokens, proposals_judged, retries, samples, replaced,
                          judge_errors, budget_exhausted, halts, critic_steps, repaired,
                          resampled, blocked, shadow_interventions, escalations``.
    ``toolrm_run_usage``  the same counters for the current run only (never checkpointed);
                          the per-run budgets are checked against it.
    Every ToolMessage the critic writes has ``artifact={"toolrm": {"decision", "reason"}}``.

Streaming: the judge's own model calls run under the critic's config with LangGraph's
``TAG_NOSTREAM`` added, so ``stream_mode="messages"`` never shows their tokens; so do the
best-of-N samples.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, TypeVar, Unpack

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langgraph.graph import END, StateGraph
from langgraph.types import Command

from toolrm_agent.core._frozen import Frozen
from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.core.specs import ToolSpec, to_specs
from toolrm_agent.critic._engine import CriticEngine, Outcome, Step, budget_error
from toolrm_agent.critic._escalation import areview, review
from toolrm_agent.critic._options import (
    CriticBudget,
    CriticKeywords,
    CriticOptions,
    DecisionBands,
    Mode,
    make_options,
    proposal_band,
)
from toolrm_agent.critic._state import (
    RUN_USAGE_KEY,
    USAGE_KEYS,
    VERDICTS_KEY,
    VerdictRecord,
    state_get,
)
from toolrm_agent.critic._tracing import trace_verdicts
from toolrm_agent.critic._transcript import pending_raise
from toolrm_agent.critic.graph import ToolRMState, build_agent_graph, pending_tool_calls, route_to_critic, sends
from toolrm_agent.judges.base import Judge, check_judge
from toolrm_agent.prompting._calling import acall_nostream, call_nostream, failed_sample_logged, nostream_config

__all__ = [
    "USAGE_KEYS",
    "CriticBudget",
    "CriticKeywords",
    "CriticOptions",
    "DecisionBands",
    "Mode",
    "Proposer",
    "ToolRMCritic",
    "ToolRMState",
    "VerdictRecord",
    "add_critic",
    "build_agent_graph",
    "proposal_band",
    "route_to_critic",
]

logger = logging.getLogger("toolrm_agent.critic")

Proposer: TypeAlias = Runnable[Any, Any] | Callable[[list[BaseMessage], int], Any]
"""Where best-of-N draws extra candidates: a Runnable (the agent's chat model with its
tools bound; called with ``batch``/``abatch``) or a callable ``(messages, k) -> list of
AIMessage`` (an async function works in ``ainvoke``)."""

GraphT = TypeVar("GraphT", bound="StateGraph[Any, Any, Any, Any]")
"""Any ``StateGraph``: :func:`add_critic` returns the builder it was given."""


class ToolRMCritic(Frozen):
    """A LangGraph node that judges each proposed tool call before it runs.

    Args:
        judge: any :class:`~toolrm_agent.judges.base.Judge` (schema, generative, cascade).
        options: a :class:`CriticOptions` (mode, n, budget, policies, timeouts); the
            keyword options below are applied on top of it.
        proposer: where best-of-N draws its extra candidates (see :data:`Proposer`).
        tools: the tools the agent was offered (LangChain tools, OpenAI dicts, BFCL docs
            or ToolSpecs), shown to the judge. :func:`add_critic` fills them in from the
            ``ToolNode`` when left out.
        model_node, tools_node: where the critic routes (names of graph nodes).
        **keywords: any field of :class:`CriticOptions` or :class:`CriticBudget`
            (:class:`CriticKeywords`: ``mode``, ``n``, ``max_retries``, ``budget``,
            ``on_budget_exhausted``, ``on_judge_error``, ``judge_timeout_s``, ...); an
            unknown one raises :class:`~toolrm_agent.core.errors.ConfigurationTypeError`.

    Immutable: setting an attribute raises :class:`~toolrm_agent.core.errors.FrozenError`
    (so it can never drift from its engine); :meth:`override` returns a new critic with
    a fresh engine. :meth:`check` probes the judge's backend at startup.

    The object is the node: ``builder.add_node("critic", critic)`` works in ``invoke``
    and ``ainvoke`` (there its sync path runs in a worker thread). ``critic.as_node()``
    (what :func:`add_critic` uses) gives a node with a native async path too.
    """

    def __init__(
        self,
        judge: Judge,
        *,
        options: CriticOptions | None = None,
        proposer: Proposer | None = None,
        tools: Sequence[Any] | None = None,
        model_node: str = "agent",
        tools_node: str = "tools",
        **keywords: Unpack[CriticKeywords],
    ) -> None:
        self.judge = judge
        self.options = make_options(options, **keywords)
        self.proposer = proposer
        self.tools: tuple[ToolSpec, ...] | None = to_specs(tools) if tools is not None else None
        self.model_node = model_node
        self.tools_node = tools_node
        self._engine = CriticEngine(judge, self.options, self.tools or ())

    def __repr__(self) -> str:
        return (
            f"ToolRMCritic(judge={getattr(self.judge, 'name', self.judge)!r}, "
            f"options={self.options!r}, model_node={self.model_node!r}, tools_node={self.tools_node!r})"
        )

    # --------------------------------------------------------------------- copies

    def override(self, **changes: Any) -> ToolRMCritic:
        """A new critic (with a fresh engine) with ``changes`` applied: ``judge``,
        ``proposer``, ``tools``, ``model_node``, ``tools_node``, ``options``, or any
        :class:`CriticOptions` / budget field; validated like the constructor."""
        own = {k: changes.pop(k) for k in _CRITIC_OWN if k in changes}
        return ToolRMCritic(
            own.get("judge", self.judge),
            options=_overridden(self.options, own.pop("options", None), changes),
            proposer=own.get("proposer", self.proposer),
            tools=own.get("tools", self.tools),
            model_node=own.get("model_node", self.model_node),
            tools_node=own.get("tools_node", self.tools_node),
        )

    def check(self) -> None:
        """Fail now if the judge cannot work: runs the judge's own ``check()`` where it
        has one (a generative judge probes its server, a cascade checks each stage).
        Call it at startup; raises :class:`~toolrm_agent.core.errors.ConfigurationError`
        (the judge's error as its ``__cause__``), where a fail-open policy would
        otherwise hide a dead backend behind approved calls."""
        check_judge(self.judge)

    def as_node(self, name: str = "critic") -> Runnable[Any, Any]:
        """The critic as a node with both a sync and a native async path."""
        return RunnableLambda(self.__call__, afunc=self.acall, name=name)

    # ---------------------------------------------------------------------- the node

    def __call__(self, state: ToolRMState, config: RunnableConfig) -> Command[str]:
        """Judge the last AIMessage and route (sync)."""
        begun = self._begin(state)
        if isinstance(begun, Outcome):
            if begun.route == "ask" and begun.pending is not None:  # ask the human now
                begun = review(self._engine, state_get(state, "messages", []), begun.pending,
                               begun.run_usage, config)
            return self._command(begun, config, state)
        samples = self._sample(begun, config)
        judged = None if begun.blocked else self._engine.ask(begun, samples, config)
        k = self._engine.resamples_wanted(begun, judged)
        if k and judged is not None:  # resample: only now, below the accept band
            judged = self._engine.ask_more(begun, judged, self._sample(begun, config, k), config)
        return self._command(self._engine.finish(begun, judged), config, state)

    async def acall(self, state: ToolRMState, config: RunnableConfig) -> Command[str]:
        """Judge the last AIMessage and route (async twin of ``__call__``)."""
        begun = self._begin(state)
        if isinstance(begun, Outcome):
            if begun.route == "ask" and begun.pending is not None:  # ask the human now
                begun = await areview(self._engine, state_get(state, "messages", []), begun.pending,
                                      begun.run_usage, config)
            return self._command(begun, config, state)
        samples = await self._asample(begun, config)
        judged = None if begun.blocked else await self._engine.aask(begun, samples, config)
        k = self._engine.resamples_wanted(begun, judged)
        if k and judged is not None:  # resample: only now, below the accept band
            judged = await self._engine.aask_more(begun, judged, await self._asample(begun, config, k), config)
        return self._command(self._engine.finish(begun, judged), config, state)

    ainvoke = acall

    def _begin(self, state: Any) -> Step | Outcome:
        messages = state_get(state, "messages", [])
        run_usage = state_get(state, RUN_USAGE_KEY, {})
        raise_pending(messages, run_usage, self.options, state_get(state, VERDICTS_KEY, {}))
        return self._engine.begin(
            messages,
            verdicts=state_get(state, VERDICTS_KEY, {}),
            run_usage=run_usage,
        )

    def _command(self, outcome: Outcome, config: RunnableConfig | None = None, state: Any = None) -> Command[str]:
        """The routing ``Command``. With ``on_budget_exhausted="raise"`` the answers are
        written first and the node routes to itself, where :func:`raise_pending` raises:
        the checkpoint keeps a transcript in which every call is answered."""
        trace_verdicts(outcome.records, config, reused=outcome.reused)
        if outcome.raise_error is not None:
            node = ((config or {}).get("metadata") or {}).get("langgraph_node")
            if not isinstance(node, str) or not node:  # called by hand: nothing to keep consistent
                raise outcome.raise_error
            return Command(goto=node, update=outcome.state_update())
        if outcome.route == "ask":  # the verdict goes into state first; the human is asked next step
            node = ((config or {}).get("metadata") or {}).get("langgraph_node")
            if not isinstance(node, str) or not node:
                raise ConfigurationError(
                    "on_uncertain='ask' escalates through LangGraph's interrupt: run the critic as a "
                    "graph node (with a checkpointer)"
                )
            return Command(goto=node, update=outcome.state_update())
        if outcome.route == "execute" and outcome.partial:  # only the calls nobody rejected run
            calls = pending_tool_calls(state_get(state or {}, "messages", []), outcome.messages)
            if calls:
                return Command(goto=sends(self.tools_node, calls), update=outcome.state_update())
        goto = {
            "execute": self.tools_node,
            "retry": self.model_node,
            "halt": END,
            "end": END,
        }[outcome.route]
        return Command(goto=goto, update=outcome.state_update())

    # ------------------------------------------------------------------- sampling

    def _sample(self, step: Step, config: RunnableConfig | None, k: int | None = None) -> list[BaseMessage]:
        k = self._engine.samples_wanted(step) if k is None else k
        if k <= 0 or self.proposer is None:
            return []
        with failed_sample_logged("best-of-N proposer"):
            if isinstance(self.proposer, Runnable):
                inputs = [list(step.before)] * k
                return _messages(self.proposer.batch(inputs, config=nostream_config(config), return_exceptions=True))
            return _messages(call_nostream(config, self.proposer, list(step.before), k))
        return []

    async def _asample(self, step: Step, config: RunnableConfig | None, k: int | None = None) -> list[BaseMessage]:
        k = self._engine.samples_wanted(step) if k is None else k
        if k <= 0 or self.proposer is None:
            return []
        before = list(step.before)
        with failed_sample_logged("best-of-N proposer"):
            if isinstance(self.proposer, Runnable):
                outputs = await self.proposer.abatch(
                    [before] * k, config=nostream_config(config), return_exceptions=True
                )
            elif inspect.iscoroutinefunction(self.proposer):
                outputs = await acall_nostream(config, self.proposer, before, k)
            else:
                outputs = await asyncio.to_thread(call_nostream, config, self.proposer, before, k)
            return _messages(outputs)
        return []


_CRITIC_OWN = ("judge", "proposer", "tools", "model_node", "tools_node", "options")


def _overridden(
    options: CriticOptions, new: CriticOptions | None, changes: dict[str, Any]
) -> CriticOptions:
    """What an adapter's ``override`` builds its options from: ``new`` (or the current
    options) with the option ``changes`` applied (``None`` included: ``max_critic_calls=None``
    lifts that budget); an unknown name raises."""
    base = make_options(new) if new is not None else options
    return base.override(**changes) if changes else base


def raise_pending(
    messages: Sequence[BaseMessage],
    run_usage: dict[str, int] | None,
    options: CriticOptions,
    verdicts: Any = None,
) -> None:
    """Raise the :class:`~toolrm_agent.core.errors.BudgetExhaustedError` a halted run still
    owes (its closing AIMessage, written by the critic, says ``raise``, and the critic's
    own records in ``verdicts`` agree); else nothing."""
    marker = pending_raise(messages, verdicts)
    if marker is not None:
        reason = str(marker.get("reason") or "budget")
        raise budget_error(reason, options, run_usage or {}, [messages[-1]])


def _messages(outputs: Any) -> list[BaseMessage]:
    out: list[BaseMessage] = []
    for item in outputs or ():
        if isinstance(item, AIMessage):
            out.append(item)
        elif isinstance(item, Exception):
            logger.warning("best-of-N sample failed: %s", item)
    return out


# --------------------------------------------------------------------------- wiring


def add_critic(
    builder: GraphT,
    critic: ToolRMCritic,
    *,
    model_node: str = "agent",
    tools_node: str = "tools",
    critic_node: str = "critic",
) -> GraphT:
    """Put ``critic`` between ``model_node`` and ``tools_node`` of ``builder``.

    Adds the critic node (with the ``toolrm_*`` state keys), the edge model → critic when
    the model proposes calls (else → END), and tools → model if the tools node has no
    outgoing edge yet. The model node must not be wired to the tools already (no
    ``tools_condition``): every call has to pass the critic. When the critic has no
    ``tools``, they are taken from the ``ToolNode``. Returns ``builder``.
    """
    for name in (model_node, tools_node):
        if name not in builder.nodes:
            raise ConfigurationError(f"add_critic: the graph has no node {name!r}; add it first")
    if critic_node in builder.nodes:
        raise ConfigurationError(f"add_critic: the graph already has a node {critic_node!r}")
    if any(start == model_node for start, _ in builder.edges) or builder.branches.get(model_node):
        raise ConfigurationError(
            f"add_critic: node {model_node!r} already has outgoing edges; remove them (e.g. "
            "tools_condition) so that every proposed call passes through the critic"
        )
    if critic.options.draws_samples and critic.proposer is None:
        raise ConfigurationError(
            f"add_critic: a {critic.options.mode} critic needs a proposer to draw samples from (the "
            "agent's chat model with its tools bound); build_agent_graph sets one for you"
        )
    changes: dict[str, Any] = {}
    if critic.model_node != model_node:
        changes["model_node"] = model_node
    if critic.tools_node != tools_node:
        changes["tools_node"] = tools_node
    if critic.tools is None:
        tools_by_name = getattr(builder.nodes[tools_node].runnable, "tools_by_name", None)
        if tools_by_name:
            changes["tools"] = list(tools_by_name.values())
    if changes:
        critic = critic.override(**changes)
    builder.add_node(
        critic_node,
        critic.as_node(critic_node),
        input_schema=ToolRMState,
        destinations=(tools_node, model_node, critic_node, END),  # itself: raise after a halt
    )
    builder.add_conditional_edges(model_node, route_to_critic(critic_node), [critic_node, END])
    if not any(start == tools_node for start, _ in builder.edges) and not builder.branches.get(tools_node):
        builder.add_edge(tools_node, model_node)
    return builder

