"""What happens when a tool raises: its error goes back to the model as a ``ToolMessage``.

The default of both adapters (``build_agent_graph(..., handle_tool_errors=True)`` and
``ToolRMMiddleware(..., handle_tool_errors=True)``). A self-correction agent should see
its mistake and correct it rather than die: a tool that raises (``KeyError('Pounds')``
for a currency it does not know) answers its ``tool_call_id`` with a
``ToolMessage(status="error")`` that names the exception and its text, the model is asked
again, and the critic, which judges the next proposal against the whole transcript, reads
that error in its context. LangGraph's own default re-raises every exception but
argument-validation errors, which ends the run (and the user's agent) on the first bad
call the critic let through.

``handle_tool_errors``:

* ``True``: every ``Exception`` becomes an error ToolMessage (:func:`tool_error_text`);
* a callable ``(exception) -> str``: the same, with your text;
* ``False``: the exception propagates (LangGraph's behaviour).

Interrupts and other ``GraphBubbleUp`` signals always propagate.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from langchain_core.messages import ToolMessage
from langgraph.errors import GraphBubbleUp

from toolrm_agent.core.errors import ConfigurationTypeError

__all__ = ["ToolErrorHandling", "arun_tool", "check_handling", "run_tool", "tool_error_text"]

ToolErrorHandling: TypeAlias = bool | Callable[[Exception], str]

TOOL_ERROR_CHARS = 2000
"""An exception's text is cut to this many characters in the ToolMessage."""


def check_handling(value: Any) -> ToolErrorHandling:
    """``value`` if it is a valid ``handle_tool_errors``; else a ConfigurationTypeError."""
    if isinstance(value, bool):
        return value
    if callable(value):
        handler: Callable[[Exception], str] = value
        return handler
    raise ConfigurationTypeError(
        f"handle_tool_errors must be True, False or a callable (exception) -> str, not {value!r}"
    )


def tool_error_text(name: str, exc: Exception) -> str:
    """The default answer to a call whose tool raised ``exc``."""
    detail = str(exc)[:TOOL_ERROR_CHARS]
    return (
        f"Error: the tool `{name}` raised {type(exc).__name__}: {detail}. The call did not "
        "complete; check its arguments against the tool's description and try again."
    )


def _answer(request: Any, exc: Exception, handling: ToolErrorHandling) -> ToolMessage:
    call = request.tool_call
    name = str(call.get("name") or "")
    text = handling(exc) if callable(handling) and not isinstance(handling, bool) else tool_error_text(name, exc)
    return ToolMessage(
        content=text,
        tool_call_id=str(call.get("id") or ""),
        name=name,
        status="error",
        artifact={"tool_error": type(exc).__name__},
    )


def run_tool(request: Any, execute: Callable[[Any], Any], handling: ToolErrorHandling) -> Any:
    """``execute(request)``; an exception becomes an error ToolMessage unless ``handling`` is False."""
    try:
        return execute(request)
    except Exception as exc:
        return _answer_or_raise(request, exc, handling)


async def arun_tool(
    request: Any, execute: Callable[[Any], Awaitable[Any]], handling: ToolErrorHandling
) -> Any:
    """The async twin of :func:`run_tool`."""
    try:
        return await execute(request)
    except Exception as exc:
        return _answer_or_raise(request, exc, handling)


def _answer_or_raise(request: Any, exc: Exception, handling: ToolErrorHandling) -> Any:
    """The error ToolMessage for ``exc``; ``exc`` itself again when it is LangGraph's
    control flow (``GraphBubbleUp``) or ``handling`` is False."""
    if isinstance(exc, GraphBubbleUp) or handling is False:
        raise exc
    return _answer(request, exc, handling)
