"""The lenient vLLM tool parser's pure function: every shape the 0.5B model writes.

No vLLM here: the module must import without it and register nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from toolrm_agent.integrations.vllm_tool_parser import (
    PARSER_NAME,
    extract_tool_calls_lenient,
)

WEATHER = '{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}'
TIME = '{"name": "get_time", "arguments": {"tz": "CET"}}'


def names_and_args(text: str, tool_names=None) -> list[tuple[str, dict]]:
    found = extract_tool_calls_lenient(text, tool_names=tool_names)
    return [(c.name, c.arguments) for c in found.calls]


def test_hermes_tags_several_calls_and_leading_text() -> None:
    text = f"Let me check.\n<tool_call>\n{WEATHER}\n</tool_call>\n<tool_call>\n{TIME}\n</tool_call>"
    found = extract_tool_calls_lenient(text)
    assert found.style == "hermes"
    assert [c.name for c in found.calls] == ["get_weather", "get_time"]
    assert found.calls[0].arguments == {"city": "Paris", "unit": "celsius"}
    assert found.content == "Let me check."


def test_hermes_only_calls_has_no_content() -> None:
    found = extract_tool_calls_lenient(f"<tool_call>{WEATHER}</tool_call>")
    assert found.tools_called and found.content is None


def test_bare_json_object() -> None:
    found = extract_tool_calls_lenient(WEATHER)
    assert found.style == "json"
    assert names_and_args(WEATHER) == [("get_weather", {"city": "Paris", "unit": "celsius"})]
    assert found.content is None


def test_fenced_json_with_prose_keeps_the_prose() -> None:
    text = f"Sure! Here is the call:\n```json\n{WEATHER}\n```\nHope that helps."
    found = extract_tool_calls_lenient(text)
    assert names_and_args(text) == [("get_weather", {"city": "Paris", "unit": "celsius"})]
    assert found.content == "Sure! Here is the call:\n\nHope that helps."


def test_json_list_of_calls() -> None:
    text = f"[{WEATHER}, {TIME}]"
    assert [n for n, _ in names_and_args(text)] == ["get_weather", "get_time"]


def test_several_bare_objects_one_per_line() -> None:
    text = f"{WEATHER}\n{TIME}\n"
    assert [n for n, _ in names_and_args(text)] == ["get_weather", "get_time"]


def test_parameters_key_and_string_arguments() -> None:
    params = '{"name": "f", "parameters": {"a": 1}}'
    as_string = json.dumps({"name": "g", "arguments": json.dumps({"b": "x"})})
    assert names_and_args(params) == [("f", {"a": 1})]
    assert names_and_args(as_string) == [("g", {"b": "x"})]


def test_openai_and_xlam_shapes() -> None:
    openai_call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "f", "arguments": '{"a": 2}'},
    }
    xlam = {"tool_calls": [{"name": "f", "arguments": {"a": 3}}, {"name": "g", "arguments": {}}]}
    assert names_and_args(json.dumps(openai_call)) == [("f", {"a": 2})]
    assert names_and_args(json.dumps(xlam)) == [("f", {"a": 3}), ("g", {})]


def test_plain_answer_is_content_not_a_call() -> None:
    text = "The weather in Paris is sunny, 21 °C."
    found = extract_tool_calls_lenient(text, tool_names=["get_weather"])
    assert not found.tools_called
    assert found.style == "none"
    assert found.content == text


def test_json_data_that_is_not_a_call_stays_content() -> None:
    # a JSON answer with a "name" key but no arguments is data, not a call
    text = 'The record is {"name": "Alice", "age": 31} and [1, 2, 3].'
    found = extract_tool_calls_lenient(text)
    assert found.calls == ()
    assert found.content == text


def test_broken_tagged_call_returns_everything_as_content() -> None:
    text = f'<tool_call>{WEATHER}</tool_call>\n<tool_call>{{"name": "get_time", "arguments": {{"tz": }}</tool_call>'
    found = extract_tool_calls_lenient(text)
    assert found.calls == ()
    assert found.content == text  # nothing lost: the client parses it into a ParseFailure


def test_call_like_json_with_non_object_arguments_is_all_or_nothing() -> None:
    text = f'{WEATHER}\n{{"name": "get_time", "arguments": [1, 2]}}'
    found = extract_tool_calls_lenient(text)
    assert found.calls == () and found.content == text


def test_answer_cut_off_inside_a_call_returns_no_calls() -> None:
    # what the 0.5B model writes when it repeats itself until max_tokens
    text = f'{WEATHER}\n{WEATHER}\n{{"name":'
    found = extract_tool_calls_lenient(text)
    assert found.calls == () and found.content == text


def test_unterminated_tag_is_read_to_the_end() -> None:
    found = extract_tool_calls_lenient(f"<tool_call>\n{WEATHER}")
    assert [c.name for c in found.calls] == ["get_weather"]


def test_bfcl_string_needs_offered_names() -> None:
    text = "[get_weather(city='Paris'), get_time(tz='CET')]"
    assert names_and_args(text, tool_names=["get_weather", "get_time"]) == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"tz": "CET"}),
    ]
    assert names_and_args(text) == []  # without the offered names: content
    assert names_and_args(text, tool_names=["get_weather"]) == []  # get_time is not offered
    assert names_and_args("print(x)", tool_names=["get_weather"]) == []


def test_each_call_gets_its_own_id() -> None:
    found = extract_tool_calls_lenient(f"[{WEATHER}, {WEATHER}]")
    assert len({c.id for c in found.calls}) == 2


@pytest.mark.parametrize("text", ["", "   ", "{", "[", "{not json}", "```json\n```"])
def test_degenerate_text_never_raises(text: str) -> None:
    found = extract_tool_calls_lenient(text)
    assert found.calls == ()
    assert found.content == text


def test_module_imports_without_vllm_and_registers_nothing() -> None:
    code = (
        "import sys, toolrm_agent.integrations.vllm_tool_parser as m;"
        "assert 'vllm' not in sys.modules;"
        "assert not hasattr(m, 'ToolRMLenientToolParser');"
        "print(m.PARSER_NAME)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == PARSER_NAME == "toolrm_lenient"


def test_deeply_nested_call_lists_are_no_call_not_a_recursion_error() -> None:
    """Found by ``eval.bench_fuzz`` (100k inputs): ``_looks_like_call`` recursed once per
    nesting level of lists / ``tool_calls`` wrappers and raised RecursionError."""
    from toolrm_agent.integrations.vllm_tool_parser import extract_tool_calls_lenient

    lists = '{"tool_calls": ' + "[" * 5_000 + "]" * 5_000 + "}"
    wrappers = '{"tool_calls": [' * 3_000 + "]}" * 3_000
    for text in (lists, wrappers, "```json\n" + wrappers + "\n```"):
        for names in (None, ["get_weather"]):
            result = extract_tool_calls_lenient(text, tool_names=names)
            assert result.calls == () and result.content == text
