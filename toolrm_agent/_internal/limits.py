"""A cap on concurrent judge calls (``CriticConfig.max_concurrent_judge_calls``).

:class:`JudgeSlots` stands in for the judge where the engine calls it: each of
``critique``/``rank`` (sync) holds a slot of a ``threading.BoundedSemaphore`` while it
runs, each of ``acritique``/``arank`` a slot of an ``asyncio.Semaphore`` of the running
event loop. So with one critic shared by many runs, at most ``limit`` judge calls are in
flight across the threads of sync runs, and at most ``limit`` per event loop across
async runs (an ``asyncio.Semaphore`` cannot be shared between loops). A call waits for
its slot inside the critic's deadline, so ``judge_timeout_s`` counts the wait too; a
timed-out sync call keeps its slot until it really ends (threads cannot be stopped), so
the cap holds for abandoned calls as well.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

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
        return await self._arun(self.judge.acritique, args)

    async def arank(self, *args: Any) -> Any:
        return await self._arun(self.judge.arank, args)

    async def _arun(self, fn: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> T:
        if self.limit is None:
            return await fn(*args)
        async with self._semaphore():
            return await fn(*args)

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        with self._guard:
            sem = self._loops.get(loop)
            if sem is None:
                sem = self._loops[loop] = asyncio.Semaphore(self.limit or 1)
            return sem
