"""How the critic calls a judge: under a no-stream config, with a deadline, with billing.

Judge methods take no config argument, so the critic hands its own config down the way
LangChain does: as the *current* runnable config (a context variable) that any chat model
the judge invokes picks up. The critic adds LangGraph's ``TAG_NOSTREAM`` to its tags, so
``graph.stream(..., stream_mode="messages")`` never streams the judge's tokens.

The same config carries a :class:`BackendMeter` callback: it counts every LangChain model
call the judge makes (re-asks, retries, both pairwise orders) and the tokens they report,
so the critic bills what was really spent even when the judge raises or reports less.
Once the critic is done with a judging step (or its deadline passed) the meter is
closed, and any model call the abandoned judge still starts fails at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextvars import Context
from typing import Any, TypeVar, overload

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import merge_configs, set_config_context
from langgraph.constants import TAG_NOSTREAM
from langgraph.errors import GraphBubbleUp

from toolrm_agent.core.errors import JudgeError
from toolrm_agent.core.verdicts import TokenUsage

T = TypeVar("T")

logger = logging.getLogger("toolrm_agent.critic")


@contextlib.contextmanager
def failed_sample_logged(what: str) -> Iterator[None]:
    """Drawing a best-of-N sample (``what`` failed) must not kill the run: an error is
    logged and swallowed; LangGraph's control flow (``GraphBubbleUp``) goes on up."""
    try:
        yield
    except GraphBubbleUp:
        raise
    except Exception as exc:  # noqa: BLE001 - a failed sample must not kill the run
        logger.warning("%s failed: %s", what, exc)


@overload
def nostream_config(config: RunnableConfig) -> RunnableConfig: ...


@overload
def nostream_config(config: RunnableConfig | None) -> RunnableConfig | None: ...


def nostream_config(config: RunnableConfig | None) -> RunnableConfig | None:
    """``config`` with ``TAG_NOSTREAM`` added to its tags (``None`` stays ``None``)."""
    if config is None:
        return None
    tags = list(config.get("tags") or [])
    if TAG_NOSTREAM not in tags:
        tags.append(TAG_NOSTREAM)
    return {**config, "tags": tags}


