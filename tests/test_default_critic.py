"""``disc:default``: the shipped critic loads offline and judges (slow: builds the base model)."""

from __future__ import annotations

from typing import Any

import pytest

from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.specs import ToolSpec
from toolrm_agent.critics import default_critic_dir
from toolrm_agent.judges.loader import load_judge
from toolrm_agent.judges.trained.trained import CriticManifest, TrainedJudge

WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather of a city.",
    parameters={"type": "object",
                "properties": {"city": {"type": "string", "description": "City name"},
                               "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                "required": ["city"]},
)
CONTEXT = JudgeContext(turns=(Turn(role="user", content="What's the weather in Paris and in Berlin?"),),
                       tools=(WEATHER,))


def call(city: str, id: str = "c1") -> ToolCall:
    return ToolCall(id=id, name="get_weather", arguments={"city": city})


def test_the_shipped_critic_is_small_and_complete() -> None:
    path = default_critic_dir()
    manifest = CriticManifest.model_validate_json((path / "critic.json").read_text())
    assert manifest.metrics["val_accuracy"]["all"] > 0.8
    assert (path / "head.npz").stat().st_size < 5_000_000


@pytest.mark.slow
def test_disc_default_judges_offline() -> None:
    judge = load_judge("disc:default")
    assert isinstance(judge, TrainedJudge)
    right = Proposal(calls=(call("Paris"), call("Berlin", "c2")))
    one_missing = Proposal(calls=(call("Paris"),))
    invented = Proposal(calls=(call("Atlantis"), call("Berlin", "c2")))
    nothing = Proposal()
    ranking = judge.rank(CONTEXT, [one_missing, invented, right, nothing])
    assert ranking.best == 2
    critique = judge.critique(CONTEXT, invented)
    assert critique.score < ranking.scores[2]
    if not critique.accepted:
        assert "Atlantis" in critique.text
    pref = judge.compare(CONTEXT, right, one_missing)
    assert pref.choice == 1


@pytest.mark.slow
def test_disc_default_as_the_middle_of_a_cascade() -> None:
    judge = load_judge("cascade:schema,disc:default")
    unknown = Proposal(calls=(ToolCall(id="u", name="get_wether", arguments={"city": "Paris"}),))
    assert not judge.critique(CONTEXT, unknown).accepted  # schema rejects, the critic is not asked
    good = judge.critique(CONTEXT, Proposal(calls=(call("Paris"), call("Berlin", "c2"))))
    assert good.score > 0


def test_the_grounded_critic_is_two_tier_and_small() -> None:
    from toolrm_agent.critics import shipped_critic_dir

    path = shipped_critic_dir("grounded")
    top = CriticManifest.model_validate_json((path / "critic.json").read_text())
    lm = CriticManifest.model_validate_json((path / "lm" / "critic.json").read_text())
    assert top.second_stage == "lm" and top.route == "always" and top.base_model is None
    assert lm.lm_stats and lm.hidden == "none" and lm.base_model == "default" and lm.lm_tools == "called"
    assert lm.second_stage is None and lm.metrics["val_accuracy"]["all"] > 0.8
    assert sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) < 1_000_000


def test_grounded_without_its_second_tier_is_the_fast_critic() -> None:
    fast = load_judge("disc:default")
    grounded = load_judge("disc:grounded?route=never")
    proposal = Proposal(calls=(call("Paris"),))
    (logit,), _, _ = fast.logits(CONTEXT, [proposal])
    # the same head and the same calibration map (train/results/s6/calibrate*.sh): P(correct)
    assert fast.calibration is not None and grounded.calibration == fast.calibration
    assert fast.critique(CONTEXT, proposal).score == pytest.approx(fast.calibration(logit))
    assert grounded.critique(CONTEXT, proposal).score == pytest.approx(fast.critique(CONTEXT, proposal).score)
    assert grounded.threshold == fast.threshold


@pytest.mark.slow
def test_disc_grounded_reads_the_offline_lm() -> None:
    judge = load_judge("disc:grounded?threads=1")
    assert isinstance(judge, TrainedJudge) and judge.second is not None
    right = Proposal(calls=(call("Paris"), call("Berlin", "c2")))
    invented = Proposal(calls=(call("Atlantis"), call("Berlin", "c2")))
    a, b = judge.critique_many(CONTEXT, [right, invented])
    assert a.judge == b.judge == "disc:grounded?threads=1+lm"  # the second tier judged both
    assert a.usage.input_tokens > 0  # tokens the LM read
    assert a.score > b.score


CONVERT = ToolSpec(
    name="convert",
    description="Convert an amount of money from one currency to another (ISO codes).",
    parameters={"type": "object",
                "properties": {"amount": {"type": "number"}, "from_currency": {"type": "string"},
                               "to_currency": {"type": "string"}},
                "required": ["amount", "from_currency", "to_currency"]},
)


def test_a_half_covered_request_is_a_decisive_finding() -> None:
    """Issue 17: "250 dollars in euros and 40 pounds in yen" answered with one call."""
    from toolrm_agent.core.verdicts import IssueCode
    from toolrm_agent.judges.features import call_features

    one = Proposal(calls=(ToolCall(id="a", name="convert",
                                   arguments={"amount": 250, "from_currency": "USD", "to_currency": "EUR"}),))
    joined = JudgeContext(turns=(Turn(role="user", content="250 dollars in euros and 40 pounds in yen"),),
                          tools=(CONVERT,))
    found = [f for f in call_features(joined, one).findings if f.code == IssueCode.UNCOVERED_REQUEST]
    assert found and found[0].decisive and "40" in found[0].message
    # one request, a number the call leaves out: a finding for the score, not a veto
    single = JudgeContext(turns=(Turn(role="user", content="250 dollars in euros, rate of 2024"),),
                          tools=(CONVERT,))
    assert not any(f.decisive for f in call_features(single, one).findings)


