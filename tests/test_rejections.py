"""``toolrm eval rejections``: the precision of a critic's rejections by BFCL's checker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.commands.rejections import JudgedAnswer, reading, single_threshold, threshold_for_frr
from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall
from toolrm_agent.core.verdicts import Critique


def answer(valid: bool, score: float, *, accepted: bool | None = None, malformed: bool = False) -> JudgedAnswer:
    proposal = Proposal(
        calls=(ToolCall(name="f", arguments={"a": 1}, id="c1"),),
        failures=(ParseFailure(raw="f(", reason="cut"),) if malformed else (),
    )
    critique = Critique(accepted=score >= 0.5 if accepted is None else accepted, score=score, judge="test")
    return JudgedAnswer(category="simple_python", question_id="q", valid=valid, proposal=proposal,
                        critique=critique)


ANSWERS = [
    answer(True, 0.9), answer(True, 0.8), answer(True, 0.6), answer(True, 0.3),  # right
    answer(False, 0.7), answer(False, 0.4), answer(False, 0.2), answer(False, 0.9, malformed=True),  # wrong
]


def test_the_reading_counts_false_rejections_precision_and_recall() -> None:
    r = reading(ANSWERS, single_threshold(0.5))
    # rejected: right 0.3; wrong 0.4, 0.2 and the malformed one (a malformed call always rejects)
    assert (r["rejected"], r["false_rejections"]) == (4, 1)
    assert r["false_rejection_rate"] == pytest.approx(1 / 4)
    assert r["precision"] == pytest.approx(3 / 4) and r["recall"] == pytest.approx(3 / 4)
    verdict = reading(ANSWERS, None)  # the judge's own verdict: accepted = score >= 0.5 here
    assert verdict == r


def test_the_verdict_reading_follows_the_judge_not_the_score() -> None:
    stubborn = [answer(True, 0.99, accepted=False), answer(False, 0.01, accepted=True)]
    r = reading(stubborn, None)
    assert (r["false_rejections"], r["rejected"], r["precision"], r["recall"]) == (1, 1, 0.0, 0.0)


def test_the_target_threshold_is_the_highest_within_the_false_rejection_rate() -> None:
    assert threshold_for_frr(ANSWERS, 0.0) == pytest.approx(0.3)  # 0.3 itself still runs
    assert threshold_for_frr(ANSWERS, 0.25) == pytest.approx(0.6)
    assert threshold_for_frr(ANSWERS, 1.0) == 1.0
    for target in (0.0, 0.25, 0.5):
        rate = reading(ANSWERS, single_threshold(threshold_for_frr(ANSWERS, target)))["false_rejection_rate"]
        assert rate <= target


def test_command_end_to_end(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import eval.commands.rejections as rejections
    from tests.fakes import command_app, write_results_dir

    app = command_app(rejections.command)
    out = tmp_path / "rejections.json"
    result = CliRunner().invoke(app, ["--results", str(write_results_dir(tmp_path / "results")), "--judge", "schema",
                                      "--accept", "0.5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert set(report["readings"]) == {"verdict", "target", "accept"}
    overall = report["readings"]["verdict"]["all"]
    assert overall["answers"] == overall["right"] + overall["wrong"] > 0
    assert overall["rejected"] == overall["false_rejections"] + round((overall["recall"] or 0) * overall["wrong"])
    assert report["readings"]["target"]["tuned_on_this_split"] is True
    assert report["readings"]["target"]["all"]["false_rejection_rate"] <= 0.05
    assert "simple_python" in report["readings"]["accept"]
    # a prose answer never reaches the critic: where no call is right, every answer read is wrong
    irrelevance = report["readings"]["verdict"]["irrelevance"]
    assert irrelevance["right"] == 0 and irrelevance["false_rejection_rate"] is None
