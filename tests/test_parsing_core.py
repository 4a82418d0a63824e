"""The one parsing core: its explicit options, and the shared helpers built on it."""

from __future__ import annotations

import ast
import contextvars
import re
import sys
import time
import types
from typing import Any

import pytest

from toolrm_agent.core.calls import ParseFailure, ToolCall
from toolrm_agent.core.parsing import (
    embedded_json_calls,
    json_spans,
    looks_like_call,
    parse_bfcl_string,
    parse_text,
    proposal_from_items,
    to_langchain_invalid_tool_calls,
    without_hermes_blocks,
)
from toolrm_agent.core.pycalls import PythonSyntax, Unreadable, read_call, read_value
from toolrm_agent.core.thinking import split_thinking, strip_thinking
from toolrm_agent.prompting._calling import run_with_deadline

# -- Python call syntax ---------------------------------------------------------------


def test_bare_names_default_to_their_string() -> None:
    (call,) = parse_bfcl_string("[f(angle=theta)]").calls
    assert call.arguments == {"angle": "theta"}
    assert parse_text("[f(angle=theta)]").calls[0].arguments == {"angle": "theta"}


def test_bare_names_as_variables_fail_the_call() -> None:
    for proposal in (
        parse_bfcl_string("[f(angle=theta), g(a=1)]", bare_names="variable"),
        parse_text("[f(angle=theta), g(a=1)]", bare_names="variable"),
    ):
        assert [c.name for c in proposal.calls] == ["g"]
        (failure,) = proposal.failures
        assert failure.name == "f" and "variable" in failure.reason


def test_positional_arguments_rejected_ignored_or_kept() -> None:
    rejected = parse_bfcl_string("[f(1, b=2)]")
    assert not rejected.calls and "positional" in rejected.failures[0].reason
    assert rejected.failures[0].name == "f"
    ignored = parse_bfcl_string("[f(1, b=2)]", positional="ignore")
    assert ignored.calls[0].arguments == {"b": 2}
    kept = parse_text("f(1, 'x', b=2)", positional="keep")
    assert kept.calls[0].arguments == {"*args": [1, "x"], "b": 2}


def _call(source: str, syntax: PythonSyntax) -> tuple[str, dict[str, Any]]:
    node = ast.parse(source, mode="eval").body
    assert isinstance(node, ast.Call)
    return read_call(node, syntax)


def test_json_and_bfcl_dialects_read_values_differently() -> None:
    source = "f(a=(1, 2), b=g(x=1), c=[3, 4])"
    assert _call(source, PythonSyntax()) == ("f", {"a": [1, 2], "b": "g(x=1)", "c": [3, 4]})
    bfcl = PythonSyntax(dialect="bfcl")
    assert _call(source, bfcl) == ("f", {"a": (1, 2), "b": {"g": {"x": 1}}, "c": [3, 4]})
    assert _call("f(**{'a': 1})", bfcl) == ("f", {"a": 1})
    with pytest.raises(Unreadable, match="kwargs"):
        _call("f(**{'a': 1})", PythonSyntax())
    with pytest.raises(Unreadable, match="unsupported value"):
        _call("f(a=x < y)", bfcl)
    assert _call("f(a=x < y)", PythonSyntax()) == ("f", {"a": "x < y"})


def test_quoted_names_and_arithmetic() -> None:
    with pytest.raises(Unreadable, match="not a function name"):
        _call("'f'(a=1)", PythonSyntax())
    assert _call("'f'(a=1)", PythonSyntax(quoted_names=True)) == ("f", {"a": 1})
    number = ast.parse("3 * 10**8", mode="eval").body
    assert read_value(number) == read_value(number, PythonSyntax(dialect="bfcl")) == 300000000


# -- thinking, JSON spans, conversions ------------------------------------------------


def test_strip_thinking_options() -> None:
    text = "a<think>x</think>b"
    assert strip_thinking(text) == "a b" and strip_thinking(text, sep="") == "ab"
    assert strip_thinking("a<think>open") == "a"
    assert strip_thinking("a<think>open", unclosed="keep") == "a<think>open"
    assert strip_thinking("x</think>y</think>z") == "y</think>z"
    assert strip_thinking("x</think>y</think>z", lone_close="last") == "z"
    assert strip_thinking("x</think>y", lone_close="keep") == "x</think>y"


def test_split_thinking_returns_the_reasoning_too() -> None:
    assert split_thinking("<think> plan </think>\n[f(a=1)]") == ("plan", " \n[f(a=1)]")
    assert split_thinking("a <think>x</think>  b", sep="", strip_after=True) == ("x", "a b")
    assert split_thinking("trace</think>answer") == ("trace", "answer")
    assert split_thinking("<think>cut short") == ("cut short", "")


def test_json_spans_and_call_likeness() -> None:
    call = '{"name": "f", "arguments": {}}'
    outer = '{"n": 1, "data": ' + call + "}"
    text = f"see {outer} and [1]"
    assert [text[s:e] for s, e, _ in json_spans(text)] == [outer, "[1]"]
    assert call in [text[s:e] for s, e, _ in json_spans(text, skip_decoded=False)]
    assert [v for _, _, v in json_spans(text, starts=re.compile(r"\["))] == [[1]]
    assert looks_like_call({"name": "f", "arguments": {}})
    assert not looks_like_call({"name": "f"}) and not looks_like_call([])
    found = embedded_json_calls(text)
    assert found is not None and found[0].calls[0].name == "f"
    assert text[slice(*found[1])] == call


def test_items_hermes_content_and_invalid_calls() -> None:
    failure = ParseFailure(id="x", name="f", raw="{", reason="bad")
    proposal = proposal_from_items([ToolCall(id="c", name="g"), failure], "text")
    assert [c.name for c in proposal.calls] == ["g"] and proposal.failures == (failure,)
    assert to_langchain_invalid_tool_calls(proposal) == [
        {"name": "f", "args": "{", "id": "x", "error": "bad", "type": "invalid_tool_call"}
    ]
    assert without_hermes_blocks("hi <tool_call>{}</tool_call> there <tool_call>{") == "hi  there"


# -- deadline and ChatOpenAI ----------------------------------------------------------


def test_run_with_deadline() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("v", default="outer")
    var.set("caller")
    assert run_with_deadline(lambda a: (a, var.get()), 1, timeout_s=5) == (1, "caller")
    with pytest.raises(KeyError):
        run_with_deadline(lambda: {}["k"], timeout_s=5)
    with pytest.raises(TimeoutError, match="timed out after 0.05s"):
        run_with_deadline(time.sleep, 5, timeout_s=0.05)


def test_one_chat_openai_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    from toolrm_agent.integrations.openai_server import chat_model_for_server, chat_openai

    class Recorder:
        def __init__(self, **kwargs: Any) -> None:
            self.kwargs = kwargs

    fake = types.ModuleType("langchain_openai")
    fake.ChatOpenAI = Recorder  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "langchain_openai", fake)
    plain = chat_openai("m", "http://h/v1")
    assert plain.kwargs == {"model": "m", "base_url": "http://h/v1", "api_key": "EMPTY"}
    served = chat_model_for_server("m", "http://h:8000", n=2)
    assert served.kwargs["base_url"] == "http://h:8000/v1" and served.kwargs["n"] == 2
    assert served.kwargs["max_retries"] == 2 and served.kwargs["temperature"] == 0.0
