"""Every tool-call shape in and out of :class:`Proposal`, and canonical rendering."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import AIMessage

from tests.fakes import tool_call_message
from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall
from toolrm_agent.core.parsing import (
    parse_bfcl_fc,
    parse_bfcl_string,
    parse_hermes,
    parse_json_calls,
    parse_text,
    proposal_from_message,
    proposal_from_openai,
    to_bfcl_fc,
    to_bfcl_string,
    to_hermes,
    to_langchain_message,
    to_langchain_tool_calls,
    to_openai,
)


def calls_of(proposal: Proposal) -> list[tuple[str, dict]]:
    return [(c.name, c.arguments) for c in proposal.calls]


# ------------------------------------------------------------------------- LangChain


def test_langchain_tool_calls_become_calls_with_their_ids() -> None:
    msg = tool_call_message(("get_weather", {"city": "Paris"}), ("get_time", {"tz": "CET"}))
    proposal = proposal_from_message(msg)
    assert calls_of(proposal) == [("get_weather", {"city": "Paris"}), ("get_time", {"tz": "CET"})]
    assert proposal.ids == ["call_0_get_weather", "call_1_get_time"]
    assert proposal.failures == ()


def test_langchain_invalid_tool_calls_become_failures_with_reason() -> None:
    msg = AIMessage(
        content="",
        tool_calls=[{"name": "f", "args": {"a": 1}, "id": "ok1", "type": "tool_call"}],
        invalid_tool_calls=[
            {
                "name": "g",
                "args": '{"b": ',
                "id": "bad1",
                "error": "Expecting value",
                "type": "invalid_tool_call",
            }
        ],
    )
    proposal = proposal_from_message(msg)
    assert calls_of(proposal) == [("f", {"a": 1})]
    (failure,) = proposal.failures
    assert (failure.id, failure.name, failure.raw, failure.reason) == (
        "bad1",
        "g",
        '{"b": ',
        "Expecting value",
    )
    assert proposal.ids == ["ok1", "bad1"]


def test_langchain_invalid_tool_call_without_error_or_id_still_has_both() -> None:
    msg = AIMessage(
        content="",
        invalid_tool_calls=[
            {"name": None, "args": None, "id": None, "error": None, "type": "invalid_tool_call"}
        ],
    )
    (failure,) = proposal_from_message(msg).failures
    assert failure.id.startswith("call_")
    assert failure.reason == "invalid tool call"


def test_langchain_text_content_is_parsed_when_there_are_no_tool_calls() -> None:
    text = 'Sure.\n<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>'
    proposal = proposal_from_message(AIMessage(content=text))
    assert calls_of(proposal) == [("f", {"a": 1})]
    assert proposal.content == text
    assert proposal_from_message(AIMessage(content=text), parse_content=False).is_empty


def test_langchain_content_blocks_are_read_as_text() -> None:
    msg = AIMessage(
        content=[{"type": "text", "text": "[f(a=1)]"}, {"type": "image_url", "image_url": "x"}]
    )
    proposal = proposal_from_message(msg)
    assert calls_of(proposal) == [("f", {"a": 1})]
    assert proposal.content == "[f(a=1)]"


def test_plain_answer_is_an_empty_proposal() -> None:
    proposal = proposal_from_message(AIMessage(content="The weather in Paris is sunny."))
    assert proposal.is_empty
    assert proposal.content == "The weather in Paris is sunny."
    assert proposal.render() == "(no function call)"


# ---------------------------------------------------------------------------- OpenAI


def _openai(name: str | None, arguments: object, cid: str = "c1") -> dict:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": arguments}}


def test_openai_json_string_arguments() -> None:
    proposal = proposal_from_openai([_openai("f", '{"a": 1, "b": [1, 2]}'), _openai("g", "", "c2")])
    assert calls_of(proposal) == [("f", {"a": 1, "b": [1, 2]}), ("g", {})]
    assert proposal.ids == ["c1", "c2"]


def test_openai_doubly_encoded_arguments_are_decoded() -> None:
    proposal = proposal_from_openai([_openai("f", json.dumps(json.dumps({"a": 1})))])
    assert calls_of(proposal) == [("f", {"a": 1})]


@pytest.mark.parametrize(
    ("arguments", "reason_part"),
    [
        ('{"a": 1', "not valid JSON"),
        ("[1, 2]", "must be a JSON object, got list"),
        ('"just text"', "must be a JSON object, got str"),
        (42, "must be an object, got int"),
    ],
)
def test_openai_broken_arguments_become_failures(arguments: object, reason_part: str) -> None:
    proposal = proposal_from_openai([_openai("f", arguments, "bad"), _openai("g", "{}", "good")])
    assert calls_of(proposal) == [("g", {})]
    (failure,) = proposal.failures
    assert failure.id == "bad" and failure.name == "f"
    assert reason_part in failure.reason
    assert "bad" in failure.raw


def test_openai_call_without_name_is_a_failure() -> None:
    (failure,) = proposal_from_openai([_openai("  ", "{}")]).failures
    assert failure.reason == "call has no function name"


def test_openai_none_is_empty() -> None:
    assert proposal_from_openai(None).is_empty


# ---------------------------------------------------------------------------- Hermes


def test_hermes_several_calls_per_message() -> None:
    text = (
        "Let me check both.\n"
        '<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>\n'
        '<tool_call>{"name": "g", "arguments": {"b": "x"}}</tool_call>'
    )
    proposal = parse_hermes(text)
    assert calls_of(proposal) == [("f", {"a": 1}), ("g", {"b": "x"})]
    assert proposal.content == text


def test_hermes_unterminated_last_block_is_read_to_the_end() -> None:
    text = '<tool_call>{"name": "f", "arguments": {}}</tool_call>\n<tool_call>\n{"name": "g", "arguments": {"b": 2}}'
    assert calls_of(parse_hermes(text)) == [("f", {}), ("g", {"b": 2})]


def test_hermes_truncated_json_is_a_failure_with_the_name() -> None:
    proposal = parse_hermes(
        '<tool_call>{"name": "f", "arguments": {}}</tool_call><tool_call>{"name": "g", "argu'
    )
    assert calls_of(proposal) == [("f", {})]
    (failure,) = proposal.failures
    assert failure.name == "g" and "not valid JSON" in failure.reason


def test_hermes_missing_closing_tag_before_the_next_block() -> None:
    text = '<tool_call>{"name": "f", "arguments": {"a": 1}}\n<tool_call>{"name": "g", "arguments": {}}</tool_call>'
    assert calls_of(parse_hermes(text)) == [("f", {"a": 1}), ("g", {})]


def test_hermes_block_with_several_objects_and_a_fence() -> None:
    text = (
        '<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n{"name": "g", "arguments": {}}\n</tool_call>'
        '<tool_call>```json\n{"name": "h", "arguments": {"c": true}}\n```</tool_call>'
    )
    assert calls_of(parse_hermes(text)) == [("f", {"a": 1}), ("g", {}), ("h", {"c": True})]


def test_hermes_parameters_key_and_string_arguments() -> None:
    text = (
        '<tool_call>{"name": "f", "parameters": {"a": 1}}</tool_call>'
        '<tool_call>{"name": "g", "arguments": "{\\"b\\": 2}"}</tool_call>'
    )
    assert calls_of(parse_hermes(text)) == [("f", {"a": 1}), ("g", {"b": 2})]


def test_hermes_object_without_name_is_a_failure() -> None:
    (failure,) = parse_hermes('<tool_call>{"arguments": {"a": 1}, "x": 2}</tool_call>').failures
    assert "no 'name'" in failure.reason


# ------------------------------------------------------------------------------ JSON


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "f", "arguments": {"a": 1}}',
        '```json\n{"name": "f", "arguments": {"a": 1}}\n```',
        '```JSON\n{"name": "f", "arguments": {"a": 1}}\n```',
        'Here is the call:\n```\n{"name": "f", "arguments": {"a": 1}}\n```\nDone.',
        '```json\n{"name": "f", "arguments": {"a": 1}}',  # unterminated fence
        '[{"name": "f", "arguments": {"a": 1}}]',
        '{"tool_calls": [{"name": "f", "arguments": {"a": 1}}]}',  # xLAM
        '{"thought": "need f", "tool_calls": [{"name": "f", "arguments": {"a": 1}}]}',
        '{"id": "x", "type": "function", "function": {"name": "f", "arguments": "{\\"a\\": 1}"}}',
        '[TOOL_CALLS] [{"name": "f", "arguments": {"a": 1}}]',
    ],
)
def test_json_dialects(text: str) -> None:
    proposal = parse_text(text)
    assert calls_of(proposal) == [("f", {"a": 1})]
    assert proposal.failures == ()
    assert proposal.content == text


def test_call_markers_are_dropped_but_not_from_names() -> None:
    assert calls_of(parse_text('functools[{"name": "f", "arguments": {}}]')) == [("f", {})]
    assert calls_of(parse_text("functools.reduce(a=1)")) == [("functools.reduce", {"a": 1})]


def test_xlam_several_calls() -> None:
    text = json.dumps(
        {"tool_calls": [{"name": "f", "arguments": {"a": 1}}, {"name": "g", "arguments": {}}]}
    )
    assert calls_of(parse_json_calls(text)) == [("f", {"a": 1}), ("g", {})]


def test_json_objects_one_per_line() -> None:
    text = '{"name": "f", "arguments": {"a": 1}}\n{"name": "g", "arguments": {"b": 2}}'
    assert calls_of(parse_text(text)) == [("f", {"a": 1}), ("g", {"b": 2})]


def test_broken_json_is_a_failure() -> None:
    proposal = parse_json_calls('[{"name": "f", "arguments": {"a": 1}')
    assert proposal.calls == ()
    (failure,) = proposal.failures
    assert failure.name == "f" and "not valid JSON" in failure.reason


def test_json_list_mixing_good_and_bad_items() -> None:
    proposal = parse_json_calls(
        '[{"name": "f", "arguments": {}}, 3, {"name": "g", "arguments": "{oops"}]'
    )
    assert calls_of(proposal) == [("f", {})]
    assert [f.reason.split(":")[0] for f in proposal.failures] == [
        "expected a call object, got int",
        "arguments are not valid JSON",
    ]


# ------------------------------------------------------------------------------ BFCL


def test_bfcl_string_with_nested_values_and_dotted_names() -> None:
    text = (
        "[math.hypot(x=4, y=5.5), "
        "db.query(filters={'age': [18, 30], 'tags': ('a', 'b')}, limit=None, flag=True, name=\"O'Brien\")]"
    )
    proposal = parse_bfcl_string(text)
    assert calls_of(proposal) == [
        ("math.hypot", {"x": 4, "y": 5.5}),
        (
            "db.query",
            {
                "filters": {"age": [18, 30], "tags": ["a", "b"]},
                "limit": None,
                "flag": True,
                "name": "O'Brien",
            },
        ),
    ]
    assert proposal.failures == ()


def test_bfcl_string_without_brackets_in_a_fence() -> None:
    assert calls_of(parse_text("```python\nf(a=1), g(b='x')\n```")) == [
        ("f", {"a": 1}),
        ("g", {"b": "x"}),
    ]
    assert calls_of(parse_text("f(a=-3)")) == [("f", {"a": -3})]


def test_bfcl_string_values_python_cannot_read_literally() -> None:
    proposal = parse_bfcl_string("[f(a=3*10**8, b=unit, c={1, 2}, d=g(1), e=2**1000)]")
    (call,) = proposal.calls
    assert call.arguments["a"] == 300_000_000
    assert call.arguments["b"] == "unit"  # a bare name stands for its string, as in BFCL
    assert call.arguments["c"] == [1, 2]  # a set becomes a list, so it renders as JSON
    assert call.arguments["d"] == "g(1)"
    assert call.arguments["e"] == "2 ** 1000"  # no huge arithmetic
    assert "300000000" in proposal.render()


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ("[f(1, b=2)]", "positional arguments"),
        ("[f(**kw)]", "**kwargs"),
        ("[f(a=1)(b=2)]", "not a function name"),
        ("[f(a=1), 42]", "expected a function call"),
    ],
)
def test_bfcl_string_failures(text: str, reason_part: str) -> None:
    proposal = parse_bfcl_string(text)
    assert proposal.failures and reason_part in proposal.failures[-1].reason


def test_bfcl_positional_failure_keeps_good_calls_and_the_name() -> None:
    proposal = parse_text("[f(a=1), g(2)]")
    assert calls_of(proposal) == [("f", {"a": 1})]
    (failure,) = proposal.failures
    assert failure.name == "g" and failure.raw == "g(2)"


@pytest.mark.parametrize("text", ["[f(a=1), g(b=]", "[f(a=1)", "f(a='unterminated)"])
def test_bfcl_syntax_errors_are_failures(text: str) -> None:
    proposal = parse_bfcl_string(text)
    assert proposal.calls == ()
    (failure,) = proposal.failures
    assert failure.reason.startswith("not a Python call list")
    assert failure.raw == text


def test_bfcl_fc_lists() -> None:
    items = [{"f": '{"a": 1}'}, {"math.hypot": {"x": 4, "y": 5}}, {"g": ""}]
    assert calls_of(parse_bfcl_fc(items)) == [
        ("f", {"a": 1}),
        ("math.hypot", {"x": 4, "y": 5}),
        ("g", {}),
    ]
    assert calls_of(parse_bfcl_fc({"f": {"a": 1}})) == [("f", {"a": 1})]
    assert calls_of(parse_bfcl_fc(json.dumps(items))) == calls_of(parse_bfcl_fc(items))


def test_bfcl_fc_failures() -> None:
    proposal = parse_bfcl_fc([{"f": '{"a": '}, {"g": {}, "h": {}}, {"k": {"b": 2}}])
    assert calls_of(proposal) == [("k", {"b": 2})]
    assert [f.name for f in proposal.failures] == ["f", None]
    assert "not valid JSON" in proposal.failures[0].reason
    assert "{name: arguments}" in proposal.failures[1].reason
    (not_list,) = parse_bfcl_fc(42).failures
    assert "not a list" in not_list.reason
    (bad_text,) = parse_bfcl_fc("[{oops").failures
    assert "not valid JSON" in bad_text.reason


# --------------------------------------------------------------------- never raises


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "f", "arguments": {"a": ' + "1" * 5000 + "}}",  # over Python's int limit
        "[f(a=" + "1" * 5000 + ")]",
        "[" * 100_000,
        '{"name": "f", "arguments": ' + "[" * 100_000 + "}",
        "[f(a=1)]\x00",
    ],
)
def test_pathological_input_becomes_a_failure(text: str) -> None:
    proposal = parse_text(text)
    assert proposal.calls == () and len(proposal.failures) == 1
    assert proposal.failures[0].reason
    assert proposal_from_openai([_openai("f", text)]).failures


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "[",
        "{",
        "```",
        "<tool_call>",
        "<tool_call></tool_call>",
        "[1, 2]",
        "null",
        "f(",
        "Note(this)",
        '{"a": {"b": ',
        "[[[[[]]]]]",
        "<tool_call>[1]</tool_call>",
        "x" * 10_000,
        "[f(a=" + "[" * 200 + "]" * 200 + ")]",
    ],
)
def test_garbage_never_raises_and_renders(text: str) -> None:
    proposal = parse_text(text)
    assert isinstance(proposal, Proposal)
    assert isinstance(proposal.render(), str)


# ---------------------------------------------------------------------- round trips

PROPOSALS = [
    Proposal(
        calls=(ToolCall(id="c1", name="get_weather", arguments={"city": "Paris", "unit": "c"}),)
    ),
    Proposal(
        calls=(
            ToolCall(id="c1", name="math.hypot", arguments={"x": 4, "y": 5.5}),
            ToolCall(
                id="c2",
                name="search",
                arguments={"q": 'O\'Brien "quoted" ünïcode', "tags": ["a", "b"]},
            ),
            ToolCall(
                id="c3",
                name="db_query",
                arguments={"filters": {"age": [18, 30], "active": True}, "limit": None},
            ),
            ToolCall(id="c4", name="noop", arguments={}),
        )
    ),
]


@pytest.mark.parametrize("proposal", PROPOSALS)
def test_round_trip_hermes(proposal: Proposal) -> None:
    assert parse_hermes(to_hermes(proposal)).render() == proposal.render()
    assert parse_text(proposal.render()).render() == proposal.render()  # canonical is Hermes


@pytest.mark.parametrize("proposal", PROPOSALS)
def test_round_trip_openai_keeps_ids(proposal: Proposal) -> None:
    back = proposal_from_openai(to_openai(proposal))
    assert back.calls == proposal.calls


@pytest.mark.parametrize("proposal", PROPOSALS)
def test_round_trip_bfcl_string_and_fc(proposal: Proposal) -> None:
    assert parse_bfcl_string(to_bfcl_string(proposal)).render() == proposal.render()
    assert parse_text(to_bfcl_string(proposal)).render() == proposal.render()
    assert parse_bfcl_fc(to_bfcl_fc(proposal)).render() == proposal.render()


@pytest.mark.parametrize("proposal", PROPOSALS)
def test_round_trip_langchain_keeps_ids_and_failures(proposal: Proposal) -> None:
    failure = ParseFailure(id="bad", name="f", raw='{"a": ', reason="not valid JSON")
    with_failure = proposal.override(failures=(failure,), content="thinking...")
    message = to_langchain_message(with_failure, message_id="m1")
    assert message.id == "m1"
    assert [tc["id"] for tc in message.tool_calls] == [c.id for c in proposal.calls]
    back = proposal_from_message(message)
    assert back == with_failure
    assert to_langchain_tool_calls(proposal) == message.tool_calls


def test_same_meaning_renders_the_same() -> None:
    a = Proposal(
        calls=(
            ToolCall(
                id="x1", name="f", arguments={"a": 1, "b": {"y": 2, "x": [1, {"q": 1, "p": 2}]}}
            ),
            ToolCall(id="x2", name="g", arguments={"c": "z"}),
        ),
        content="I will call f and g.",
    )
    b = Proposal(
        calls=(
            ToolCall(id="other", name="g", arguments={"c": "z"}),
            ToolCall(
                id="ids", name="f", arguments={"b": {"x": (1, {"p": 2, "q": 1}), "y": 2}, "a": 1}
            ),
        ),
    )
    assert a.render() == b.render()
    # the same calls written in another shape render the same too
    assert (
        parse_text("[g(c='z'), f(b={'y': 2, 'x': [1, {'q': 1, 'p': 2}]}, a=1)]").render()
        == a.render()
    )
    # and a different value does not
    c = b.override(calls=(b.calls[0], b.calls[1].override(arguments={"a": 2, "b": {}})))
    assert c.render() != a.render()


def test_render_shows_failures_verbatim_and_marked() -> None:
    proposal = Proposal(
        calls=(ToolCall(name="f", arguments={"a": 1}),),
        failures=(ParseFailure(name="g", raw='{"b": ', reason="not valid JSON"),),
    )
    rendered = proposal.render()
    assert '<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>' in rendered
    assert '<tool_call_unparsed reason="not valid JSON">\n{"b": \n</tool_call_unparsed>' in rendered


def test_canonical_never_raises_on_odd_values() -> None:
    call = ToolCall(name="f", arguments={"s": {3, 1, 2}, "obj": object.__new__(object)})
    assert '"s": [1, 2, 3]' in call.canonical()


# -- calls a server could send that must render without raising


def test_pathological_arguments_render() -> None:
    from toolrm_agent.core.calls import Proposal, ToolCall

    deep: dict = {}
    node = deep
    for _ in range(3000):
        node["a"] = {}
        node = node["a"]
    for args, marker in ((deep, "<nested too deep>"), ({"n": 10**5000}, "<integer of"),
                         ({"s": "\ud800x"}, "?x")):
        text = Proposal(calls=(ToolCall(name="f", arguments=args),)).render()
        assert marker in text
        text.encode("utf-8")  # no lone surrogate left
