"""Prompt templates and answer parsers of the generative judge."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from tests.fakes import weather_tool
from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.thinking import strip_thinking
from toolrm_agent.judges.generative.answers import normalize_score, parse_choice, parse_verdict
from toolrm_agent.judges.generative.templates import (
    DEFAULT_TEMPLATES,
    JudgeTemplates,
    PromptTemplate,
    pairwise_messages,
    pointwise_messages,
)
from toolrm_agent.prompting.prompt_text import render_conversation

WEATHER = weather_tool(unit={"type": "string", "enum": ["celsius", "fahrenheit"]})


@pytest.fixture
def context() -> JudgeContext:
    return JudgeContext.build(
        [
            Turn(role="system", content="You are a helpful assistant."),
            Turn(role="user", content="What's the weather in Paris, in celsius?"),
        ],
        [WEATHER],
    )


def _proposal(city: str, **extra: object) -> Proposal:
    return Proposal(calls=(ToolCall(name="get_weather", arguments={"city": city, **extra}),))


# -- templates ---------------------------------------------------------------------------


def test_pairwise_prompt_shows_tools_conversation_and_both_responses(context: JudgeContext) -> None:
    messages = pairwise_messages(context, _proposal("Paris"), _proposal("London"))
    assert [type(m) for m in messages] == [SystemMessage, HumanMessage]
    user = messages[1].content
    assert '"name": "get_weather"' in user and '"enum": [' in user  # the schema itself
    assert "What's the weather in Paris, in celsius?" in user
    assert user.index("## Response 1") < user.index('"Paris"') < user.index("## Response 2")
    assert user.index("## Response 2") < user.index('"London"')
    assert "<choice>1</choice>" in user and "<choice>2</choice>" in user
    for criterion in ("Function choice", "schema", "Grounding", "Completeness"):
        assert criterion in messages[0].content


def test_thinking_and_plain_variants_differ_only_in_instructions(context: JudgeContext) -> None:
    plain = pairwise_messages(context, _proposal("Paris"), _proposal("Rome"), thinking=False)
    thinking = pairwise_messages(context, _proposal("Paris"), _proposal("Rome"), thinking=True)
    assert plain[0].content == thinking[0].content
    assert plain[1].content != thinking[1].content
    assert "at most one sentence" in plain[1].content
    assert "First check both responses" in thinking[1].content
    point_plain = pointwise_messages(context, _proposal("Paris"), thinking=False)[1].content
    point_think = pointwise_messages(context, _proposal("Paris"), thinking=True)[1].content
    assert "nothing else" in point_plain and "First check the proposal" in point_think
    for text in (point_plain, point_think):
        assert "<verdict>correct</verdict>" in text and "<critique>" in text


def test_proposals_that_mean_the_same_render_the_same(context: JudgeContext) -> None:
    a = Proposal(
        calls=(
            ToolCall(id="x", name="get_weather", arguments={"unit": "celsius", "city": "Paris"}),
        )
    )
    b = Proposal(
        calls=(
            ToolCall(id="y", name="get_weather", arguments={"city": "Paris", "unit": "celsius"}),
        )
    )
    assert pointwise_messages(context, a)[1].content == pointwise_messages(context, b)[1].content


def test_pointwise_prompt_shows_broken_calls_and_text_replies(context: JudgeContext) -> None:
    broken = Proposal(
        failures=(ParseFailure(name="get_weather", raw='{"city": Paris', reason="bad JSON"),)
    )
    text = pointwise_messages(context, broken)[1].content
    assert '{"city": Paris' in text and "bad JSON" in text
    reply = Proposal(content="I cannot check the weather.")
    assert "I cannot check the weather." in pointwise_messages(context, reply)[1].content


def test_conversation_renders_calls_tool_results_and_clips_long_turns() -> None:
    turns = [
        Turn(role="user", content="weather in Oslo?"),
        Turn(
            role="assistant",
            tool_calls=(ToolCall(id="c1", name="get_weather", arguments={"city": "Oslo"}),),
        ),
        Turn(role="tool", content="x" * 50, tool_call_id="c1"),
    ]
    text = render_conversation(turns, max_chars=10)
    assert "[user]\nweather in Oslo?" in text
    assert (
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>' in text
    )
    assert (
        "[tool result for c1]" in text and "x" * 11 not in text and "40 more characters cut" in text
    )
    assert render_conversation([]) == "(empty conversation)"


def test_braces_in_schemas_do_not_break_formatting() -> None:
    ctx = JudgeContext.build([Turn(role="user", content="use {placeholders} please")], [WEATHER])
    text = pointwise_messages(ctx, _proposal("{city}"))[1].content
    assert "use {placeholders} please" in text and '"{city}"' in text


def test_templates_are_replaceable_data(context: JudgeContext) -> None:
    mine = DEFAULT_TEMPLATES.override(
        pairwise=PromptTemplate("SYS", "A={response_1} B={response_2}")
    )
    assert isinstance(mine, JudgeTemplates) and mine.pointwise is DEFAULT_TEMPLATES.pointwise
    messages = pairwise_messages(context, _proposal("Paris"), _proposal("Rome"), templates=mine)
    assert messages[0].content == "SYS"
    assert messages[1].content.startswith(
        'A=<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}'
    )


# -- parse_choice ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<choice>1</choice>", 1),
        ("<choice>2</choice>", 2),
        ("<choice>\n2\n</choice>", 2),  # the ToolRM-Gen training format
        ("Response 1 has the wrong unit.\n<choice>2</choice>", 2),
        ("<choice>1</choice> on second thought <choice>2</choice>", 2),  # last wins
        ("<think>maybe <choice>1</choice></think>\n<choice>2</choice>", 2),  # think ignored
        ("<CHOICE> Response 1 </CHOICE>", 1),
    ],
)
def test_parse_choice_strict(text: str, expected: int) -> None:
    assert parse_choice(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Response 1 is better.", 1),
        ("Response 1 is incorrect because of the unit. Therefore Response 2 is better.", 2),
        ("Response 2 is clearly better than Response 1", 2),
        ("The final answer is \\boxed{1}", 1),
        ("\\boxed{\\text{Response 2}}", 2),
        ("choice: 2", 2),
        ("Final answer: Response 1", 1),
        ("I prefer Response 2.", 2),
        ("The better response is Response 1.", 1),
        ("**2**", 2),
        ("1", 1),
        ("<choice>2", 2),  # unclosed tag (generation cut at a stop sequence)
    ],
)
def test_parse_choice_lenient(text: str, expected: int) -> None:
    assert parse_choice(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "Both responses call get_weather.",
        "<choice>3</choice>",
        "<think>Response 1 is better. <choice>1</choice>",  # unclosed reasoning: no answer yet
        "The score is 1.5 out of 2",
        "tok tok tok 12 999 ,,,,",
    ],
)
def test_parse_choice_unparseable(text: str | None) -> None:
    assert parse_choice(text) is None


def test_parse_choice_after_long_toolrm_style_reasoning() -> None:
    reasoning = (
        "Let me analyse both responses. The user asks for the weather in Paris in celsius. "
        "Response 1 calls get_weather with city Paris, but Response 1 is better at nothing: "
        "<choice>1</choice> would be wrong since the unit is missing. " * 40
    )
    # Qwen3 thinking template: the opening <think> is in the prompt, only </think> is generated
    assert parse_choice(f"{reasoning}</think>\n\n<choice>2</choice>") == 2
    assert parse_choice(f"<think>\n{reasoning}\n</think>\n\n<choice>\n2\n</choice>") == 2
    assert parse_choice(f"{reasoning}\nSo the answer: <choice>2</choice>") == 2


def test_strip_thinking() -> None:
    assert strip_thinking("<think>a</think>b").strip() == "b"
    assert strip_thinking("a</think>b") == "b"
    assert strip_thinking("<think>never closed").strip() == ""
    assert strip_thinking("plain") == "plain"


# -- parse_verdict -----------------------------------------------------------------------


def test_parse_verdict_strict() -> None:
    v = parse_verdict(
        "<think>it is <verdict>correct</verdict></think>\n<verdict>incorrect</verdict>\n"
        "<score>0.2</score>\n<critique>unit must be 'celsius', not 'kelvin'</critique>"
    )
    assert v.accepted is False and v.score == pytest.approx(0.2)
    assert v.critique == "unit must be 'celsius', not 'kelvin'"
    ok = parse_verdict("<verdict> Correct </verdict><critique></critique>")
    assert ok.accepted is True and ok.critique == "" and ok.score is None


def test_parse_verdict_last_tag_wins_and_synonyms() -> None:
    assert (
        parse_verdict("<verdict>incorrect</verdict> ... <verdict>correct</verdict>").accepted
        is True
    )
    assert parse_verdict("<verdict>reject</verdict>").accepted is False
    assert parse_verdict("<verdict>yes</verdict>").accepted is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CORRECT", True),
        ("INCORRECT. The city is wrong.", False),
        ("The answer is incorrect: Paris was asked, London was called.", False),
        ("The function call is correct.", True),
        ("The calls are not correct.", False),
        ("Verdict: **incorrect**", False),
        ("\\boxed{correct}", True),
        ("correct", True),
        ("<verdict>incorrect", False),
    ],
)
def test_parse_verdict_lenient(text: str, expected: bool) -> None:
    assert parse_verdict(text).accepted is expected


@pytest.mark.parametrize(
    "text", [None, "", "hmm", "<verdict>maybe</verdict>", "<think>CORRECT</think>"]
)
def test_parse_verdict_unparseable(text: str | None) -> None:
    assert parse_verdict(text).accepted is None


def test_parse_verdict_lenient_critique_is_the_answer_without_tags() -> None:
    v = parse_verdict("INCORRECT. Use unit='celsius'.\n<score>3/10</score>")
    assert v.accepted is False and v.score == pytest.approx(0.3)
    assert v.critique == "INCORRECT. Use unit='celsius'."


@pytest.mark.parametrize(
    ("value", "scale", "expected"),
    [
        (0.7, None, 0.7),
        (7, None, 0.7),
        (85, None, 0.85),
        (3, 5, 0.6),
        (-1, None, 0.0),
        (500, None, 1.0),
    ],
)
def test_normalize_score(value: float, scale: float | None, expected: float) -> None:
    assert normalize_score(value, scale) == pytest.approx(expected)


# -- answers built to stall a backtracking parser: they must parse (these took up to 40 s)


@pytest.mark.parametrize(
    "text",
    [
        "<verdict>" + "\n" * 100_000,
        "<choice>" + " " * 100_000,
        "<verdict>" * 30_000 + "x",
        "<critique>" * 30_000,
        "<think>" * 30_000,
        "<score>" + " " * 50_000,
        "verdict:" + " " * 100_000 + "x",
        "Response 1" + " " * 100_000 + "is better",
    ],
)
def test_pathological_answers_parse_to_nothing(text: str) -> None:
    assert parse_choice(text) is None
    assert parse_verdict(text).accepted is None


def test_a_verdict_after_a_megabyte_of_noise_is_still_read() -> None:
    noise = "blah " * 200_000
    assert parse_verdict(noise + "<verdict>incorrect</verdict>").accepted is False
    assert parse_choice(noise + "<choice>2</choice>") == 2
    assert parse_verdict("<verdict>\n\n  correct \n</verdict><score> 7 / 10 </score>").score == 0.7