def call_nostream(config: RunnableConfig | None, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` with ``config`` plus ``TAG_NOSTREAM`` as the current config (used for
    best-of-N samples drawn through a model handler that takes no config)."""
    if config is None:
        return fn(*args)
    with set_config_context(nostream_config(config)) as ctx:
        return ctx.run(fn, *args)


async def acall_nostream(
    config: RunnableConfig | None, fn: Callable[..., Awaitable[T]], *args: Any
) -> T:
    """Async twin of :func:`call_nostream`."""
    if config is None:
        return await fn(*args)
    with set_config_context(nostream_config(config)) as ctx:
        awaitable = fn(*args)

        async def run() -> T:
            return await awaitable

        return await asyncio.create_task(run(), context=ctx.copy())


class JudgeCancelledError(RuntimeError):
    """A model call started by a judge the critic has stopped waiting for."""


class CallBudgetSpent(JudgeCancelledError):
    """A judge call (or a model call of the judge) refused: ``max_critic_calls`` is reached."""


class BackendMeter(BaseCallbackHandler):
    """Counts the LangChain model calls (and their tokens) made under the judge's config;
    after :meth:`close`, refuses to let new ones start."""

    raise_error = True  # a refused start must reach the judge, not be logged
    run_inline = True

    def __init__(self, limit: int | None = None) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.calls = 0
        self.late_calls = 0
        """Model calls refused after :meth:`close` (an abandoned judge trying again)."""
        self.limit = limit
        """At most this many model calls may start (the run's remaining call budget)."""
        self.refused = 0
        """Model calls refused because ``limit`` was reached."""
        self.usage = TokenUsage()
        self.closed = False

    def close(self) -> None:
        with self._lock:
            self.closed = True

    def _start(self) -> None:
        with self._lock:
            if self.closed:
                self.late_calls += 1
                raise JudgeCancelledError("the critic stopped waiting for this judge")
            if self.limit is not None and self.calls >= self.limit:
                self.refused += 1
                raise CallBudgetSpent("the critic's call budget for this run is spent")
            self.calls += 1

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self._start()

    def on_llm_start(self, serialized: Any, prompts: Any, **kwargs: Any) -> None:
        self._start()

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        try:
            usage = _result_usage(response)
        except Exception:  # noqa: BLE001 - metering must never break a judge's call
            return
        with self._lock:
            self.usage = self.usage + usage


def _result_usage(response: LLMResult) -> TokenUsage:
    n_in = n_out = 0
    for generations in response.generations or ():
        for generation in generations:
            meta = getattr(getattr(generation, "message", None), "usage_metadata", None) or {}
            n_in += int(meta.get("input_tokens") or 0)
            n_out += int(meta.get("output_tokens") or 0)
    if not (n_in or n_out):
        token_usage = (response.llm_output or {}).get("token_usage") or {}
        n_in = int(token_usage.get("prompt_tokens") or 0)
        n_out = int(token_usage.get("completion_tokens") or 0)
    return TokenUsage(input_tokens=n_in, output_tokens=n_out)


class JudgeCaller:
    """Calls judge methods for one judging step; counts calls, tokens and seconds, also
    of calls that failed, and stops an abandoned judge (:meth:`close`).

    Billing: ``calls`` is the larger of the judge method calls (plus what the engine
    adds for rankings, see :meth:`add_units`) and the model calls the meter saw; tokens
    are the larger of what the judge reported (results, post-mortems) and what the
    meter saw.
    """

    def __init__(
        self, config: RunnableConfig | None, timeout_s: float | None, max_calls: int | None = None
    ) -> None:
        self.meter = BackendMeter(max_calls)
        self.max_calls = max_calls
        """The run's remaining call budget: no judge call and no model call of the judge
        starts once this many were made in this step."""
        self.config: RunnableConfig = merge_configs(
            nostream_config(config) or {}, {"callbacks": [self.meter]}
        )
        self.timeout_s = timeout_s
        self.units = 0
        self.reported = TokenUsage()
        self.errors: list[str] = []
        self.attempts_reported = 0
        self._start = time.perf_counter()

    @property
    def calls(self) -> int:
        return max(self.units, self.meter.calls)

    @property
    def usage(self) -> TokenUsage:
        seen = self.meter.usage
        return TokenUsage(
            input_tokens=max(self.reported.input_tokens, seen.input_tokens),
            output_tokens=max(self.reported.output_tokens, seen.output_tokens),
        )

    @property
    def budget_hit(self) -> bool:
        """A call was refused because the call budget was reached."""
        return self.meter.refused > 0

    def _check_budget(self) -> None:
        if self.max_calls is not None and self.calls >= self.max_calls:
            self.meter.refused += 1
            raise CallBudgetSpent("the critic's call budget for this run is spent")

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self._start

    def add_units(self, units: int) -> None:
        """Count ``units`` more judge calls (a ranking of k candidates costs k)."""
        self.units += max(units, 0)

    def close(self) -> None:
        """The step is over: model calls the judge still starts are refused."""
        self.meter.close()

    # -- sync ------------------------------------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        self._check_budget()
        self.units += 1
        try:
            with self._context() as ctx:
                if self.timeout_s is None:
                    result = ctx.run(fn, *args)
                else:
                    result = run_with_deadline(fn, *args, timeout_s=self.timeout_s, ctx=ctx.copy())
        except BaseException as exc:
            self._failed(exc)
            raise
        self._bill(result)
        return result

    # -- async -----------------------------------------------------------------------

    async def acall(self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        self._check_budget()
        self.units += 1
        try:
            with self._context() as ctx:
                task = asyncio.create_task(fn(*args), context=ctx.copy())
                if self.timeout_s is None:
                    result = await task
                else:
                    try:
                        result = await asyncio.wait_for(task, self.timeout_s)
                    except TimeoutError:
                        raise TimeoutError(
                            f"judge call timed out after {self.timeout_s:g}s"
                        ) from None
        except BaseException as exc:
            self._failed(exc)
            raise
        self._bill(result)
        return result

    # -- helpers ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _context(self) -> Iterator[Context]:
        with set_config_context(self.config) as ctx:
            yield ctx

    def _bill(self, result: Any) -> None:
        usage = getattr(result, "usage", None)
        if isinstance(usage, TokenUsage):
            self.reported = self.reported + usage

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, TimeoutError):
            self.close()  # the judge is abandoned: it may not start another model call
        if isinstance(exc, JudgeError) and exc.post_mortem is not None:
            pm = exc.post_mortem
            self.reported = self.reported + TokenUsage(
                input_tokens=pm.input_tokens, output_tokens=pm.output_tokens
            )
            self.attempts_reported += pm.attempts
            self.errors.extend(pm.errors)
        if isinstance(exc, Exception):
            self.errors.append(f"{type(exc).__name__}: {exc}"[:500])


def run_with_deadline(
    fn: Callable[..., T],
    *args: Any,
    timeout_s: float,
    ctx: Context | None = None,
    thread_name: str = "toolrm-judge",
) -> T:
    """``fn(*args)`` run in ``ctx`` (default: a copy of the caller's context) on a daemon
    thread; ``TimeoutError`` after ``timeout_s`` seconds. The project's one deadline
    helper: the critic's judge calls and :class:`~toolrm_agent.judges.generative.generative.GenerativeJudge`'s
    model calls both use it.

    A daemon thread, not a pool: a call that hangs forever must not keep the interpreter
    from exiting, nor use up a pool's workers. A call past its deadline keeps running
    (threads cannot be killed) but its answer is dropped.
    """
    ctx = contextvars.copy_context() if ctx is None else ctx
    results: list[T] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def target() -> None:
        try:
            results.append(ctx.run(fn, *args))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
            errors.append(exc)
        finally:
            done.set()

    threading.Thread(target=target, name=thread_name, daemon=True).start()
    if not done.wait(timeout_s):
        raise TimeoutError(f"judge call timed out after {timeout_s:g}s")
    if errors:
        raise errors[0]
    return results[0]