def test_a_call_that_breaks_its_tools_schema_is_a_decisive_finding() -> None:
    """An enum value the tool does not allow, an unknown function, a missing required argument: the
    call fails when it runs, so the critic rejects it whatever its score. A repeated call only counts."""
    from toolrm_agent.core.verdicts import IssueCode
    from toolrm_agent.judges.features import DECISIVE_SCHEMA_CODES, call_features

    def decisive(*calls: ToolCall) -> set[IssueCode]:
        return {f.code for f in call_features(CONTEXT, Proposal(calls=calls)).findings if f.decisive}

    kelvin = ToolCall(id="a", name="get_weather", arguments={"city": "Paris", "unit": "kelvin"})
    assert decisive(kelvin) == {IssueCode.ENUM_VIOLATION}
    assert decisive(ToolCall(id="a", name="get_forecast", arguments={"city": "Paris"})) == {
        IssueCode.UNKNOWN_FUNCTION}
    assert decisive(ToolCall(id="a", name="get_weather", arguments={})) == {IssueCode.MISSING_REQUIRED}
    assert decisive(call("Paris", "a"), call("Berlin", "b")) == set()
    assert decisive(call("Paris", "a"), call("Paris", "b")) == set()  # a repeat: counted, not a veto
    assert IssueCode.DUPLICATE_CALL not in DECISIVE_SCHEMA_CODES


@pytest.mark.slow
def test_disc_default_rejects_a_schema_error_whatever_its_score() -> None:
    from toolrm_agent.core.verdicts import IssueCode

    judge = TrainedJudge("default", threshold=0.0)  # every score accepted, but for the veto
    kelvin = Proposal(calls=(ToolCall(id="a", name="get_weather", arguments={"city": "Paris", "unit": "kelvin"}),
                             call("Berlin", "b")))
    critique = judge.critique(CONTEXT, kelvin)
    assert not critique.accepted and IssueCode.ENUM_VIOLATION in critique.codes
    assert "does not fit its tool's schema" in critique.text and "kelvin" in critique.text
    assert judge.critique(CONTEXT, Proposal(calls=(call("Paris", "a"), call("Berlin", "b")))).accepted


@pytest.mark.parametrize(
    ("request_text", "arguments"),
    [  # right answers of the demo's tasks that the veto once sent into a retry loop
        ("Calculate the hypotenuse of a right triangle given the lengths of the other two sides as 4 and 5.",
         {"x": 4, "y": 5}),
        ("Compute the Euclidean distance between two points A(3,4) and B(1,2).", {"x": [3, 4], "y": [1, 2]}),
        ("Displacement of a car at an initial speed of 20 m/s and then accelerates at 10 m/s^2 for 5 seconds?",
         {"x": 20, "y": 10, "time": 5}),
        ("What is the year over year growth rate for company 'Tech Inc' with revenues of $1M in 2019 and $1.2M in "
         "2020?", {"x": "Tech Inc", "y": 2019, "y1": 1000000, "y2": 2020, "y3": 1200000}),
        ("Revenue of $1 million in 2019 and $1.2 million in 2020?", {"a": 2019, "b": 1000000, "c": 2020, "d": 1200000}),
    ],
)
def test_numbers_not_written_as_values_never_veto(request_text: str, arguments: dict[str, Any]) -> None:
    from toolrm_agent.judges.features import call_features

    tool = ToolSpec(name="f", description="A function.",
                    parameters={"type": "object", "properties": {k: {} for k in arguments}})
    proposal = Proposal(calls=(ToolCall(id="a", name="f", arguments=arguments),))
    context = JudgeContext(turns=(Turn(role="user", content=request_text),), tools=(tool,))
    assert not any(f.decisive for f in call_features(context, proposal).findings)


@pytest.mark.slow
def test_disc_default_rejects_a_half_covered_request() -> None:
    from toolrm_agent.core.verdicts import IssueCode

    judge = load_judge("disc:default")
    one = Proposal(calls=(ToolCall(id="a", name="convert",
                                   arguments={"amount": 250, "from_currency": "USD", "to_currency": "EUR"}),))
    context = JudgeContext(turns=(Turn(role="user", content="How much is 250 dollars in euros and 40 pounds in yen?"),),
                           tools=(CONVERT,))
    critique = judge.critique(context, one)
    assert not critique.accepted and IssueCode.UNCOVERED_REQUEST in critique.codes
    assert "40" in critique.text


def test_a_score_just_below_the_threshold_is_shown_with_the_digit_that_decides() -> None:
    from toolrm_agent.judges.trained.trained import critique_text

    proposal = Proposal(calls=(ToolCall(id="a", name="f", arguments={}),))
    assert critique_text(proposal, 0.7512, 0.7540, []).startswith(
        "The critic scored this proposal 0.751 (it accepts from 0.754)."
    )
    shown = "The critic scored this proposal 0.63 (it accepts from 0.75)."
    assert critique_text(proposal, 0.63, 0.75, []).startswith(shown)
