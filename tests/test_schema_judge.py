"""SchemaJudge: one test per issue code, BFCL leniency, grounding, scores and texts."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.fakes import FACTORIAL_DOC
from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.parsing import parse_text
from toolrm_agent.core.verdicts import IssueCode
from toolrm_agent.judges.base import Judge
from toolrm_agent.judges.schema import SchemaJudge

WEATHER = {
    "name": "get_weather",
    "description": "Weather forecast for a city.",
    "parameters": {
        "type": "dict",
        "properties": {
            "city": {"type": "string", "description": "The city."},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
            "days": {"type": "integer", "description": "Days ahead."},
            "threshold": {"type": "float"},
            "hourly": {"type": "boolean"},
            "coords": {"type": "tuple", "items": {"type": "float"}},
            "stations": {
                "type": "array",
                "items": {
                    "type": "dict",
                    "properties": {"id": {"type": "string"}, "weight": {"type": "float"}},
                    "required": ["id"],
                },
            },
            "options": {"type": "dict", "properties": {"lang": {"type": "string"}}},
            "meta": {"type": "dict"},
        },
        "required": ["city"],
    },
}
NO_ARGS = {"name": "ping", "parameters": {"type": "object", "properties": {}}}
OPTIONAL = {
    "name": "search",
    "parameters": {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
            "tag": {"type": ["string", "null"]},
            "mode": {"oneOf": [{"type": "string", "enum": ["fast", "full"]}, {"type": "integer"}]},
        },
        "required": ["query"],
    },
}

REQUEST = (
    "What's the weather in Paris for the next 3 days, in celsius? Alert me above 25.5 degrees. "
    "Also compute the factorial of 5 and search for 'electric cars'."
)


def context(text: str = REQUEST, tools: list[Any] | None = None) -> JudgeContext:
    return JudgeContext.build(
        [Turn(role="user", content=text)],
        tools if tools is not None else [WEATHER, FACTORIAL_DOC, NO_ARGS, OPTIONAL],
    )


def proposal(*calls: tuple[str, dict[str, Any]]) -> Proposal:
    return Proposal(
        calls=tuple(ToolCall(id=f"c{i}", name=n, arguments=a) for i, (n, a) in enumerate(calls, 1))
    )


def judge_one(
    name: str,
    args: dict[str, Any],
    judge: SchemaJudge | None = None,
    ctx: JudgeContext | None = None,
):
    return (judge or SchemaJudge()).critique(ctx or context(), proposal((name, args)))


# --------------------------------------------------------------------------- clean


def test_is_a_judge_with_its_name() -> None:
    judge = SchemaJudge()
    assert isinstance(judge, Judge)
    assert judge.name == "schema"


def test_clean_call_is_accepted_with_full_score() -> None:
    critique = judge_one(
        "get_weather", {"city": "Paris", "days": 3, "unit": "celsius", "threshold": 25.5}
    )
    assert critique.accepted and critique.score == 1.0
    assert critique.text == ""
    (verdict,) = critique.calls
    assert (verdict.tool_call_id, verdict.name, verdict.ok, verdict.score, verdict.issues) == (
        "c1",
        "get_weather",
        True,
        1.0,
        (),
    )
    assert critique.judge == "schema" and critique.status == "ok"
    assert critique.usage.total_tokens == 0


# ------------------------------------------------------------------ one test per code


def test_unknown_function_suggests_the_closest_name() -> None:
    critique = judge_one("get_wether", {"city": "Paris"})
    assert not critique.accepted and critique.score == 0.0
    assert critique.codes == [IssueCode.UNKNOWN_FUNCTION]
    assert "Call 1 `get_wether`" in critique.text and "did you mean `get_weather`?" in critique.text


def test_unknown_function_lists_the_offered_ones_when_nothing_is_close() -> None:
    critique = judge_one("send_email", {"to": "x"})
    assert critique.codes == [IssueCode.UNKNOWN_FUNCTION]
    assert "`get_weather`" in critique.text and "`math.factorial`" in critique.text


def test_dotted_and_underscored_names_find_each_other() -> None:
    assert judge_one("math_factorial", {"number": 5}).accepted
    underscored = {**FACTORIAL_DOC, "name": "math_factorial"}
    assert judge_one("math.factorial", {"number": 5}, ctx=context(tools=[underscored])).accepted


def test_missing_required() -> None:
    critique = judge_one("get_weather", {"days": 3})
    assert critique.codes == [IssueCode.MISSING_REQUIRED]
    assert critique.calls[0].issues[0].argument == "city"
    assert (
        critique.text
        == "Call 1 `get_weather`: Missing required argument `city` (string: The city.)."
    )


def test_unexpected_argument_suggests_the_closest_parameter() -> None:
    critique = judge_one("get_weather", {"city": "Paris", "units": "celsius"})
    assert critique.codes == [IssueCode.UNEXPECTED_ARGUMENT]
    assert "`units` is not a parameter; did you mean `unit`?" in critique.text


def test_unexpected_argument_for_a_function_without_parameters() -> None:
    critique = judge_one("ping", {"host": "x"})
    assert critique.codes == [IssueCode.UNEXPECTED_ARGUMENT]
    assert "takes no arguments" in critique.text
    assert judge_one("ping", {}).accepted


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        ({"city": 3}, "city"),
        ({"city": "Paris", "days": "3"}, "days"),
        ({"city": "Paris", "days": 3.5}, "days"),
        ({"city": "Paris", "days": True}, "days"),  # a bool is not an integer
        ({"city": "Paris", "threshold": "25.5"}, "threshold"),
        ({"city": "Paris", "threshold": False}, "threshold"),
        ({"city": "Paris", "hourly": 1}, "hourly"),
        ({"city": "Paris", "coords": {"x": 1.0}}, "coords"),
        ({"city": "Paris", "options": ["lang"]}, "options"),
        ({"city": None}, "city"),  # null only where the schema allows it
    ],
)
def test_type_mismatch(args: dict[str, Any], argument: str) -> None:
    critique = judge_one("get_weather", args)
    assert critique.codes == [IssueCode.TYPE_MISMATCH]
    assert critique.calls[0].issues[0].argument == argument
    assert f"`{argument}` must be" in critique.text


def test_type_mismatch_for_json_text_that_encodes_the_right_type() -> None:
    critique = judge_one("get_weather", {"city": "Paris", "coords": "[48.85, 2.35]", "days": "3"})
    assert critique.codes == [IssueCode.TYPE_MISMATCH, IssueCode.TYPE_MISMATCH]
    assert critique.text.count("not a string that encodes it") == 2


def test_type_mismatch_inside_nested_items_and_properties() -> None:
    critique = judge_one(
        "get_weather",
        {
            "city": "Paris",
            "coords": [48.85, "2.35"],
            "stations": [{"id": "A1", "weight": 0.5}, {"id": 7}],
            "options": {"lang": ["fr"]},
        },
    )
    assert critique.codes == [IssueCode.TYPE_MISMATCH] * 3
    assert [i.argument for i in critique.calls[0].issues] == [
        "coords[1]",
        "stations[1].id",
        "options.lang",
    ]


def test_nested_required_and_unknown_keys() -> None:
    critique = judge_one(
        "get_weather",
        {"city": "Paris", "stations": [{"weight": 1}], "options": {"lang": "fr", "x": 1}},
    )
    assert critique.codes == [IssueCode.MISSING_REQUIRED, IssueCode.UNEXPECTED_ARGUMENT]
    assert [i.argument for i in critique.calls[0].issues] == ["stations[0].id", "options.x"]


def test_free_form_object_takes_any_keys() -> None:
    assert judge_one(
        "get_weather",
        {"city": "Paris", "meta": {"anything": [1, "x"]}},
        SchemaJudge(check_grounding=False),
    ).accepted


def test_enum_violation_lists_the_allowed_values() -> None:
    critique = judge_one("get_weather", {"city": "Paris", "unit": "kelvin"})
    assert critique.codes == [IssueCode.ENUM_VIOLATION]
    assert '`unit` must be one of "celsius", "fahrenheit"; got "kelvin".' in critique.text


def test_enum_is_case_sensitive_and_bool_aware() -> None:
    assert judge_one("get_weather", {"city": "Paris", "unit": "Celsius"}).codes == [
        IssueCode.ENUM_VIOLATION
    ]
    flags = {"name": "f", "parameters": {"type": "object", "properties": {"x": {"enum": [1, 2]}}}}
    assert judge_one("f", {"x": True}, ctx=context(tools=[flags])).codes == [
        IssueCode.ENUM_VIOLATION
    ]
    assert judge_one("f", {"x": 1}, ctx=context(tools=[flags])).accepted


def test_malformed_arguments_keyed_by_the_failure_id() -> None:
    p = Proposal(
        calls=(ToolCall(id="good", name="math.factorial", arguments={"number": 5}),),
        failures=(
            ParseFailure(id="bad", name="get_weather", raw='{"city": ', reason="not valid JSON"),
        ),
    )
    critique = SchemaJudge().critique(context(), p)
    assert not critique.accepted
    good, bad = critique.calls
    assert (good.tool_call_id, good.ok) == ("good", True)
    assert (bad.tool_call_id, bad.name, bad.ok, bad.score) == ("bad", "get_weather", False, 0.0)
    assert bad.codes == [IssueCode.MALFORMED_ARGUMENTS]
    assert "Call 2 `get_weather`: Could not be parsed (not valid JSON)" in critique.text
    assert "not valid JSON" in bad.feedback


def test_malformed_from_parsing_end_to_end() -> None:
    parsed = parse_text("[get_weather('Paris')]")
    critique = SchemaJudge().critique(context(), parsed)
    assert critique.codes == [IssueCode.MALFORMED_ARGUMENTS]
    assert critique.calls[0].tool_call_id == parsed.failures[0].id
    assert "positional arguments" in critique.text


def test_duplicate_call() -> None:
    critique = SchemaJudge().critique(
        context(),
        proposal(
            ("math.factorial", {"number": 5}),
            ("get_weather", {"city": "Paris"}),
            ("math.factorial", {"number": 5}),
        ),
    )
    assert not critique.accepted
    assert [v.codes for v in critique.calls] == [[], [], [IssueCode.DUPLICATE_CALL]]
    assert "Call 3 `math.factorial`: Repeats call 1 exactly" in critique.text
    same_name_other_args = proposal(
        ("math.factorial", {"number": 5}), ("math.factorial", {"number": 3})
    )
    assert SchemaJudge(check_grounding=False).critique(context(), same_name_other_args).accepted
    assert (
        SchemaJudge(check_duplicates=False)
        .critique(
            context(),
            proposal(("math.factorial", {"number": 5}), ("math.factorial", {"number": 5})),
        )
        .accepted
    )


def test_no_call_rejects_an_empty_proposal_by_default() -> None:
    critique = SchemaJudge().critique(context(), Proposal(content="It is sunny."))
    assert not critique.accepted and critique.score == 0.0
    assert critique.codes == [IssueCode.NO_CALL]
    assert critique.text.startswith("No function call was proposed")
    assert "`get_weather`" in critique.text


def test_no_call_is_accepted_when_no_call_is_expected() -> None:
    critique = SchemaJudge(expect_call=False).critique(context(), Proposal(content="It is sunny."))
    assert critique.accepted and critique.score == 1.0 and critique.calls == ()


def test_ungrounded_value_is_a_warning_that_lowers_the_score() -> None:
    critique = judge_one("get_weather", {"city": "London", "days": 3})
    assert critique.accepted
    assert critique.codes == [IssueCode.UNGROUNDED_VALUE]
    issue = critique.calls[0].issues[0]
    assert (issue.severity, issue.argument) == ("warning", "city")
    assert critique.score == pytest.approx(0.9)
    assert critique.calls[0].ok and critique.calls[0].score == pytest.approx(0.9)
    assert 'The value "London" for `city` appears nowhere in the conversation' in critique.text


# ------------------------------------------------------------------------ leniency


@pytest.mark.parametrize(
    "args",
    [
        {"city": "Paris", "threshold": 25},  # int for float (BFCL)
        {"city": "Paris", "coords": [48, 2.35]},  # list for tuple, int items for float items
        {"city": "Paris", "coords": (48.85, 2.35)},  # a real tuple too
        {"city": "Paris", "stations": []},
    ],
)
def test_bfcl_leniency(args: dict[str, Any]) -> None:
    assert judge_one("get_weather", args, SchemaJudge(check_grounding=False)).accepted


def test_whole_float_for_integer_only_when_not_strict() -> None:
    args = {"city": "Paris", "days": 3.0}
    assert judge_one("get_weather", args).codes == [IssueCode.TYPE_MISMATCH]
    assert judge_one("get_weather", args, SchemaJudge(strict_integers=False)).accepted


@pytest.mark.parametrize(
    ("args", "ok"),
    [
        ({"query": "electric cars", "limit": None, "tag": None}, True),
        ({"query": "electric cars", "limit": 5, "tag": "ev"}, True),
        ({"query": "electric cars", "mode": "fast"}, True),
        ({"query": "electric cars", "mode": 2}, True),
        ({"query": "electric cars", "limit": "5"}, False),
        ({"query": "electric cars", "tag": 3}, False),
        ({"query": "electric cars", "mode": "slow"}, False),
    ],
)
def test_nullable_and_union_types(args: dict[str, Any], ok: bool) -> None:
    critique = judge_one("search", args, SchemaJudge(check_grounding=False))
    assert critique.accepted is ok
    if not ok:
        assert critique.codes in ([IssueCode.TYPE_MISMATCH], [IssueCode.ENUM_VIOLATION])


def test_optional_branch_reports_what_the_non_null_branch_wanted() -> None:
    critique = judge_one("search", {"query": "electric cars", "limit": "5"})
    assert "`limit` must be an integer, got string" in critique.text


def test_no_tools_means_nothing_to_check_against() -> None:
    ctx = context(tools=[])
    assert (
        SchemaJudge(check_grounding=False).critique(ctx, proposal(("anything", {"x": 1}))).accepted
    )


def test_langchain_tool_schema() -> None:
    from langchain_core.tools import tool

    @tool
    def book(room: str, nights: int | None = None) -> str:
        """Book a room."""
        return "ok"

    ctx = JudgeContext.build([Turn(role="user", content="Book the blue room")], [book])
    judge = SchemaJudge()
    assert judge.critique(ctx, proposal(("book", {"room": "blue room", "nights": None}))).accepted
    assert judge.critique(
        ctx, proposal(("book", {"room": "blue room", "nights": "two"}))
    ).codes == [IssueCode.TYPE_MISMATCH]


# ----------------------------------------------------------------------- grounding


@pytest.mark.parametrize(
    "args",
    [
        {"city": "PARIS", "days": 3},  # case-insensitive
        {"city": "Paris, FR", "days": 3},  # words of under three letters are not looked for
        {"city": "Paris", "days": 3, "threshold": 25.50},  # numbers as numbers
        {"city": "Paris", "unit": "fahrenheit"},  # an enum value comes from the schema
        {"city": "Paris", "unit": "celsius", "hourly": True},  # booleans are skipped
        {"city": "Paris", "days": 1},  # 0 and 1 are skipped
        {"city": "Pa"},  # short strings are skipped
    ],
)
def test_grounded_values_raise_no_warning(args: dict[str, Any]) -> None:
    critique = judge_one("get_weather", args)
    assert critique.accepted and critique.codes == [], critique.text


def test_number_normalisation() -> None:
    ctx = context(text="Lend 1,000 dollars at 5% for 2.0 years in Paris")
    judge = SchemaJudge()
    assert (
        judge.critique(ctx, proposal(("get_weather", {"city": "Paris", "threshold": 1000}))).codes
        == []
    )
    assert (
        judge.critique(ctx, proposal(("get_weather", {"city": "Paris", "threshold": 0.05}))).codes
        == []
    )
    assert judge.critique(ctx, proposal(("get_weather", {"city": "Paris", "days": 2}))).codes == []
    assert judge.critique(ctx, proposal(("get_weather", {"city": "Paris", "days": 7}))).codes == [
        IssueCode.UNGROUNDED_VALUE
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("charges of 1e-9 coulomb", 1e-9),
        ("a population of 213 million", 213_000_000),
        ("the next three days", 3),
        ("a dozen eggs", 12),
        ("roll it twice", 2),
        ("a tiny 2e-12 farad", 2e-12),
    ],
)
def test_numbers_in_other_spellings(text: str, value: float) -> None:
    ctx = context(text=f"Paris: {text}")
    assert (
        SchemaJudge()
        .critique(ctx, proposal(("get_weather", {"city": "Paris", "threshold": value})))
        .codes
        == []
    )


def test_tiny_numbers_are_not_rounded_to_zero() -> None:
    ctx = context(text="Paris at 0 degrees")
    critique = SchemaJudge().critique(
        ctx, proposal(("get_weather", {"city": "Paris", "threshold": 2e-12}))
    )
    assert critique.codes == [IssueCode.UNGROUNDED_VALUE]


def test_huge_numbers_do_not_break_the_judge() -> None:
    critique = judge_one("get_weather", {"city": "Paris", "days": 10**400, "threshold": 1e308})
    assert critique.accepted and critique.codes == [IssueCode.UNGROUNDED_VALUE] * 2


def test_snake_case_values_count_as_their_words() -> None:
    ctx = context(text="Predict car price from engine size in Paris")
    p = proposal(
        ("get_weather", {"city": "Paris", "stations": [{"id": "engine_size"}, {"id": "car-price"}]})
    )
    assert SchemaJudge().critique(ctx, p).codes == []


def test_default_values_are_not_checked() -> None:
    ctx = context(text="Weather in Paris please")
    assert (
        SchemaJudge()
        .critique(ctx, proposal(("get_weather", {"city": "Paris", "unit": "celsius"})))
        .codes
        == []
    )


def test_grounding_reads_tool_results_and_nested_values() -> None:
    ctx = JudgeContext.build(
        [
            Turn(role="user", content="Weather at the main station in Paris"),
            Turn(role="tool", content='{"station_id": "LFPG-042"}', tool_call_id="t1"),
        ],
        [WEATHER],
    )
    grounded = proposal(("get_weather", {"city": "Paris", "stations": [{"id": "LFPG-042"}]}))
    assert SchemaJudge().critique(ctx, grounded).codes == []
    invented = proposal(("get_weather", {"city": "Paris", "stations": [{"id": "ORLY-999"}]}))
    critique = SchemaJudge().critique(ctx, invented)
    assert critique.codes == [IssueCode.UNGROUNDED_VALUE]
    assert critique.calls[0].issues[0].argument == "stations[0].id"


def test_grounding_can_be_turned_off_and_tuned() -> None:
    args = {"city": "London", "days": 3}
    assert judge_one("get_weather", args, SchemaJudge(check_grounding=False)).codes == []
    assert judge_one("get_weather", {"city": "Paris Nord Station"}).codes == [
        IssueCode.UNGROUNDED_VALUE
    ]
    lenient = SchemaJudge(grounding_token_share=0.3)
    assert judge_one("get_weather", {"city": "Paris Nord Station"}, lenient).codes == []
    assert (
        judge_one("get_weather", {"city": "Rome"}, SchemaJudge(grounding_min_chars=5)).codes == []
    )


def test_no_grounding_without_a_conversation() -> None:
    ctx = JudgeContext.build([], [WEATHER])
    assert SchemaJudge().critique(ctx, proposal(("get_weather", {"city": "Tokyo"}))).codes == []


def test_calls_with_errors_are_not_also_checked_for_grounding() -> None:
    critique = judge_one("get_weather", {"city": "Tokyo", "unit": "kelvin"})
    assert critique.codes == [IssueCode.ENUM_VIOLATION]


# -------------------------------------------------------------------------- scores


def test_warnings_subtract_the_penalty_down_to_a_floor() -> None:
    args = {"city": "London", "days": 9, "threshold": 42.5}
    assert judge_one("get_weather", args).score == pytest.approx(0.7)
    assert judge_one("get_weather", args, SchemaJudge(warning_penalty=0.25)).score == pytest.approx(
        0.5
    )
    assert judge_one("get_weather", args, SchemaJudge(warning_penalty=0.0)).score == 1.0


def test_proposal_score_is_the_mean_of_its_calls_and_rejected_stay_below_accepted() -> None:
    judge = SchemaJudge()
    ctx = context()
    good = ("math.factorial", {"number": 5})
    warned = ("get_weather", {"city": "London"})
    bad = ("get_weather", {"city": "Paris", "unit": "kelvin"})
    mixed = judge.critique(ctx, proposal(good, warned))
    assert mixed.accepted and mixed.score == pytest.approx((1.0 + 0.9) / 2)
    one_bad = judge.critique(ctx, proposal(good, good[0:1] + ({"number": 3},), bad))
    all_bad = judge.critique(ctx, proposal(bad))
    assert not one_bad.accepted and one_bad.score == pytest.approx(0.5 * 2 / 3)
    assert all_bad.score == 0.0
    worst_accepted = judge.critique(
        ctx, proposal(("get_weather", {"city": "London", "days": 9, "threshold": 42.5}))
    )
    assert all_bad.score < one_bad.score < 0.5 <= worst_accepted.score


def test_compare_and_rank_use_the_scores() -> None:
    judge = SchemaJudge()
    ctx = context()
    clean = proposal(("get_weather", {"city": "Paris", "days": 3}))
    warned = proposal(("get_weather", {"city": "London", "days": 3}))
    broken = proposal(("get_weather", {"days": 3}))
    assert judge.compare(ctx, clean, broken).choice == 1
    assert judge.compare(ctx, broken, warned).choice == 2
    assert judge.compare(ctx, clean, clean).choice is None
    ranking = judge.rank(ctx, [broken, warned, clean])
    assert ranking.order == (2, 1, 0)
    assert ranking.judge == "schema"


async def test_async_twins_give_the_same_answers() -> None:
    judge = SchemaJudge()
    ctx = context()
    a = proposal(("get_weather", {"city": "Paris"}))
    b = proposal(("get_weather", {"town": "Paris"}))
    assert (await judge.acritique(ctx, b)).codes == judge.critique(ctx, b).codes
    assert (await judge.acompare(ctx, a, b)).choice == 1
    assert (await judge.arank(ctx, [b, a])).order == (1, 0)


# -------------------------------------------------------------------------- config


def test_config_is_frozen_and_overridable() -> None:
    judge = SchemaJudge()
    with pytest.raises(dataclasses.FrozenInstanceError):
        judge.expect_call = False  # type: ignore[misc]
    other = judge.override(expect_call=False, name="schema-lenient")
    assert (other.expect_call, other.name, judge.expect_call, judge.name) == (
        False,
        "schema-lenient",
        True,
        "schema",
    )
    assert other == SchemaJudge(expect_call=False, name="schema-lenient")


@pytest.mark.parametrize("kwargs", [{"warning_penalty": 1.5}, {"grounding_token_share": -0.1}])
def test_bad_config_is_a_clear_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be in"):
        SchemaJudge(**kwargs)


def test_critique_round_trips_through_json() -> None:
    from toolrm_agent.core.verdicts import Critique

    critique = judge_one("get_weather", {"days": "3", "city": "London"})
    assert Critique.model_validate_json(critique.model_dump_json()) == critique


def test_the_cache_follows_the_context() -> None:
    judge = SchemaJudge()
    p = proposal(("get_weather", {"city": "Tokyo"}))
    assert judge.critique(context(), p).codes == [IssueCode.UNGROUNDED_VALUE]
    assert judge.critique(context(text="Weather in Tokyo"), p).codes == []
    assert judge.critique(context(tools=[FACTORIAL_DOC]), p).codes == [IssueCode.UNKNOWN_FUNCTION]
