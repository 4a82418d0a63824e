"""Best-of-N over recorded outputs: the metrics on hand-made draws, drawing, caching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.commands.bon import (
    CachedPicker,
    DrawOutcome,
    bon_metrics,
    draw_indices,
    gap_closed,
    run_bon,
    summarize_k,
)
from eval.pairs import GradedOutput, limit_questions
from tests.fakes import FirstChoiceJudge
from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.verdicts import Critique, Ranking, TokenUsage
from toolrm_agent.judges.base import BaseJudge, JudgeCapabilities


def _draw(
    correct: tuple[bool, ...], judge: int, rand: int, category: str = "simple_python"
) -> DrawOutcome:
    return DrawOutcome(
        category=category, question_id="q", correct=correct, judge_pick=judge, random_pick=rand
    )


def test_metrics_on_a_hand_made_example() -> None:
    draws = [
        _draw((True, False), judge=0, rand=1),  # single 0.5, judge right, random wrong, oracle
        _draw((False, False), judge=1, rand=0),  # single 0.0, nothing right
        _draw((True, True), judge=1, rand=1),  # single 1.0, all right
        _draw((False, True), judge=0, rand=1),  # single 0.5, judge wrong, random right
    ]
    m = bon_metrics(draws)
    assert m["n"] == 4
    assert m["mean_single"] == pytest.approx((0.5 + 0.0 + 1.0 + 0.5) / 4)  # 0.5
    assert m["random_pick"] == pytest.approx(2 / 4)
    assert m["judge_pick"] == pytest.approx(2 / 4)
    assert m["oracle"] == pytest.approx(3 / 4)
    assert m["gap_closed"] == pytest.approx((0.5 - 0.5) / (0.75 - 0.5))  # 0.0

    better = [*draws[:3], _draw((False, True), judge=1, rand=0)]
    m = bon_metrics(better)
    assert m["judge_pick"] == pytest.approx(0.75) and m["random_pick"] == pytest.approx(0.25)
    assert m["gap_closed"] == pytest.approx(1.0)  # the judge reaches the oracle


def test_gap_closed_is_null_without_a_gap() -> None:
    assert gap_closed(0.7, 0.7, 0.7) is None
    assert gap_closed(0.5, 0.25, 0.75) == pytest.approx(0.5)
    assert gap_closed(0.0, 0.25, 0.75) == pytest.approx(-0.5)  # worse than one random model
    assert bon_metrics([_draw((True, True), 0, 1)])["gap_closed"] is None
    assert bon_metrics([])["n"] == 0 and bon_metrics([])["judge_pick"] is None


def test_summarize_k_splits_by_category() -> None:
    draws = [_draw((True, False), 0, 0), _draw((False, True), 0, 0, "irrelevance")]
    summary = summarize_k(draws)
    assert summary["overall"]["judge_pick"] == 0.5
    assert summary["per_category"]["simple_python"]["judge_pick"] == 1.0
    assert summary["per_category"]["irrelevance"]["judge_pick"] == 0.0


def test_draws_are_seeded_and_distinct() -> None:
    a = draw_indices(10, 4, seed=0, question_id="q1", draw=0)
    assert a == draw_indices(10, 4, seed=0, question_id="q1", draw=0)
    idx, rand = a
    assert len(set(idx)) == 4 and all(0 <= i < 10 for i in idx) and 0 <= rand < 4
    others = {tuple(draw_indices(10, 4, seed=0, question_id="q1", draw=d)[0]) for d in range(8)}
    assert len(others) > 1


# -- run_bon with a fake judge ---------------------------------------------------------------

CTX = JudgeContext.build([Turn(role="user", content="f with x=1")], [])


def _out(model: str, x: int, valid: bool) -> GradedOutput:
    return GradedOutput(
        model=model,
        proposal=Proposal(calls=(ToolCall(name="f", arguments={"x": x}),)),
        valid=valid,
    )


# 6 models; on q1 three are right (x=1), the others wrong; on q2 only one is right
GRADED = {
    "simple_python": {
        question: [_out(model, x, x == 1) for model, x in zip("abcdef", xs, strict=True)]
        for question, xs in (("q1", (1, 1, 1, 2, 3, 2)), ("q2", (5, 1, 5, 5, 6, 7)))
    }
}


class XIsOne(BaseJudge):
    """Pointwise: score 1 for x == 1, else 0; counts its critiques."""

    name = "x1"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def critique(self, context, proposal):  # noqa: ANN001, ANN201
        self.seen.append(proposal.render())
        ok = proposal.calls[0].arguments["x"] == 1
        return Critique(
            accepted=ok, score=float(ok), judge=self.name, usage=TokenUsage(input_tokens=1)
        )


def test_oracle_judge_reaches_the_oracle_and_critiques_are_cached() -> None:
    judge = XIsOne()
    by_k, picker = run_bon(GRADED, judge, ks=[2, 4], draws=20, seed=0, contexts=lambda c, q: CTX)
    for k in (2, 4):
        m = bon_metrics(by_k[k])
        assert m["n"] == 2 * 20
        assert m["judge_pick"] == pytest.approx(m["oracle"])
        assert m["mean_single"] < m["oracle"]
        assert m["gap_closed"] == pytest.approx(1.0)
    # one critique per distinct (question, rendering): q1 has 3 (x=1,2,3), q2 has 4 (x=5,1,6,7)
    assert len(judge.seen) == 3 + 4 == picker.judge_calls
    assert picker.usage.input_tokens == 7
    again, _ = run_bon(GRADED, XIsOne(), ks=[2, 4], draws=20, seed=0, contexts=lambda c, q: CTX)
    assert again == by_k  # deterministic under the seed


def test_exact_numbers_for_k_equal_to_all_models() -> None:
    by_k, _ = run_bon(GRADED, XIsOne(), ks=[6], draws=3, seed=1, contexts=lambda c, q: CTX)
    m = bon_metrics(by_k[6])
    assert m["mean_single"] == pytest.approx((3 / 6 + 1 / 6) / 2)
    assert m["oracle"] == 1.0 and m["judge_pick"] == 1.0
    assert m["gap_closed"] == pytest.approx(1.0)


def test_questions_with_too_few_answers_are_left_out() -> None:
    by_k, _ = run_bon(GRADED, XIsOne(), ks=[7], draws=2, contexts=lambda c, q: CTX)
    assert by_k[7] == []
    with pytest.raises(ValueError, match="draws"):
        run_bon(GRADED, XIsOne(), ks=[2], draws=0)
    with pytest.raises(ValueError, match="K"):
        run_bon(GRADED, XIsOne(), ks=[0])


def test_pairwise_judges_rank_and_rankings_are_cached() -> None:
    class Ranker(FirstChoiceJudge):
        """Ranks natively (x == 1 first), counting its rankings in ``ranks``."""

        name = "ranker"
        capabilities = JudgeCapabilities(pairwise=True, native_rank=True)

        def __init__(self) -> None:
            super().__init__()
            self._ranks = 0

        @property
        def ranks(self) -> int:
            return self._ranks

        def rank(self, context, proposals):  # noqa: ANN001, ANN201
            self._ranks += 1
            order = sorted(
                range(len(proposals)), key=lambda i: proposals[i].calls[0].arguments["x"] != 1
            )
            return Ranking(order=tuple(order), judge=self.name)

    judge = Ranker()
    picker = CachedPicker(judge)
    props = [o.proposal for o in GRADED["simple_python"]["q1"][2:5]]
    assert picker.pick("q1", CTX, props) == 0
    assert picker.pick("q1", CTX, props) == 0
    assert judge.ranks == 1
    assert picker.pick("q1", CTX, props[::-1]) == 2  # another order is another question
    assert judge.ranks == 2


class Flat(BaseJudge):
    """Pointwise: accepts everything, and scores x == 2 a little higher."""

    name = "flat"

    def critique(self, context, proposal):  # noqa: ANN001, ANN201
        return Critique(accepted=True, score=0.6 if proposal.calls[0].arguments["x"] == 2 else 0.5, judge=self.name)


def test_consensus_picks_what_the_candidates_agree_on_within_the_verdict() -> None:
    props = [_out("a", 2, False).proposal, *(_out(m, 1, True).proposal for m in "bc"), _out("d", 3, False).proposal]
    assert CachedPicker(Flat()).pick("q", CTX, props) == 0  # the judge alone: its best score
    assert CachedPicker(Flat(), consensus=0.5).pick("q", CTX, props) == 1  # 0.5 + 0.5 * 1/3 > 0.6
    # the judge's verdict comes first: agreement never lifts a rejected candidate over an accepted one
    assert CachedPicker(XIsOne(), consensus=10).pick("q", CTX, [props[0], props[0], props[1]]) == 2


def test_limit_questions() -> None:
    assert limit_questions(GRADED, None, 0) is GRADED
    one = limit_questions(GRADED, 1, seed=0)
    assert sum(len(v) for v in one.values()) == 1
    assert one == limit_questions(GRADED, 1, seed=0)


def test_command_end_to_end(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import eval.commands.bon as bon
    from tests.fakes import command_app, write_results_dir

    results = write_results_dir(tmp_path / "results")
    app = command_app(bon.command)
    out = tmp_path / "bon.json"
    result = CliRunner().invoke(
        app, ["--results", str(results), "--judge", "schema", "--k", "2", "--k", "4", "--draws", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["k"] == [2, 4] and set(report["by_k"]) == {"2", "4"}
    overall = report["by_k"]["4"]["overall"]
    assert overall["n"] == 4 * 3  # four questions, three draws each
    assert set(overall) == {"n", "mean_single", "random_pick", "judge_pick", "oracle", "gap_closed"}
    assert (
        overall["mean_single"] <= overall["oracle"] and overall["judge_pick"] <= overall["oracle"]
    )
    assert set(report["by_k"]["2"]["per_category"]) == {"simple_python", "parallel", "irrelevance"}
    assert report["lenient_decode"] is False  # candidates read as the leaderboard did

    lenient = CliRunner().invoke(
        app, ["--results", str(results), "--k", "2", "--out", str(out), "--lenient-decode"]
    )
    assert lenient.exit_code == 0, lenient.output
    assert json.loads(out.read_text())["lenient_decode"] is True

    too_many = CliRunner().invoke(app, ["--results", str(results), "--k", "9", "--out", str(out)])
    assert too_many.exit_code != 0 and "no question has 9" in too_many.output
