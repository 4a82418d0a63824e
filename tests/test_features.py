"""The trained critic's call features and findings (``toolrm_agent.judges.features``)."""

from __future__ import annotations

from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.specs import ToolSpec
from toolrm_agent.core.verdicts import IssueCode
from toolrm_agent.judges.features import FEATURE_NAMES, call_features
from toolrm_agent.judges.relevance import POOR_FIT, relevance_findings, request_text
from toolrm_agent.judges.trained.trained import critique_text

WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather of a city.",
    parameters={"type": "object",
                "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
                "required": ["city"]},
)


def ctx(text: str, *earlier: str) -> JudgeContext:
    turns = [Turn(role="user", content=t) for t in (*earlier, text)]
    return JudgeContext(turns=tuple(turns), tools=(WEATHER,))


def weather(*cities: str) -> Proposal:
    return Proposal(calls=tuple(ToolCall(id=f"c{i}", name="get_weather", arguments={"city": c})
                                for i, c in enumerate(cities)))


def value(features, name: str) -> float:
    return features.values[FEATURE_NAMES.index(name)]


def codes(features) -> list[IssueCode]:
    return [f.code for f in features.findings]


def test_a_missing_parallel_call_is_an_uncovered_entity_named_as_written() -> None:
    context = ctx("What's the weather in Paris and in New York?")
    one = call_features(context, weather("Paris"))
    both = call_features(context, weather("Paris", "New York"))
    assert IssueCode.UNCOVERED_REQUEST in codes(one)
    message = next(f.message for f in one.findings if f.code == IssueCode.UNCOVERED_REQUEST)
    assert "'New York'" in message and "what" not in message.lower().split("names")[1].split(",")[0]
    assert IssueCode.UNCOVERED_REQUEST not in codes(both)  # "What's" is not a name
    assert value(one, "uncovered") > value(both, "uncovered") == 0.0
    assert value(one, "calls_minus_cues") < value(both, "calls_minus_cues")


def test_an_invented_value_is_ungrounded_and_said_so() -> None:
    features = call_features(ctx("Weather in Paris?"), weather("Atlantis"))
    assert value(features, "ungrounded") > 0
    finding = next(f for f in features.findings if f.code == IssueCode.UNGROUNDED_VALUE)
    assert "'Atlantis'" in finding.message and finding.call == "get_weather"
    assert value(call_features(ctx("Weather in Paris?"), weather("Paris")), "ungrounded") == 0


def test_schema_errors_are_counted_and_no_call_is_flagged() -> None:
    bad = Proposal(calls=(ToolCall(id="x", name="get_wether", arguments={"city": "Paris"}),))
    features = call_features(ctx("Weather in Paris?"), bad)
    assert value(features, "err_unknown_function") == 1 and value(features, "any_error") > 0
    nothing = call_features(ctx("Weather in Paris?"), Proposal())
    assert value(nothing, "no_call") == 1 and IssueCode.NO_CALL in codes(nothing)


def test_relevance_reads_every_user_turn_and_words_the_verdict() -> None:
    assert request_text(ctx("yes, at 5pm", "Book a table in Rome")) == "Book a table in Rome\nyes, at 5pm"
    low = relevance_findings(weather("Paris"), (POOR_FIT - 0.1, 0.1, 0.5, 0.4, 0.0), {"get_weather": 0.1})
    assert low[0].code == IssueCode.IRRELEVANT_CALL and "answer in words" in low[0].message
    should_call = relevance_findings(Proposal(), (0.0, 0.0, 0.6, 0.0, 0.6), {"get_weather": 0.6})
    assert should_call[0].code == IssueCode.NO_CALL and "`get_weather`" in should_call[0].message


def test_critique_text_puts_schema_errors_first() -> None:
    features = call_features(ctx("What's the weather in Paris and Berlin?"),
                             Proposal(calls=(ToolCall(id="x", name="get_wether", arguments={"city": "Rome"}),)))
    text = critique_text(weather("Rome"), 0.2, 0.7, features.findings)
    lines = text.splitlines()
    assert lines[0].startswith("The critic scored this proposal 0.20")
    assert "did you mean `get_weather`" in lines[1] and len(lines) <= 5


def test_a_megabyte_request_is_read_within_the_prompt_budget() -> None:
    """The request features read what the judge prompt holds (head and tail of a long
    message, :class:`~toolrm_agent.prompting.prompt_text.PromptBudget`), never the megabyte in the
    middle, and the cut marker's count is not read as a number of the request."""
    from toolrm_agent.judges.generative.templates import pointwise_messages
    from toolrm_agent.prompting.prompt_text import DEFAULT_PROMPT_BUDGET, message_in_budget

    filler = "lorem ipsum dolor sit amet " * 40_000
    hidden = " and 17 more, 42 and 'Oslo' and Bergen, " * 10  # in the middle: cut
    long = f"Weather in Paris and Rome? {filler}{hidden}{filler} Thanks, that is all."
    view = message_in_budget(long)
    assert len(view) <= DEFAULT_PROMPT_BUDGET.message + 3 and view.endswith("Thanks, that is all.")
    assert "17" not in view and "Oslo" not in view and not any(ch.isdigit() for ch in view)
    prompt = str(pointwise_messages(ctx(long), weather("Paris"))[1].content)
    assert view.split("\n…\n")[0] in prompt and view.split("\n…\n")[1] in prompt  # what the judge sees
    got, want = call_features(ctx(long), weather("Paris")), call_features(ctx(view), weather("Paris"))
    assert got.values == want.values
    said = " ".join(f.message for f in got.findings)
    assert value(got, "request_numbers") == 0.0 and "Oslo" not in said
    assert "'Rome'" in said  # the head is read: Rome is uncovered
    assert request_text(ctx(long)).startswith("Weather in Paris and Rome?")
    assert len(request_text(ctx(long))) <= 2000


def test_a_request_within_the_budget_is_read_whole() -> None:
    from toolrm_agent.prompting.prompt_text import message_in_budget

    text = "Weather in Paris and 'Oslo', 3 days? " * 400  # about 15k characters
    assert message_in_budget(text) is text
    assert value(call_features(ctx(text), weather("Paris")), "request_numbers") > 0
