"""The consensus term of best-of-N: how proposals agree, and how the pick uses it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes import ASK, ScriptedChatModel, ScriptedJudge, critic_app, recording_tools, run_graph, tool_call_message
from toolrm_agent import CriticOptions, ToolRMCritic
from toolrm_agent.core.agreement import agreement_scores, consensus_pick, proposal_agreement
from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.critic.node import build_agent_graph


def prop(*calls: tuple[str, dict[str, Any]]) -> Proposal:
    return Proposal(calls=tuple(ToolCall(name=n, arguments=a) for n, a in calls))


NONE = Proposal(content="I cannot help with that.")


def test_identical_proposals_agree_fully_and_different_functions_not_at_all() -> None:
    a = prop(("get_weather", {"city": "Paris"}))
    assert proposal_agreement(a, prop(("get_weather", {"city": " paris "}))) == 1.0
    assert proposal_agreement(a, prop(("get_time", {"city": "Paris"}))) == 0.0
    assert proposal_agreement(NONE, Proposal(content="No.")) == 1.0
    assert proposal_agreement(NONE, a) == 0.0


def test_agreement_counts_argument_names_either_call_uses() -> None:
    a = prop(("f", {"x": 1, "y": "a"}))
    assert proposal_agreement(a, prop(("f", {"x": 1.0, "y": "b"}))) == 0.5
    assert proposal_agreement(a, prop(("f", {"x": 1, "y": "a", "z": True}))) == pytest.approx(2 / 3)
    # parallel calls are matched by function, whatever their order; a missing call counts 0
    two = prop(("f", {"x": 1}), ("g", {"y": [1, 2]}))
    assert proposal_agreement(two, prop(("g", {"y": [1, 2]}), ("f", {"x": 1}))) == 1.0
    assert proposal_agreement(two, prop(("f", {"x": 1}))) == 0.5


values = st.one_of(st.integers(-3, 3), st.sampled_from(["a", "B", " a"]), st.booleans())
proposals = st.lists(
    st.tuples(st.sampled_from(["f", "g"]), st.dictionaries(st.sampled_from(["x", "y"]), values, max_size=2)),
    max_size=3,
).map(lambda calls: prop(*calls))


@given(proposals, proposals)
def test_agreement_is_symmetric_and_in_the_unit_interval(a: Proposal, b: Proposal) -> None:
    ab = proposal_agreement(a, b)
    assert 0.0 <= ab <= 1.0
    assert ab == pytest.approx(proposal_agreement(b, a))
    assert proposal_agreement(a, a) == 1.0


def test_copies_count_as_samples() -> None:
    paris, lyon = prop(("get_weather", {"city": "Paris"})), prop(("get_weather", {"city": "Lyon"}))
    assert agreement_scores([paris, lyon]) == [0.0, 0.0]
    assert agreement_scores([paris, lyon], [3, 1]) == [pytest.approx(2 / 3), 0.0]
    assert agreement_scores([paris]) == [0.0]
    with pytest.raises(ConfigurationError):
        agreement_scores([paris, lyon], [1])


def test_the_pick_keeps_the_verdict_first_and_lets_agreement_break_close_scores() -> None:
    a, b = prop(("f", {"x": 1})), prop(("f", {"x": 2}))
    pool = [a, b, b]
    assert consensus_pick(pool, [0.8, 0.7, 0.7], 0.0) == 0
    assert consensus_pick(pool, [0.8, 0.7, 0.7], 0.3) == 1  # 0.7 + 0.3 * 0.5 beats 0.8 + 0
    # a rejected candidate never wins over an accepted one, however many agree with it
    assert consensus_pick(pool, [0.8, 0.7, 0.7], 10.0, tiers=[0, 1, 1]) == 0
    with pytest.raises(ConfigurationError):
        consensus_pick(pool, [0.8], 0.3)


def test_consensus_is_validated_at_construction() -> None:
    assert CriticOptions().consensus == 0.0  # off unless asked for
    with pytest.raises(ConfigurationError):
        CriticOptions(consensus=-1)
    with pytest.raises(ConfigurationError):
        CriticOptions(consensus="high")  # type: ignore[arg-type]


PARIS_FR = ("get_weather", {"city": "Paris, FR"})
PARIS = ("get_weather", {"city": "Paris"})
LYON = ("get_weather", {"city": "Lyon"})


def score(p: Proposal) -> float:
    return {"Paris, FR": 0.75, "Paris": 0.7, "Lyon": 0.6}[p.calls[0].arguments["city"]]


@pytest.mark.parametrize(("consensus", "winner"), [(0.0, "Paris, FR"), (0.3, "Paris")])
async def test_best_of_n_picks_what_the_samples_agree_on(kind: str, consensus: float, winner: str, how: str) -> None:
    """Four proposals, all accepted: the lone best-scored one wins alone; with consensus the
    one two samples share (0.7 + 0.3 * 1/3 > 0.75) wins, judged once."""
    tools, executed = recording_tools()
    model = ScriptedChatModel(
        script=[tool_call_message(PARIS_FR), tool_call_message(PARIS), tool_call_message(PARIS),
                tool_call_message(LYON), "Sunny."]
    )
    judge = ScriptedJudge(score_of=score)
    await run_graph(critic_app(kind, model, tools, judge, mode="best_of_n", n=4, consensus=consensus), how)
    assert executed == [("get_weather", {"city": winner})]
    assert len(judge.seen) == 3  # the identical samples were judged once


@pytest.mark.parametrize(("consensus", "winner"), [(0.0, "Paris, FR"), (0.3, "Paris")])
def test_resample_picks_among_the_new_samples_by_consensus_too(consensus: float, winner: str) -> None:
    """The proposal is rejected (no city), so three samples are drawn; the pick among them
    follows the same rule as best-of-N."""
    tools, executed = recording_tools()
    model = ScriptedChatModel(
        script=[tool_call_message(("get_weather", {"town": "Paris"})), tool_call_message(PARIS_FR),
                tool_call_message(PARIS), tool_call_message(PARIS), "Sunny."]
    )
    judge = ScriptedJudge(score_of=lambda p: score(p) if "city" in p.calls[0].arguments else 0.1)
    critic = ToolRMCritic(judge, mode="resample", n=4, consensus=consensus)
    build_agent_graph(model, tools, critic).invoke(ASK)
    assert executed == [("get_weather", {"city": winner})]
