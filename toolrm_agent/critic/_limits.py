"""A cap on concurrent judge calls (``CriticOptions.max_concurrent_judge_calls``), held by
the running work itself.

:class:`JudgeSlots` stands in for the judge where the engine calls it. A slot is taken
before a judge call starts and given back when the *work* ends, not when the caller
stops waiting for it:

* sync ``critique``/``rank`` hold a slot of a ``threading.BoundedSemaphore`` inside the
  thread that runs them (the critic's deadline thread), so a call past
  ``judge_timeout_s`` keeps its slot until it really ends (threads cannot be stopped);
* async ``acritique``/``arank`` of an async-native judge hold a slot of an
  ``asyncio.Semaphore`` of the running event loop for as long as their coroutine runs
  (a cancelled coroutine has stopped: its slot is free);
* async calls of a judge that is *not* async-native (``capabilities.async_native`` is
  false: its async twins would run the sync method in a worker thread) run that sync
  method on a thread of their own, which gives the slot back when it finishes. A call
  that times out or is cancelled stops being waited for, but its thread keeps its slot
  until the judge really returns: the cap counts running work, not waiting coroutines.

So with one critic shared by many runs, at most ``limit`` judge calls run at once across
the threads of sync runs, and at most ``limit`` per event loop across async runs (an
``asyncio.Semaphore`` cannot be shared between loops). A call waits for its slot inside
the critic's deadline, so ``judge_timeout_s`` counts the wait too.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from toolrm_agent.judges.base import capabilities_of

T = TypeVar("T")


class JudgeSlots:
    """The judge's call methods, each behind a slot; ``limit=None`` passes calls through."""

    def __init__(self, judge: Any, limit: int | None) -> None:
        self.judge = judge
        self.limit = limit
        self._sync = threading.BoundedSemaphore(limit) if limit is not None else None
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self._guard = threading.Lock()
        self._threaded = not capabilities_of(judge).async_native

    # -- sync -------------------------------------------------------------------------

    def critique(self, *args: Any) -> Any:
        return self._run(self.judge.critique, args)

    def rank(self, *args: Any) -> Any:
        return self._run(self.judge.rank, args)

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._sync is None:
            return fn(*args)
        with self._sync:
            return fn(*args)

    # -- async ------------------------------------------------------------------------

    async def acritique(self, *args: Any) -> Any:
        if self.limit is not None and self._threaded:
            return await self._athread(self.judge.critique, args)
        return await self._arun(self.judge.acritique, args)

    async def arank(self, *args: Any) -> Any:
        if self.limit is not None and self._threaded:
            return await self._athread(self.judge.rank, args)
        return await self._arun(self.judge.arank, args)

    async def _arun(self, fn: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> T:
        if self.limit is None:
            return await fn(*args)
        async with self._semaphore():
            return await fn(*args)

    async def _athread(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        """``fn(*args)`` on a daemon thread of its own that holds a slot until ``fn``
        returns, whether or not anyone still waits for it."""
        sem = self._semaphore()
        await sem.acquire()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        ctx = contextvars.copy_context()

        def settle(result: list[T], error: list[BaseException]) -> None:
            sem.release()  # the work has ended: only now is its slot free
            if future.done():  # the caller stopped waiting (timeout, cancellation)
                return
            if error:
                future.set_exception(error[0])
            else:
                future.set_result(result[0])

        def target() -> None:
            result: list[T] = []
            error: list[BaseException] = []
            try:
                result.append(ctx.run(fn, *args))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting coroutine
                error.append(exc)
            try:
                loop.call_soon_threadsafe(settle, result, error)
            except RuntimeError:  # the loop is closed: nobody waits, its semaphore is gone
                pass

        try:
            threading.Thread(target=target, name="toolrm-judge", daemon=True).start()
        except BaseException:
            sem.release()
            raise
        return await future

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        with self._guard:
            sem = self._loops.get(loop)
            if sem is None:
                sem = self._loops[loop] = asyncio.Semaphore(self.limit or 1)
            return sem
