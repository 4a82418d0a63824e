"""Fuzzing: no parser, answer parser, prompt renderer or schema check raises on any input,
and no generated agent run crashes in the critic (node and middleware, sync and async).

The targets and their input strategies live in :mod:`eval.bench.fuzz` (which runs them
with 100,000 inputs); here each runs with a few dozen, so the file stays under 30 s.
Exceptions are *not* caught here: a crash fails the test with hypothesis' shrunk input.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from langchain_core.messages import AIMessage

from eval.bench.fuzz import CRITIC_TARGETS, FUZZ_SETTINGS, TARGETS, CriticCase, run_target, run_through_critic
from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.parsing import (
    parse_bfcl_string,
    parse_hermes,
    parse_text,
    proposal_from_message,
    proposal_from_openai,
    to_openai,
)
from toolrm_agent.core.specs import ToolSpec
from toolrm_agent.integrations.vllm_tool_parser import (
    extract_tool_calls_lenient,
    offered_tool_names,
)
from toolrm_agent.judges.generative.templates import pointwise_messages
from toolrm_agent.judges.schema import SchemaJudge

EXAMPLES = {"prompts": 15, "schema_judge": 25, "proposal_from_message": 25}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_target_never_raises(name: str) -> None:
    strategy, function = TARGETS[name]

    @settings(max_examples=EXAMPLES.get(name, 40), **FUZZ_SETTINGS)
    @given(strategy)
    def check(value: object) -> None:
        function(value)

    check()


@pytest.mark.parametrize("name", sorted(CRITIC_TARGETS))
def test_generated_runs_never_crash_in_the_critic(name: str) -> None:
    """Generated Unicode (lone surrogates included) in tool names, argument keys and
    values, call ids, raw malformed arguments and the user's message, through the whole
    agent with the critic."""
    strategy, function = CRITIC_TARGETS[name]

    @settings(max_examples=25, **FUZZ_SETTINGS)
    @given(strategy)
    def check(value: object) -> None:
        function(value)

    check()


def test_surrogates_everywhere_through_the_critic(kind: str, how: str) -> None:
    case = CriticCase(
        user="weather in Par\ud800is?",
        content="\udfff",
        tool_calls=[
            {"name": "get_wea\ud800ther", "args": {"ci\ud800ty": "P\udc00"}, "id": "i\ud800d"},
            {"name": "get.weather", "args": '{"city": "Paris"}', "id": "\ud800"},
            ["not", "a", "call"],
        ],
        invalid_tool_calls=[{"name": "x\ud800", "args": '{"city": "Par\ud800', "id": "bad\udfff", "error": "\ud800"}],
        judge="accept",
        mode="retry",
    )
    run_through_critic(case, kind, how)  # raises CriticCrash on a crash in the critic


def test_the_bench_counts_inputs_and_crashes() -> None:
    result = run_target("parse_hermes", 5)
    assert result["inputs"] == 5 and result["crashes"] == 0


# -- the crashes fuzzing found, pinned -------------------------------------------------


@pytest.mark.parametrize("cid", [5, [1], {"a": 1}, True, None, 1.5, 10**30, ""])
def test_a_hermes_call_with_a_non_string_id_parses(cid: object) -> None:
    text = f"<tool_call>{json.dumps({'name': 'f', 'id': cid, 'arguments': {}})}</tool_call>"
    proposal = parse_text(text)
    assert [c.name for c in proposal.calls] == ["f"] and isinstance(proposal.calls[0].id, str)
    assert proposal.calls[0].id == "5" if cid == 5 else proposal.calls[0].id.startswith("call_")


@pytest.mark.parametrize(
    "items",
    [["x", 5], [None], [{"function": "x"}], [{"function": {"name": 3}}], "abc", 7, {"id": 1}],
)
def test_openai_lists_with_non_dict_items_give_failures(items: object) -> None:
    proposal = proposal_from_openai(items)  # type: ignore[arg-type]
    assert not proposal.calls and proposal.failures


def test_langchain_messages_with_odd_tool_calls_give_failures() -> None:
    class Message:
        content = "hi"
        tool_calls = ["not a dict", {"name": "f", "args": {1: "a", (2,): "b"}, "id": 9}]
        invalid_tool_calls = [3, {"id": [1], "name": 5, "args": {"a": 1}}]

    proposal = proposal_from_message(Message())
    assert [c.arguments for c in proposal.calls] == [{"1": "a", "[2]": "b"}]
    assert proposal.calls[0].id == "9" and len(proposal.failures) == 3


def test_bfcl_arithmetic_that_json_cannot_hold_stays_text() -> None:
    proposal = parse_bfcl_string("[f(a=(-8)**0.5, b=(10**60)**60, c={[1]: 2})]")
    (call,) = proposal.calls
    assert call.arguments["a"] == "(-8) ** 0.5" and isinstance(call.arguments["b"], str)
    assert call.arguments["c"] == {"[1]": 2}
    json.loads(to_openai(proposal)[0]["function"]["arguments"])


def test_hermes_parsing_is_linear_on_long_runs_of_blanks() -> None:
    text = "<tool_call>{" + " " * 1_000_000 + "x"  # the old regex took hours here
    assert parse_hermes(text).failures


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000 + '{"name": "f", "arguments": {}}' + "]" * 5000,
        '{"name": "f", "arguments": ' * 3000,
        "{" * 1_000_000,
        '["' * 500_000,
    ],
)
def test_lenient_vllm_parser_survives_deep_and_huge_json(text: str) -> None:
    found = extract_tool_calls_lenient(text)
    assert found.content is not None or found.calls


def test_offered_tool_names_of_garbage_is_empty() -> None:
    assert offered_tool_names(5) == [] and offered_tool_names("abc") == []
    assert offered_tool_names([{"function": {"name": "f"}}, 3, {"name": 7}]) == ["f"]


def test_schema_judge_on_pathological_arguments() -> None:
    deep: object = "x"
    for _ in range(2000):
        deep = [deep]
    # ToolSpec directly: specs.to_specs deep-copies schemas and hits the recursion limit
    spec = ToolSpec(
        name="f" * 10_000,
        parameters={
            "type": "object",
            "properties": {"a": {"type": "string", "enum": [deep]}, "n": {"type": "integer"}},
        },
    )
    context = JudgeContext(
        turns=(Turn(role="user", content="1,000 things " * 1000),), tools=(spec,)
    )
    call = ToolCall(
        name="f" * 9_999 + "g",
        arguments={"a": deep, "n": math.nan, "k" * 10_000: "[" * 5000, "b": 10**5000},
    )
    critique = SchemaJudge().critique(context, Proposal(calls=(call, call)))
    assert not critique.accepted and len(critique.text) < 5000
    pointwise_messages(context, Proposal(calls=(call, call)))


def test_an_argument_key_python_will_not_print_is_a_marker() -> None:
    """Found by ``--through-critic``: an integer key of 5,000 digits raised ValueError."""
    message = AIMessage.model_construct(
        content="", tool_calls=[{"name": "f", "args": {10**5000: 1, 2: "b"}, "id": "k"}], invalid_tool_calls=[]
    )
    (call,) = proposal_from_message(message).calls
    assert call.arguments == {"<integer of 16610 bits>": 1, "2": "b"}
    case = CriticCase("hi", "", [{"name": "get_weather", "args": {10**5000: 1}, "id": "k"}], [], "schema", "retry")
    run_through_critic(case, "node", "sync")
