"""The one helper that runs a blocking call with a deadline (judge calls, model calls)."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from contextvars import Context
from typing import Any, TypeVar

T = TypeVar("T")


def run_with_deadline(
    fn: Callable[..., T],
    *args: Any,
    timeout_s: float,
    ctx: Context | None = None,
    thread_name: str = "toolrm-judge",
) -> T:
    """``fn(*args)`` run in ``ctx`` (default: a copy of the caller's context) on a daemon
    thread; ``TimeoutError`` after ``timeout_s`` seconds.

    A daemon thread, not a pool: a call that hangs forever must not keep the interpreter
    from exiting, nor use up a pool's workers. A call past its deadline keeps running
    (threads cannot be killed) but its answer is dropped.
    """
    ctx = contextvars.copy_context() if ctx is None else ctx
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["result"] = ctx.run(fn, *args)
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name=thread_name, daemon=True).start()
    if not done.wait(timeout_s):
        raise TimeoutError(f"judge call timed out after {timeout_s:g}s")
    if "error" in box:
        raise box["error"]
    return box["result"]


__all__ = ["run_with_deadline"]
