"""Any LangChain chat model as a judge: pointwise critiques, pairwise choices, tournaments.

:class:`GenerativeJudge` prompts a chat model (a vLLM or other OpenAI-compatible server
through ``langchain-openai``, a local transformers model, a ToolRM-Gen checkpoint) with
the templates of :mod:`toolrm_agent.judges.generative.templates` and parses its answers
(:mod:`toolrm_agent.judges.generative.answers`)::

    from langchain_openai import ChatOpenAI
    judge = GenerativeJudge(
        ChatOpenAI(model="RioLee/ToolRM-Qwen3-4B-Thinking-2507", base_url="http://127.0.0.1:8000/v1",
                   api_key="-"),
        thinking=True,
    )
    judge.compare(context, a, b).choice     # 1 or 2, asked in both orders

What every backend call gets
    * the config ``{"tags": [TAG_NOSTREAM, "toolrm:critic"], "run_name": "toolrm_critic"}``,
      so LangGraph's ``stream_mode="messages"`` never streams the critic's tokens to the
      user, and traces show the critic's calls under one name;
    * ``chat_template_kwargs={"enable_thinking": thinking}`` for Qwen3-style servers (see
      ``thinking_via``), plus any ``model_kwargs``;
    * a per-attempt timeout (``timeout_s``) and bounded tenacity retries
      (at most ``max_attempts`` attempts, exponential back-off from ``backoff_s``) on any
      exception the backend raises or on a timeout. A sync call that times out is left
      running in a daemon thread (Python cannot kill a thread); its answer is dropped.

Unparseable answers
    An answer the parsers cannot read is asked again once, with the unreadable answer and
    a short reminder of the format appended to the conversation; that re-ask counts
    against ``max_attempts``. Token usage is summed over every attempt.

Failure policy (``on_unparseable``, and ``on_backend_error`` which defaults to it)
    ``"fail_open"``   accept: ``accepted=True``, ``status`` ``"unparseable"`` or
                      ``"backend_error"``, a *warning* issue ``judge_unparseable`` /
                      ``judge_error`` on every call. The agent is not blocked by a broken
                      critic; the proposal still has to pass any other judge.
    ``"fail_closed"`` reject: ``accepted=False`` with a critique that says the critic
                      could not decide, and an *error* issue with the same codes.
    ``"raise"``       raise :class:`~toolrm_agent.core.errors.JudgeParseError` or
                      :class:`~toolrm_agent.core.errors.JudgeBackendError`, whose
                      ``post_mortem`` holds the attempts, last output, errors, tokens and
                      seconds.
    A verdict filled in by the policy has the neutral score 0.5: it never outranks a real
    acceptance nor sinks below a real rejection. For ``compare`` the policy only matters
    when no order produced a choice: ``"raise"`` raises, the others give ``choice=None``.

Pairwise in both orders (``both_orders=True``)
    ``compare(a, b)`` asks (a, b) and (b, a) (concurrently in ``acompare``) and maps the
    second answer back to the (a, b) numbering. ``votes`` holds both, ``consistent`` is
    whether they agree. If they agree, that is the choice; if they disagree the judge is
    following position, not content, and ``choice`` is ``None``; if one order could not
    be parsed (or failed), the other decides, ``consistent`` is ``None`` and ``status``
    reports the failure. Two proposals that render the same are a tie (``choice=None``,
    ``consistent=True``) without any model call.

Ranking (``rank_strategy``)
    ``"tournament"``: proposals that render the same are judged once. Up to 4 distinct
    proposals play a round robin (every pair compared, a win counts 1, an undecided pair
    0.5 each; score = wins / (distinct - 1)); more play a knockout in input order (pairs
    (0, 1), (2, 3), ...; an odd one out gets a bye; an undecided match sends the earlier
    proposal on, so an undecided critic keeps the agent's first proposal; score = rounds
    won / rounds played by the champion). Order is by score, then input order.
    ``"pointwise"``: one critique per proposal, ranked by score (:class:`BaseJudge`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.constants import TAG_NOSTREAM
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.errors import (
    ConfigurationError,
    JudgeBackendError,
    JudgeParseError,
    JudgePostMortem,
)
from toolrm_agent.core.verdicts import (
    CallVerdict,
    Critique,
    Issue,
    IssueCode,
    JudgeStatus,
    Preference,
    Ranking,
    TokenUsage,
)
from toolrm_agent.judges.base import BaseJudge, JudgeCapabilities
from toolrm_agent.judges.generative.answers import Choice, ParsedVerdict, parse_choice, parse_verdict
from toolrm_agent.judges.generative.template_file import resolve_templates
from toolrm_agent.judges.generative.templates import (
    DEFAULT_TEMPLATES,
    JudgeTemplates,
    pairwise_messages,
    pointwise_messages,
)
from toolrm_agent.prompting._calling import run_with_deadline
from toolrm_agent.prompting.prompt_text import DEFAULT_PROMPT_BUDGET, PromptBudget, cap_critique

FailurePolicy = Literal["fail_open", "fail_closed", "raise"]
RankStrategy = Literal["tournament", "pointwise"]
ThinkingVia = Literal["auto", "extra_body", "kwargs", "none"]

CRITIC_TAG = "toolrm:critic"
"""Tag on every judge model call (next to LangGraph's ``TAG_NOSTREAM``)."""
CRITIC_RUN_NAME = "toolrm_critic"
ROUND_ROBIN_MAX = 4
"""Up to this many distinct proposals, ``rank`` plays a round robin; above, a knockout."""
POLICY_SCORE = 0.5
"""The score of a verdict filled in by the failure policy."""

_POLICIES = ("fail_open", "fail_closed", "raise")
_EMPTY_CRITIQUES = {"", "none", "n/a", "na", "nothing", "-", "empty", "nothing to fix", "no issues"}

T = TypeVar("T")


class _BackendFailure(Exception):
    """The model call raised or timed out (wraps the cause)."""


class _Unparseable(Exception):
    """The model answered, but the answer could not be parsed; ask once more."""


@dataclass
class _Outcome(Generic[T]):
    """One judged prompt after all attempts: the parsed value or why there is none."""

    value: T | None = None
    status: JudgeStatus = "ok"
    text: str | None = None
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    usage: TokenUsage = TokenUsage()
    seconds: float = 0.0
    reask: list[BaseMessage] | None = None
    """The prompt of the one re-ask after an unparseable answer (set when it is due)."""

    def post_mortem(self, judge: str) -> JudgePostMortem:
        return JudgePostMortem(
            judge=judge,
            attempts=self.attempts,
            last_output=self.text,
            errors=list(self.errors),
            input_tokens=self.usage.input_tokens,
            output_tokens=self.usage.output_tokens,
            seconds=self.seconds,
        )


class GenerativeJudge(BaseJudge):
    """A chat model prompted to judge tool calls (see the module docstring for details).

    Args:
        model: any LangChain chat model (or a runnable returning an ``AIMessage``).
        thinking: use the thinking templates and ask the server to think
            (``enable_thinking``); reasoning inside ``<think>`` is ignored by the parsers.
        both_orders: ask pairwise questions in both orders to cancel position bias.
        on_unparseable: ``"fail_open"``, ``"fail_closed"`` or ``"raise"``.
        on_backend_error: the same choices for backend failures; defaults to
            ``on_unparseable``.
        max_attempts: attempts per prompt, the first included (backend errors and the one
            re-ask of an unparseable answer share them); 1 disables retries.
        timeout_s: seconds per attempt; ``None`` for no timeout.
        backoff_s: first wait before retrying a backend error, doubled per attempt (max 30 s).
        rank_strategy: ``"tournament"`` (pairwise) or ``"pointwise"`` (critique scores).
        name: the judge's name in verdicts; default ``gen:<model name>``.
        templates: the prompt templates and answer tags
            (:data:`toolrm_agent.judges.generative.templates.DEFAULT_TEMPLATES`), or the path of a TOML template
            file (:mod:`toolrm_agent.judges.generative.template_file`; ``templates=<path>`` in a spec),
            read and checked here: a checkpoint's own prompt format, its answers read with
            its own tags.
        thinking_via: how ``enable_thinking`` reaches the model: ``"extra_body"``
            (``ChatOpenAI``: ``extra_body={"chat_template_kwargs": {...}}``, merged with the
            model's own ``extra_body``), ``"kwargs"`` (a ``chat_template_kwargs=`` call
            keyword, for local models whose ``_generate`` takes it), ``"none"``, or
            ``"auto"`` (``extra_body`` for a ``ChatOpenAI`` pointed at a ``base_url`` other
            than api.openai.com, ``kwargs`` if the model declares ``chat_template_kwargs``,
            otherwise nothing).
        model_kwargs: extra keywords for every model call (e.g. ``{"max_tokens": 1024}``).
        prompt_budget: how much untrusted text (tools, conversation, proposals) one prompt holds
            and what is cut first (:class:`~toolrm_agent.prompting.prompt_text.PromptBudget`); all of it
            is neutralised so it cannot add sections or answer tags to the prompt.

    Immutable once built: ``judge.override(thinking=True)`` returns a new judge.
    """

    def __init__(
        self,
        model: Any,
        *,
        thinking: bool = False,
        both_orders: bool = True,
        on_unparseable: FailurePolicy = "fail_open",
        on_backend_error: FailurePolicy | None = None,
        max_attempts: int = 3,
        timeout_s: float | None = 60.0,
        backoff_s: float = 0.5,
        rank_strategy: RankStrategy = "tournament",
        name: str | None = None,
        templates: JudgeTemplates | str | os.PathLike[str] = DEFAULT_TEMPLATES,
        thinking_via: ThinkingVia = "auto",
        model_kwargs: dict[str, Any] | None = None,
        prompt_budget: PromptBudget = DEFAULT_PROMPT_BUDGET,
    ) -> None:
        if on_unparseable not in _POLICIES:
            raise ConfigurationError(f"on_unparseable must be one of {_POLICIES}, not {on_unparseable!r}")
        if on_backend_error is not None and on_backend_error not in _POLICIES:
            raise ConfigurationError(
                f"on_backend_error must be one of {_POLICIES}, not {on_backend_error!r}"
            )
        if rank_strategy not in ("tournament", "pointwise"):
            raise ConfigurationError(
                f"rank_strategy must be 'tournament' or 'pointwise', not {rank_strategy!r}"
            )
        if thinking_via not in ("auto", "extra_body", "kwargs", "none"):
            raise ConfigurationError(
                f"thinking_via must be auto, extra_body, kwargs or none, not {thinking_via!r}"
            )
        if max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be >= 1, not {max_attempts}")
        if timeout_s is not None and timeout_s <= 0:
            raise ConfigurationError(f"timeout_s must be positive or None, not {timeout_s}")
        self.model = model
        self.thinking = thinking
        self.both_orders = both_orders
        self.on_unparseable: FailurePolicy = on_unparseable
        self.on_backend_error: FailurePolicy = on_backend_error or on_unparseable
        self.max_attempts = max_attempts
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self.rank_strategy: RankStrategy = rank_strategy
        self.templates = resolve_templates(templates)
        self.thinking_via: ThinkingVia = thinking_via
        self.model_kwargs = dict(model_kwargs or {})
        self.prompt_budget = prompt_budget
        self.name = name or f"gen:{_model_name(model)}"

    # a property (it depends on rank_strategy) over BaseJudge's class-attribute default, the
    # pattern BaseJudge documents; mypy reports any property over a writable attribute
    @property
    def capabilities(self) -> JudgeCapabilities:  # type: ignore[override]
        """Pairwise with its own tournament ``rank`` (``rank_strategy="tournament"``) or
        pointwise (``"pointwise"``: rankings and benchmarks use its critique scores);
        async-native either way."""
        tournament = self.rank_strategy == "tournament"
        return JudgeCapabilities(pairwise=tournament, native_rank=tournament, async_native=True)

    def __repr__(self) -> str:
        return (
            f"GenerativeJudge(name={self.name!r}, thinking={self.thinking}, "
            f"both_orders={self.both_orders}, on_unparseable={self.on_unparseable!r}, "
            f"rank_strategy={self.rank_strategy!r})"
        )

    # -- startup check -------------------------------------------------------------------

    def check(self, timeout_s: float = 5.0) -> None:
        """Fail now, not at the first call (where ``fail_open`` would hide it), if the
        backend cannot answer.

        * a model with its own ``check()`` is asked to check itself;
        * a model that talks to a server (``ChatOpenAI``, or a wrapper whose ``inner``
          or ``bound`` model does) gets ``GET <base_url>/models``: no connection, a
          timeout, or a 404 (no OpenAI-compatible API there: does ``base_url`` end in
          ``/v1``?) raise :class:`~toolrm_agent.core.errors.JudgeBackendError`; any other HTTP
          answer (401, 403, ...) proves the server is up;
        * a :class:`~toolrm_agent.models.LocalChatModel` loads its weights (a missing
          model raises :class:`~toolrm_agent.core.errors.ModelProvisioningError`).
        """
        own = getattr(self.model, "check", None)
        if callable(own):
            own()
            return
        server = _server_of(self.model)
        if server is not None:
            _probe_server(self.name, *server, timeout_s=timeout_s)
            return
        from toolrm_agent.models.local_chat import LocalChatModel

        if isinstance(self.model, LocalChatModel):
            self.model.load()

    # -- what every model call carries ---------------------------------------------------

    @property
    def call_config(self) -> dict[str, Any]:
        """The runnable config of every judge call: never streamed, named, tagged."""
        return {
            "tags": [TAG_NOSTREAM, CRITIC_TAG],
            "run_name": CRITIC_RUN_NAME,
            "metadata": {"toolrm_judge": self.name},
        }

    def call_kwargs(self) -> dict[str, Any]:
        """The keywords of every judge call: the thinking switch and ``model_kwargs``."""
        via = self.thinking_via if self.thinking_via != "auto" else _detect_thinking_via(self.model)
        switch = {"enable_thinking": self.thinking}
        kwargs: dict[str, Any] = {}
        if via == "extra_body":
            body = dict(_existing_extra_body(self.model))
            body["chat_template_kwargs"] = {**(body.get("chat_template_kwargs") or {}), **switch}
            kwargs["extra_body"] = body
        elif via == "kwargs":
            kwargs["chat_template_kwargs"] = switch
        kwargs.update(self.model_kwargs)
        return kwargs

    # -- pointwise -------------------------------------------------------------------------

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        """Ask for a verdict and a critique of ``proposal``."""
        messages = pointwise_messages(
            context, proposal, thinking=self.thinking, templates=self.templates, prompt_budget=self.prompt_budget
        )
        outcome = self._ask(messages, self._parse_verdict, self.templates.pointwise_reminder)
        return self._critique_from(outcome, proposal)

    async def acritique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        messages = pointwise_messages(
            context, proposal, thinking=self.thinking, templates=self.templates, prompt_budget=self.prompt_budget
        )
        outcome = await self._aask(messages, self._parse_verdict, self.templates.pointwise_reminder)
        return self._critique_from(outcome, proposal)

    def _parse_verdict(self, text: str) -> ParsedVerdict | None:
        """The verdict, read with the templates' answer tags; ``None`` without one."""
        verdict = parse_verdict(text, tags=self.templates.tags)
        return verdict if verdict.accepted is not None else None

    def _parse_choice(self, text: str) -> Choice | None:
        """The choice, read with the templates' answer tags."""
        return parse_choice(text, tags=self.templates.tags)

    # -- pairwise --------------------------------------------------------------------------

    def compare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        """Which of ``a`` (1) and ``b`` (2) is better; both orders unless ``both_orders=False``."""
        start = time.perf_counter()
        if a.render() == b.render():
            return self._tie(start)
        outcomes: list[_Outcome[Choice]] = [
            self._ask(messages, self._parse_choice, self.templates.pairwise_reminder)
            for messages in self._pairwise_prompts(context, a, b)
        ]
        return self._preference_from(outcomes, time.perf_counter() - start)

    async def acompare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        start = time.perf_counter()
        if a.render() == b.render():
            return self._tie(start)
        asks: list[Awaitable[_Outcome[Choice]]] = [
            self._aask(messages, self._parse_choice, self.templates.pairwise_reminder)
            for messages in self._pairwise_prompts(context, a, b)
        ]
        outcomes = await asyncio.gather(*asks)
        return self._preference_from(list(outcomes), time.perf_counter() - start)

    def _pairwise_prompts(
        self, context: JudgeContext, a: Proposal, b: Proposal
    ) -> list[list[BaseMessage]]:
        orders = [(a, b), (b, a)] if self.both_orders else [(a, b)]
        return [
            pairwise_messages(
                context,
                first,
                second,
                thinking=self.thinking,
                templates=self.templates,
                prompt_budget=self.prompt_budget,
            )
            for first, second in orders
        ]

    # -- listwise --------------------------------------------------------------------------

    def rank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        """Best first; a pairwise tournament or pointwise scores (``rank_strategy``)."""
        if self.rank_strategy == "pointwise":
            return super().rank(context, proposals)
        start = time.perf_counter()
        tournament = _Tournament(list(proposals))
        while (matches := tournament.next_matches()) is not None:
            tournament.record(
                [self.compare(context, proposals[i], proposals[j]) for i, j in matches]
            )
        return tournament.ranking(self.name, time.perf_counter() - start)

    async def arank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        if self.rank_strategy == "pointwise":
            return await super().arank(context, proposals)
        start = time.perf_counter()
        tournament = _Tournament(list(proposals))
        while (matches := tournament.next_matches()) is not None:
            prefs = await asyncio.gather(
                *(self.acompare(context, proposals[i], proposals[j]) for i, j in matches)
            )
            tournament.record(list(prefs))
        return tournament.ranking(self.name, time.perf_counter() - start)

    # -- one prompt, with retries ----------------------------------------------------------

    def _retrying_kwargs(self) -> dict[str, Any]:
        return {
            "stop": stop_after_attempt(self.max_attempts),
            "retry": retry_if_exception_type((_BackendFailure, _Unparseable)),
            "wait": self._wait,
            "reraise": True,
        }

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is None or isinstance(outcome.exception(), _Unparseable) or self.backoff_s <= 0:
            return 0.0
        return min(30.0, self.backoff_s * 2.0 ** (state.attempt_number - 1))

    def _ask(
        self, messages: list[BaseMessage], parse: Callable[[str], T | None], reminder: str
    ) -> _Outcome[T]:
        out: _Outcome[T] = _Outcome()
        with _settled(out):
            for attempt in Retrying(**self._retrying_kwargs()):
                with attempt:
                    out.attempts += 1
                    reply = self._invoke(out.reask or messages, out)
                    self._after_reply(messages, reply, parse, reminder, out)
        return out

    async def _aask(
        self, messages: list[BaseMessage], parse: Callable[[str], T | None], reminder: str
    ) -> _Outcome[T]:
        out: _Outcome[T] = _Outcome()
        with _settled(out):
            async for attempt in AsyncRetrying(**self._retrying_kwargs()):
                with attempt:
                    out.attempts += 1
                    reply = await self._ainvoke(out.reask or messages, out)
                    self._after_reply(messages, reply, parse, reminder, out)
        return out

    def _after_reply(
        self,
        messages: list[BaseMessage],
        reply: str,
        parse: Callable[[str], T | None],
        reminder: str,
        out: _Outcome[T],
    ) -> None:
        """Parse ``reply``; on failure raise :class:`_Unparseable` once (a re-ask), then stop."""
        value = parse(reply)
        if value is not None:
            out.value, out.status = value, "ok"
            return
        out.errors.append(f"attempt {out.attempts}: unparseable answer: {reply[-300:]!r}")
        if out.reask is not None:  # the one re-ask is spent: give up without another attempt
            out.status = "unparseable"
            return
        out.reask = [*messages, AIMessage(content=reply), HumanMessage(content=reminder)]
        raise _Unparseable(reply)

    def _invoke(self, prompt: list[BaseMessage], out: _Outcome[Any]) -> str:
        kwargs = self.call_kwargs()

        def call() -> Any:
            return self.model.invoke(prompt, config=self.call_config, **kwargs)

        try:
            if self.timeout_s is None:
                reply = call()
            else:
                reply = run_with_deadline(call, timeout_s=self.timeout_s, thread_name="toolrm-judge-call")
        except Exception as exc:  # noqa: BLE001 - any backend failure is retried, then the policy decides
            out.errors.append(f"attempt {out.attempts}: {_describe(exc, self.timeout_s)}")
            raise _BackendFailure(exc) from exc
        return self._record(reply, out)

    async def _ainvoke(self, prompt: list[BaseMessage], out: _Outcome[Any]) -> str:
        try:
            coro = self.model.ainvoke(prompt, config=self.call_config, **self.call_kwargs())
            reply = await (
                coro if self.timeout_s is None else asyncio.wait_for(coro, self.timeout_s)
            )
        except Exception as exc:  # noqa: BLE001 - any backend failure is retried, then the policy decides
            out.errors.append(f"attempt {out.attempts}: {_describe(exc, self.timeout_s)}")
            raise _BackendFailure(exc) from exc
        return self._record(reply, out)

    @staticmethod
    def _record(reply: Any, out: _Outcome[Any]) -> str:
        text = _clean_text(reply if isinstance(reply, str) else _message_text(reply))
        usage = getattr(reply, "usage_metadata", None) or {}
        out.usage = out.usage + TokenUsage(
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=int(usage.get("output_tokens") or 0),
        )
        out.text = text
        return text

    # -- turning outcomes into verdicts ----------------------------------------------------

    def _critique_from(self, out: _Outcome[ParsedVerdict], proposal: Proposal) -> Critique:
        if out.status == "ok" and out.value is not None and out.value.accepted is not None:
            return self._parsed_critique(out, out.value, proposal)
        return self._policy_critique(out, proposal)

    def _parsed_critique(
        self, out: _Outcome[Any], verdict: ParsedVerdict, proposal: Proposal
    ) -> Critique:
        accepted = bool(verdict.accepted)
        score = verdict.score if verdict.score is not None else (1.0 if accepted else 0.0)
        text = cap_critique(verdict.critique.strip())  # it goes back to the policy model
        if text.lower().strip(" .") in _EMPTY_CRITIQUES:
            text = ""
        if not accepted and not text:
            text = (
                "The critic judged this proposal incorrect without saying why. Check each "
                "call against the tool schemas and the user's request."
            )
        issues: tuple[Issue, ...] = ()
        if not accepted:
            issues = (Issue(code=IssueCode.JUDGE_REJECTED, severity="error", message=text),)
        return Critique(
            accepted=accepted,
            score=score,
            text=text,
            judge=self.name,
            calls=_call_verdicts(proposal, ok=accepted, score=score, issues=issues, feedback=text),
            usage=out.usage,
            latency_s=out.seconds,
            status="ok",
            raw_output=out.text,
        )

    def _policy_critique(self, out: _Outcome[Any], proposal: Proposal) -> Critique:
        backend = out.status == "backend_error"
        policy = self.on_backend_error if backend else self.on_unparseable
        if policy == "raise":
            what = "backend failed" if backend else "answer could not be parsed"
            error = JudgeBackendError if backend else JudgeParseError
            raise error(
                f"judge {self.name!r}: {what} after {out.attempts} attempt(s): "
                f"{out.errors[-1] if out.errors else 'no answer'}",
                out.post_mortem(self.name),
            )
        code = IssueCode.JUDGE_ERROR if backend else IssueCode.JUDGE_UNPARSEABLE
        reason = "its backend failed" if backend else "its answer could not be parsed"
        accepted = policy == "fail_open"
        if accepted:
            message = f"The critic could not judge this proposal ({reason}); accepted by policy fail_open."
            text = ""
        else:
            message = (
                f"The critic could not judge this proposal ({reason}). Check each call against "
                "the tool schemas and the user's request, then propose it again."
            )
            text = message
        issue = Issue(code=code, severity="warning" if accepted else "error", message=message)
        return Critique(
            accepted=accepted,
            score=POLICY_SCORE,
            text=text,
            judge=self.name,
            calls=_call_verdicts(
                proposal, ok=accepted, score=POLICY_SCORE, issues=(issue,), feedback=text
            ),
            usage=out.usage,
            latency_s=out.seconds,
            status="backend_error" if backend else "unparseable",
            raw_output=out.text,
        )

    def _preference_from(self, outcomes: list[_Outcome[Choice]], seconds: float) -> Preference:
        votes: list[Choice | None] = [o.value if o.status == "ok" else None for o in outcomes]
        if len(votes) == 2 and votes[1] is not None:
            votes[1] = 2 if votes[1] == 1 else 1  # the second order asked (b, a)
        decided = [v for v in votes if v is not None]
        usage = TokenUsage()
        for o in outcomes:
            usage = usage + o.usage
        failed = [o for o in outcomes if o.status != "ok"]
        status: JudgeStatus = failed[0].status if failed else "ok"
        if not decided:
            policy = self.on_backend_error if status == "backend_error" else self.on_unparseable
            if policy == "raise":
                merged = _merge_outcomes(outcomes, seconds)
                error = JudgeBackendError if status == "backend_error" else JudgeParseError
                raise error(
                    f"judge {self.name!r}: no order of the pairwise question gave a choice "
                    f"({status}) after {merged.attempts} attempt(s)",
                    merged.post_mortem(self.name),
                )
        if len(decided) == 2:
            consistent: bool | None = decided[0] == decided[1]
            choice = decided[0] if consistent else None
        else:
            consistent = None
            choice = decided[0] if decided else None
        return Preference(
            choice=choice,
            judge=self.name,
            consistent=consistent,
            votes=tuple(votes),
            usage=usage,
            latency_s=seconds,
            status=status,
            raw_outputs=tuple(o.text or "" for o in outcomes),
        )

    def _tie(self, start: float) -> Preference:
        return Preference(
            choice=None,
            judge=self.name,
            consistent=True,
            latency_s=time.perf_counter() - start,
        )


# --------------------------------------------------------------------------------------
# tournament bookkeeping (shared by rank and arank)
# --------------------------------------------------------------------------------------


class _Tournament:
    """Round robin (few distinct proposals) or knockout (many); see the module docstring."""

    def __init__(self, proposals: list[Proposal]) -> None:
        self.n = len(proposals)
        renders = [p.render() for p in proposals]
        first_of: dict[str, int] = {}
        self.rep = [first_of.setdefault(r, i) for i, r in enumerate(renders)]
        self.players = sorted(set(self.rep))  # one representative per distinct render
        self.round_robin = len(self.players) <= ROUND_ROBIN_MAX
        self.points: dict[int, float] = dict.fromkeys(self.players, 0.0)
        self.alive = list(self.players)
        self.rounds_won: dict[int, int] = dict.fromkeys(self.players, 0)
        self.rounds = 0
        self.pending: list[tuple[int, int]] = []
        self.byes: list[int] = []
        self.done = len(self.players) <= 1
        self.comparisons = 0
        self.usage = TokenUsage()

    def next_matches(self) -> list[tuple[int, int]] | None:
        if self.done:
            return None
        if self.round_robin:
            p = self.players
            self.pending = [(p[i], p[j]) for i in range(len(p)) for j in range(i + 1, len(p))]
        else:
            self.pending = [
                (self.alive[k], self.alive[k + 1]) for k in range(0, len(self.alive) - 1, 2)
            ]
            self.byes = [self.alive[-1]] if len(self.alive) % 2 else []
        return self.pending

    def record(self, prefs: list[Preference]) -> None:
        self.comparisons += len(prefs)
        for pref in prefs:
            self.usage = self.usage + pref.usage
        if self.round_robin:
            for (i, j), pref in zip(self.pending, prefs, strict=True):
                if pref.choice is None:
                    self.points[i] += 0.5
                    self.points[j] += 0.5
                else:
                    self.points[i if pref.choice == 1 else j] += 1.0
            self.done = True
            return
        self.rounds += 1
        winners = [
            j if pref.choice == 2 else i for (i, j), pref in zip(self.pending, prefs, strict=True)
        ]
        self.alive = sorted(winners + self.byes)
        for w in self.alive:
            self.rounds_won[w] += 1
        self.done = len(self.alive) == 1

    def ranking(self, judge: str, seconds: float) -> Ranking:
        if self.round_robin:
            denom = max(1, len(self.players) - 1)
            per_player = {p: self.points[p] / denom for p in self.players}
        else:
            per_player = {p: self.rounds_won[p] / max(1, self.rounds) for p in self.players}
        if len(self.players) == 1:
            per_player = {self.players[0]: 1.0}
        scores = [per_player[self.rep[i]] for i in range(self.n)]
        order = sorted(range(self.n), key=lambda i: (-scores[i], i))
        return Ranking(
            order=tuple(order),
            scores=tuple(scores),
            judge=judge,
            usage=self.usage,
            latency_s=seconds,
            comparisons=self.comparisons,
        )


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _call_verdicts(
    proposal: Proposal, *, ok: bool, score: float, issues: tuple[Issue, ...], feedback: str
) -> tuple[CallVerdict, ...]:
    named = [(c.id, c.name) for c in proposal.calls] + [(f.id, f.name) for f in proposal.failures]
    return tuple(
        CallVerdict(
            tool_call_id=cid, name=name, ok=ok, score=score, issues=issues, feedback=feedback
        )
        for cid, name in named
    )


def _merge_outcomes(outcomes: list[_Outcome[Any]], seconds: float) -> _Outcome[Any]:
    merged: _Outcome[Any] = _Outcome(seconds=seconds)
    for o in outcomes:
        merged.attempts += o.attempts
        merged.errors += o.errors
        merged.usage = merged.usage + o.usage
        merged.text = o.text if o.text is not None else merged.text
    return merged


def _clean_text(text: str) -> str:
    """``text`` as a plain ``str`` that encodes as UTF-8: a lone surrogate (which pydantic
    refuses in a message) becomes U+FFFD, so a re-ask can quote any answer."""
    text = str.__str__(text) if isinstance(text, str) else str(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _message_text(message: Any) -> str:
    text = getattr(message, "text", None)
    if isinstance(text, str):
        return text
    content = getattr(message, "content", message)
    return content if isinstance(content, str) else str(content)


@contextlib.contextmanager
def _settled(out: _Outcome[Any]) -> Iterator[None]:
    """Around the attempts of one question: how they ended becomes ``out.status`` (a
    backend failure, an unparseable answer, or an answer that broke the parser), and the
    time they took ``out.seconds``."""
    start = time.perf_counter()
    try:
        yield
    except _BackendFailure:
        out.status = "backend_error"
    except _Unparseable:
        out.status = "unparseable"
    except Exception as exc:  # noqa: BLE001 - an answer that breaks the parser is unparseable
        out.errors.append(f"attempt {out.attempts}: answer broke the parser: {_describe(exc, None)}")
        out.status = "unparseable"
    out.seconds = time.perf_counter() - start


def _describe(exc: BaseException, timeout_s: float | None) -> str:
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout_s} s"
    return f"{type(exc).__name__}: {exc}"[:500]


def _unwrap(model: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The innermost model under ``.bind(...)`` wrappers, and the bound keywords, outer first."""
    bound_kwargs: list[dict[str, Any]] = []
    while hasattr(model, "bound") and isinstance(getattr(model, "kwargs", None), dict):
        bound_kwargs.append(model.kwargs)
        model = model.bound
    return model, bound_kwargs


def _detect_thinking_via(model: Any) -> ThinkingVia:
    inner, _ = _unwrap(model)
    fields = getattr(type(inner), "model_fields", {}) or {}
    if "extra_body" in fields:
        # a self-hosted OpenAI-compatible server (vLLM, SGLang); OpenAI itself refuses the field
        base_url = str(getattr(inner, "openai_api_base", None) or "")
        return "extra_body" if base_url and "api.openai.com" not in base_url else "none"
    if "chat_template_kwargs" in fields:
        return "kwargs"
    generate = getattr(inner, "_generate", None)
    if generate is not None:
        try:
            if "chat_template_kwargs" in inspect.signature(generate).parameters:
                return "kwargs"
        except (TypeError, ValueError):
            pass
    return "none"


def _existing_extra_body(model: Any) -> dict[str, Any]:
    """The model's own ``extra_body`` with any bound one on top (ours is merged into it)."""
    inner, bound_kwargs = _unwrap(model)
    body = dict(getattr(inner, "extra_body", None) or {})
    for kwargs in reversed(bound_kwargs):
        body.update(kwargs.get("extra_body") or {})
    return body


def _server_of(model: Any, depth: int = 0) -> tuple[str, str | None] | None:
    """``(base_url, api_key)`` of the server a chat model talks to, if it talks to one."""
    if model is None or depth > 3:
        return None
    base = getattr(model, "openai_api_base", None)
    if isinstance(base, str) and base:
        key: Any = getattr(model, "openai_api_key", None)  # a SecretStr, a str or None
        secret = key.get_secret_value() if hasattr(key, "get_secret_value") else key
        return base, secret if isinstance(secret, str) else None
    for attr in ("inner", "bound"):
        found = _server_of(getattr(model, attr, None), depth + 1)
        if found is not None:
            return found
    return None


def _probe_server(judge: str, base_url: str, api_key: str | None, *, timeout_s: float) -> None:
    """``GET <base_url>/models``; :class:`JudgeBackendError` when nothing answers."""
    import urllib.error
    import urllib.request

    url = base_url.rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - the user's URL
            response.read(1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise JudgeBackendError(
                f"judge {judge}: no OpenAI-compatible API at {base_url} (GET {url} answered 404; "
                "does base_url end in /v1?)"
            ) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise JudgeBackendError(
            f"judge {judge}: the server at {base_url} is unreachable ({exc}); start it or fix base_url"
        ) from exc


def _model_name(model: Any) -> str:
    inner, _ = _unwrap(model)
    for attr in ("model_name", "model", "model_id", "model_path"):
        value = getattr(inner, attr, None)
        if isinstance(value, (str, os.PathLike)) and str(value):
            return str(value)
    return type(inner).__name__
