"""TRBench scoring rules, judge evaluation and the report, with hand-written fake judges."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from eval.commands.trbench import (
    PairOutcome,
    evaluate,
    pairwise_outcome,
    pointwise_correct,
    summarize,
    votes_from_preferences,
)
from eval.pairs import Pair, is_pairwise
from tests.fakes import FirstChoiceJudge
from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.errors import JudgeParseError
from toolrm_agent.core.verdicts import Critique, Preference, TokenUsage
from toolrm_agent.judges.base import BaseJudge
from toolrm_agent.judges.schema import SchemaJudge

# -- the pure rules -------------------------------------------------------------------------


def test_pairwise_rule_needs_both_orders_right() -> None:
    assert pairwise_outcome(["chosen", "chosen"]) == (True, True)
    assert pairwise_outcome(["chosen", "rejected"]) == (False, False)  # position bias
    assert pairwise_outcome(["rejected", "rejected"]) == (False, True)
    assert pairwise_outcome(["chosen", None]) == (False, False)
    assert pairwise_outcome(["chosen"]) == (False, None)  # one order is never enough
    assert pairwise_outcome([]) == (False, None)


def test_pointwise_rule_is_strict() -> None:
    assert pointwise_correct(0.9, 0.1)
    assert not pointwise_correct(0.5, 0.5)  # a tie is wrong
    assert not pointwise_correct(0.1, 0.9)


def test_votes_from_preferences() -> None:
    one = Preference(choice=1, judge="j")
    swapped_says_1 = Preference(choice=1, judge="j")
    assert votes_from_preferences(one, swapped_says_1) == ["chosen", "rejected"]
    assert votes_from_preferences(one, Preference(choice=2, judge="j")) == ["chosen", "chosen"]
    assert votes_from_preferences(Preference(choice=None, judge="j")) == [None]
    # a judge that asked both orders itself reports votes in the (a, b) numbering
    both = Preference(choice=None, judge="j", votes=(1, 2), consistent=False)
    assert votes_from_preferences(both, swapped_says_1) == ["chosen", "rejected"]


# -- fakes ----------------------------------------------------------------------------------

GOOD = Proposal(calls=(ToolCall(name="f", arguments={"x": 1}),))


def _pair(i: int, category: str = "simple_python", error: str = "value_error:integer") -> Pair:
    ctx = JudgeContext.build(
        [Turn(role="user", content=f"call f with x=1 ({i})")],
        [
            {
                "name": "f",
                "description": "",
                "parameters": {"type": "dict", "properties": {"x": {"type": "integer"}}},
            }
        ],
    )
    bad = Proposal(calls=(ToolCall(name="f", arguments={"x": 100 + i}),))
    return Pair(
        id=f"q{i}#x",
        question_id=f"q{i}",
        category=category,
        error_type=error,
        model=f"m{i % 2}",
        context=ctx,
        chosen=GOOD,
        rejected=bad,
    )


PAIRS = [
    _pair(0),
    _pair(1),
    _pair(2, "parallel", "parallel:wrong_count"),
    _pair(3, "irrelevance", "irr"),
]


class Oracle(FirstChoiceJudge):
    """Knows the answer: prefers GOOD whichever position it is in."""

    name = "oracle"

    def compare(self, context, a, b):  # noqa: ANN001, ANN201
        self._calls += 1
        return Preference(choice=1 if a == GOOD else 2, judge=self.name)


class BothOrders(FirstChoiceJudge):
    """Asks both orders itself (like GenerativeJudge); scripted votes per pair."""

    name = "both"

    def __init__(self, votes: dict[str, tuple]) -> None:
        super().__init__()
        self.votes = votes

    def compare(self, context, a, b):  # noqa: ANN001, ANN201
        self._calls += 1
        votes = self.votes[context.user_request]
        status = "unparseable" if None in votes else "ok"
        return Preference(choice=None, judge=self.name, votes=votes, status=status)


class Scorer(BaseJudge):
    """A pointwise judge with a score function."""

    def __init__(self, score, name: str = "scorer") -> None:  # noqa: ANN001
        self.score, self.name = score, name

    def critique(self, context, proposal):  # noqa: ANN001, ANN201
        return Critique(
            accepted=True,
            score=self.score(proposal),
            judge=self.name,
            usage=TokenUsage(input_tokens=3),
        )


# -- evaluation -----------------------------------------------------------------------------


def test_position_biased_judge_scores_zero() -> None:
    judge = FirstChoiceJudge()
    assert is_pairwise(judge)
    outcomes = evaluate(judge, PAIRS)
    assert judge.calls == 2 * len(PAIRS)  # both orders asked
    report = summarize(outcomes, judge="always-1", comparison="pairwise", seconds=1.0)
    assert report["w_avg"] == 0.0 and report["avg"] == 0.0
    assert report["position_agreement"] == 0.0
    assert report["tokens"] == {"prompt": 80, "completion": 16}


def test_oracle_judge_scores_one() -> None:
    outcomes = evaluate(Oracle(), PAIRS)
    assert all(o.correct and o.agreed for o in outcomes)
    assert summarize(outcomes, judge="o", comparison="pairwise", seconds=2.0)["position_agreement"] == 1.0


def test_judge_that_asks_both_orders_is_asked_once() -> None:
    votes = {
        p.context.user_request: v
        for p, v in zip(PAIRS, [(1, 1), (1, 2), (2, 2), (1, None)], strict=True)
    }
    judge = BothOrders(votes)
    outcomes = evaluate(judge, PAIRS)
    assert judge.calls == len(PAIRS)
    assert [o.correct for o in outcomes] == [True, False, False, False]
    assert [o.agreed for o in outcomes] == [True, False, True, False]
    report = summarize(outcomes, judge="both", comparison="pairwise", seconds=1.0)
    assert report["parse_failures"] == 1
    assert report["position_agreement"] == 0.5


def test_pointwise_ties_are_wrong() -> None:
    constant = Scorer(lambda p: 0.5)
    assert not is_pairwise(constant)
    outcomes = evaluate(constant, PAIRS)
    assert not any(o.correct for o in outcomes)
    assert all(o.scores == (0.5, 0.5) for o in outcomes)
    right = evaluate(Scorer(lambda p: 1.0 if p == GOOD else 0.0), PAIRS)
    assert all(o.correct for o in right)
    report = summarize(right, judge="s", comparison="pointwise", seconds=0.5)
    assert report["position_agreement"] is None
    assert report["tokens"]["prompt"] == 6 * len(PAIRS)


def test_judge_errors_count_as_wrong_and_do_not_stop_the_run() -> None:
    class Flaky(Scorer):
        def critique(self, context, proposal):  # noqa: ANN001, ANN201
            if "(1)" in context.user_request:
                raise JudgeParseError("no verdict")
            return super().critique(context, proposal)

    outcomes = evaluate(Flaky(lambda p: 1.0 if p == GOOD else 0.0), PAIRS)
    assert [o.status for o in outcomes] == ["ok", "error", "ok", "ok"]
    assert [o.correct for o in outcomes] == [True, False, True, True]
    assert "no verdict" in outcomes[1].error
    assert summarize(outcomes, judge="f", comparison="pointwise", seconds=1)["backend_errors"] == 1


def test_async_concurrency_gives_the_same_outcomes() -> None:
    sync = evaluate(Oracle(), PAIRS)
    concurrent = evaluate(Oracle(), PAIRS, concurrency=3)
    assert [o.model_dump() for o in concurrent] == [o.model_dump() for o in sync]
    pointwise = evaluate(Scorer(lambda p: 1.0 if p == GOOD else 0.0), PAIRS, concurrency=2)
    assert all(o.correct for o in pointwise)
    with pytest.raises(ValueError, match="concurrency"):
        evaluate(Oracle(), PAIRS, concurrency=0)


def _outcome(category: str, error: str, correct: bool) -> PairOutcome:
    return PairOutcome(pair_id="p", category=category, error_type=error, model="m", correct=correct)


def test_report_schema_and_averages() -> None:
    outcomes: Sequence[PairOutcome] = [
        _outcome("simple_python", "a", True),
        _outcome("simple_python", "a", True),
        _outcome("simple_python", "b", True),
        _outcome("simple_python", "b", False),
        _outcome("irrelevance", "c", False),
    ]
    report = summarize(outcomes, judge="x", comparison="pointwise", seconds=2.0)
    for key in (
        "w_avg",
        "avg",
        "n_pairs",
        "per_category",
        "per_error_type",
        "parse_failures",
        "position_agreement",
        "tokens",
        "seconds",
        "pairs_per_second",
        "judge",
    ):
        assert key in report
    assert report["n_pairs"] == 5
    assert report["w_avg"] == pytest.approx(3 / 5)
    assert report["avg"] == pytest.approx((3 / 4 + 0 / 1) / 2)  # mean of per-category accuracies
    assert report["per_category"] == {
        "irrelevance": {"n": 1, "acc": 0.0},
        "simple_python": {"n": 4, "acc": 0.75},
    }
    assert report["per_error_type"]["b"] == {"n": 2, "acc": 0.5}
    assert report["pairs_per_second"] == 2.5
    json.dumps(report)  # serialisable as is


def test_known_judges_modes() -> None:
    from toolrm_agent.judges.trained.discriminative import DiscriminativeJudge

    assert not is_pairwise(DiscriminativeJudge("/nonexistent"))
    assert not is_pairwise(SchemaJudge())
    from tests.fakes import ScriptedChatModel
    from toolrm_agent.judges.generative.generative import GenerativeJudge

    model = ScriptedChatModel(default="<choice>1</choice>")
    assert is_pairwise(GenerativeJudge(model))
    assert not is_pairwise(GenerativeJudge(model, rank_strategy="pointwise"))


# -- the command, end to end on fake results ----------------------------------------------------


def test_command_writes_report_and_pairs(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import eval.commands.trbench as trbench
    from tests.fakes import command_app, write_results_dir

    results = write_results_dir(tmp_path / "results")
    app = command_app(trbench.command)
    out = tmp_path / "report.json"
    args = ["--results", str(results), "--judge", "schema", "--out", str(out), "--pairs-out", str(tmp_path / "pairs")]
    result = CliRunner().invoke(app, [*args, "--seed", "1", "--details"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["judge"] == "schema" and report["mode"] == "pointwise"
    assert report["n_pairs"] == report["pair_stats"]["pairs"] == len(report["pairs"]) > 0
    assert set(report["per_category"]) == {"simple_python", "parallel", "irrelevance"}
    assert 0.0 <= report["w_avg"] <= 1.0 and report["position_agreement"] is None
    assert (tmp_path / "pairs" / "trbench_pairs.parquet").exists()
    assert report["lenient_decode"] is True  # pairs read what each model meant by default
    assert {"unparsed_skipped", "recording_errors_skipped"} <= set(report["pair_stats"])

    limited = CliRunner().invoke(
        app,
        ["--results", str(results), "--out", str(out), "--limit", "3", "--category", "parallel"],
    )
    assert limited.exit_code == 0, limited.output
    report = json.loads(out.read_text())
    assert report["n_pairs"] == 3 and set(report["per_category"]) == {"parallel"}

    strict = CliRunner().invoke(
        app, ["--results", str(results), "--out", str(out), "--strict-decode"]
    )
    assert strict.exit_code == 0, strict.output
    assert json.loads(out.read_text())["lenient_decode"] is False

    bad = CliRunner().invoke(
        app, ["--results", str(results), "--judge", "llm:x", "--out", str(out)]
    )
    assert bad.exit_code != 0 and "Valid forms" in bad.output
    missing = CliRunner().invoke(app, ["--results", str(tmp_path / "nope"), "--out", str(out)])
    assert missing.exit_code == 2 and "--results" in missing.output
