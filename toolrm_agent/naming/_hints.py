"""Advice the runtime gives once per process, for mistakes that would otherwise be silent.

:func:`warn_text_call`: a plain chat model (``ChatOpenAI`` on ``toolrm serve``, say) that
answers with a tool call written as text and no ``tool_calls``. The agent takes the text
as its final answer and the critic never runs; nothing else would say so. The node's
router (``route_to_critic``), ``build_agent_graph``'s baseline router and the
``create_agent`` middleware call it on every answer without tool calls.

:func:`close_match` / :func:`did_you_mean`: the one near-miss finder, for a misspelt
tool name in a critique and a misspelt judge kind, critic or model name in an error.
"""

from __future__ import annotations

import difflib
import threading
import warnings
from collections.abc import Iterable
from typing import Any

from toolrm_agent.core.errors import TextToolCallWarning

__all__ = ["SERVED_HELPER", "TextToolCallWarning", "close_match", "did_you_mean", "warn_text_call"]

SERVED_HELPER = "toolrm_agent.served_chat_model"
"""The helper the warning names: it reads calls written as text into ``tool_calls``."""

_WARNED: set[str] = set()
_LOCK = threading.Lock()


def warn_text_call(message: Any) -> bool:
    """Warn (once per process) when ``message`` is an AIMessage without tool calls whose
    text reads as a tool call. Returns whether it warned now."""
    from langchain_core.messages import AIMessage

    if "text_call" in _WARNED:
        return False
    if not isinstance(message, AIMessage) or message.tool_calls or message.invalid_tool_calls:
        return False
    from toolrm_agent.core.parsing import message_text
    from toolrm_agent.integrations.vllm_tool_parser import extract_tool_calls_lenient

    text = message_text(message.content)
    if "{" not in text and "<tool_call>" not in text:
        return False
    found = extract_tool_calls_lenient(text)
    if not found.calls:
        return False
    with _LOCK:
        if "text_call" in _WARNED:
            return False
        _WARNED.add("text_call")
    warnings.warn(
        f"the model answered with a tool call written as text ({found.calls[0].name}(...)) and no "
        "tool_calls, so the agent takes it as its final answer and the critic never runs. A plain "
        "ChatOpenAI on a llama.cpp server (`toolrm serve`) does this: use "
        f"{SERVED_HELPER}(base_url) as the policy, which reads such calls into tool_calls. "
        "(This warning is given once.)",
        TextToolCallWarning,
        stacklevel=3,
    )
    return True


def reset() -> None:
    """Forget what was warned (for tests)."""
    with _LOCK:
        _WARNED.clear()


MAX_FUZZY_CHARS = 256
"""Names longer than this are never matched (difflib is quadratic)."""


def close_match(name: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest candidate (difflib, ``cutoff``), or ``None``; long names are not matched."""
    if len(name) > MAX_FUZZY_CHARS:
        return None
    short = [c for c in candidates if isinstance(c, str) and len(c) <= MAX_FUZZY_CHARS]
    close = difflib.get_close_matches(name, short, n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(name: str, candidates: Iterable[str], template: str = "{}") -> str:
    """``" (did you mean `<template filled with the match>`?)"`` for a near miss, else ``""``."""
    match = close_match(name, candidates)
    return f" (did you mean `{template.format(match)}`?)" if match is not None and match != name else ""
