"""How the critic calls a judge: under a no-stream config, with a deadline, with billing.

Judge methods take no config argument, so the critic hands its own config down the way
LangChain does: as the *current* runnable config (a context variable) that any chat model
the judge invokes picks up. The critic adds LangGraph's ``TAG_NOSTREAM`` to its tags, so
``graph.stream(..., stream_mode="messages")`` never streams the judge's tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextvars import Context, copy_context
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import set_config_context
from langgraph.constants import TAG_NOSTREAM

from toolrm_agent.errors import JudgeError
from toolrm_agent.verdicts import TokenUsage

T = TypeVar("T")


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
    with set_config_context(nostream_config(config)) as ctx:  # type: ignore[arg-type]
        return ctx.run(fn, *args)


async def acall_nostream(
    config: RunnableConfig | None, fn: Callable[..., Awaitable[T]], *args: Any
) -> T:
    """Async twin of :func:`call_nostream`."""
    if config is None:
        return await fn(*args)
    with set_config_context(nostream_config(config)) as ctx:  # type: ignore[arg-type]
        return await asyncio.create_task(fn(*args), context=ctx.copy())  # type: ignore[arg-type]


class JudgeCaller:
    """Calls judge methods; counts calls and tokens, also of calls that failed."""

    def __init__(self, config: RunnableConfig | None, timeout_s: float | None) -> None:
        self.config = nostream_config(config)
        self.timeout_s = timeout_s
        self.calls = 0
        self.usage = TokenUsage()

    # -- sync ------------------------------------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        self.calls += 1
        try:
            with self._context() as ctx:
                if self.timeout_s is None:
                    result = ctx.run(fn, *args)
                else:
                    result = _run_with_deadline(ctx.copy(), fn, args, self.timeout_s)
        except JudgeError as exc:
            self._bill_post_mortem(exc)
            raise
        self._bill(result)
        return result

    # -- async -----------------------------------------------------------------------

    async def acall(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        self.calls += 1
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
        except JudgeError as exc:
            self._bill_post_mortem(exc)
            raise
        self._bill(result)
        return result

    # -- helpers ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _context(self) -> Iterator[Context]:
        if self.config is None:
            yield copy_context()
        else:
            with set_config_context(self.config) as ctx:
                yield ctx

    def _bill(self, result: Any) -> None:
        usage = getattr(result, "usage", None)
        if isinstance(usage, TokenUsage):
            self.usage = self.usage + usage

    def _bill_post_mortem(self, exc: JudgeError) -> None:
        pm = exc.post_mortem
        if pm is not None:
            self.usage = self.usage + TokenUsage(
                input_tokens=pm.input_tokens, output_tokens=pm.output_tokens
            )


def _run_with_deadline(ctx: Context, fn: Callable[..., T], args: tuple[Any, ...], timeout_s: float) -> T:
    """Run ``fn(*args)`` in ``ctx`` on a daemon thread; raise ``TimeoutError`` after
    ``timeout_s``. A call past its deadline keeps running (threads cannot be killed) but
    its answer is dropped, and it never holds up interpreter exit."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["result"] = ctx.run(fn, *args)
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="toolrm-judge", daemon=True).start()
    if not done.wait(timeout_s):
        raise TimeoutError(f"judge call timed out after {timeout_s:g}s")
    if "error" in box:
        raise box["error"]
    return box["result"]
