"""Calibration as a step of the critic build, and the map the trained critic applies."""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

import pytest

from toolrm_agent.core.errors import CheckpointError
from toolrm_agent.judges.calibration import CALIBRATION, Calibration
from toolrm_agent.judges.trained.trained import MANIFEST, TrainedJudge
from train.disc.cached import load_data, train_cached
from train.disc.calibration import ece, fit_isotonic, fit_platt, reliability, threshold_at_frr
from train.disc.config import CachedCriticConfig


def _overconfident(n: int = 2000, seed: int = 0) -> tuple[list[float], list[bool]]:
    """Logits whose sigmoid claims far more confidence than the labels back: P(y) =
    sigmoid(logit / 4)."""
    rng = random.Random(seed)
    logits = [rng.uniform(-8, 8) for _ in range(n)]
    labels = [rng.random() < 1 / (1 + pow(2.718281828, -x / 4)) for x in logits]
    return logits, labels


def test_isotonic_map_is_monotone_strictly_increasing_and_lowers_the_ece() -> None:
    logits, labels = _overconfident()
    cal = fit_isotonic(logits, labels)
    assert cal.method == "isotonic" and all(0 <= y <= 1 for y in cal.y)
    grid = [x / 10 for x in range(-120, 121)]
    values = [cal(x) for x in grid]
    assert all(b > a for a, b in zip(values, values[1:], strict=False))  # ranking kept
    test_logits, test_labels = _overconfident(seed=1)
    raw = ece([1 / (1 + pow(2.718281828, -x)) for x in test_logits], test_labels)
    calibrated = ece([cal(x) for x in test_logits], test_labels)
    assert raw > 0.1 and calibrated < 0.05


def test_platt_recovers_the_slope() -> None:
    logits, labels = _overconfident(4000)
    cal = fit_platt(logits, labels)
    assert cal.a == pytest.approx(0.25, abs=0.06) and abs(cal.b) < 0.2


def test_isotonic_pools_violators() -> None:
    cal = fit_isotonic([0.0, 1.0, 2.0, 3.0], [False, True, False, True], blend=0.0)
    assert cal.y == (0.0, 0.5, 1.0) and cal.x == (0.0, 1.5, 3.0)
    assert cal(-5) == 0.0 and cal(10) == 1.0 and cal(0.75) == pytest.approx(0.25)


def test_reliability_ece_and_threshold_at_a_false_rejection_rate() -> None:
    scores = [0.05, 0.1, 0.2, 0.9, 0.95, 0.97] + [0.8] * 20
    labels = [False, False, True, True, True, True] + [True] * 20
    curve = reliability(scores, labels)
    assert sum(r["n"] for r in curve) == len(scores)
    assert ece([0.0, 1.0], [False, True]) == 0.0
    at = threshold_at_frr(scores, labels, frr=0.05)
    # 24 correct: at most one may be rejected (floor 1.2) → accept from the second-lowest correct
    assert at["threshold"] == 0.8 and at["rejected"] == 3 and at["frr"] == pytest.approx(1 / 24, abs=1e-3)
    assert at["precision"] == pytest.approx(2 / 3, abs=1e-3) and at["recall"] == 1.0


def test_a_bad_map_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        Calibration(method="isotonic", x=(1.0, 0.0), y=(0.1, 0.2))
    path = tmp_path / CALIBRATION
    path.write_text('{"method": "isotonic", "x": [0, 1], "y": [0.9, 0.1]}')
    with pytest.raises(CheckpointError, match="not a calibration map"):
        Calibration.load(path)


def test_the_build_calibrates_and_the_critic_reports_p_correct(pref_dir: Path, tmp_path: Path) -> None:
    config = CachedCriticConfig(base_model=None, inputs=("features", "relevance"), epochs=30, batch_size=32,
                                val_share=0.3)
    lines: list[str] = []
    metrics = train_cached(config, pref_dir, tmp_path / "critic", echo=lines.append)
    assert any(line.startswith("[calibrate]") for line in lines)
    report = metrics["calibration"]
    assert report["candidates"] > 0 and 0 <= report["ece"] <= 1 and 0 <= report["ece_raw"] <= 1
    assert report["reliability"] and report["at_frr"]["target_frr"] == 0.05
    manifest = json.loads((tmp_path / "critic" / MANIFEST).read_text())
    assert manifest["calibration"] == CALIBRATION and (tmp_path / "critic" / CALIBRATION).is_file()
    assert manifest["threshold"] == metrics["threshold"] == report["threshold_chosen"]["threshold"]
    assert "threshold_raw" in metrics and "threshold_balanced" in metrics and report["threshold_chosen"]["frr"] <= 0.05

    judge = TrainedJudge(tmp_path / "critic")
    assert judge.calibration is not None
    records, pairs = load_data(pref_dir)
    pair = pairs[0]
    context = records[pair.record_id].context()
    logits, _, _ = judge.logits(context, [pair.chosen.proposal])
    critique = judge.critique(context, pair.chosen.proposal)
    assert critique.score == pytest.approx(judge.calibration(logits[0]))
    assert critique.accepted == (critique.score >= judge.threshold)

    # an older critic directory (no calibration in its manifest) still loads: sigmoid scores
    old = tmp_path / "old"
    shutil.copytree(tmp_path / "critic", old)
    (old / CALIBRATION).unlink()
    manifest.pop("calibration")
    (old / MANIFEST).write_text(json.dumps(manifest))
    legacy = TrainedJudge(old)
    assert legacy.calibration is None
    assert legacy.critique(context, pair.chosen.proposal).score == pytest.approx(
        1 / (1 + pow(2.718281828459045, -logits[0])), abs=1e-6
    )


def test_without_held_out_candidates_of_both_kinds_the_critic_stays_uncalibrated() -> None:
    from train.disc.calibration import calibrate_head

    metrics: dict = {}
    lines: list[str] = []
    assert calibrate_head(CachedCriticConfig(base_model=None, inputs=("features",)), [], {}, None, None, {},
                          metrics, echo=lines.append) is None
    assert "both kinds" in metrics["calibration"]["skipped"] and "uncalibrated" in lines[0]


def test_a_critic_trained_before_calibration_is_calibrated_afterwards(pref_dir: Path, tmp_path: Path) -> None:
    """`toolrm train calibrate` on an uncalibrated critic fits the map the build would have
    fitted (the same held-out records, scored as the runtime scores them)."""
    from typer.testing import CliRunner

    from toolrm_cli import app
    from train.disc.calibration import calibrate_critic

    config = CachedCriticConfig(base_model=None, inputs=("features", "relevance"), epochs=30, batch_size=32,
                                val_share=0.3)
    built = tmp_path / "built"
    train_cached(config, pref_dir, built, echo=lambda _: None)
    manifest = json.loads((built / MANIFEST).read_text())
    old = tmp_path / "old"
    shutil.copytree(built, old)
    (old / CALIBRATION).unlink()
    raw_threshold = manifest["metrics"]["threshold_raw"]
    manifest.update(calibration=None, threshold=raw_threshold)
    for key in ("calibration", "threshold_raw", "threshold_balanced"):
        manifest["metrics"].pop(key)
    manifest["metrics"]["threshold"] = raw_threshold
    (old / MANIFEST).write_text(json.dumps(manifest))
    assert TrainedJudge(old).calibration is None

    lines: list[str] = []
    metrics = calibrate_critic(old, pref_dir, tmp_path / "cal", echo=lines.append)
    assert (old / MANIFEST).read_text() == json.dumps(manifest)  # the source directory is left as it was
    assert any(line.startswith("[calibrate] wrote") for line in lines)
    judge, reference = TrainedJudge(tmp_path / "cal"), TrainedJudge(built)
    assert judge.calibration is not None and reference.calibration is not None
    assert judge.calibration.x == pytest.approx(reference.calibration.x)
    assert judge.calibration.y == pytest.approx(reference.calibration.y)
    assert judge.threshold == metrics["threshold"] == pytest.approx(reference.threshold)
    assert judge.calibration.fitted_on["data"] == str(pref_dir)
    records, pairs = load_data(pref_dir)
    context = records[pairs[0].record_id].context()
    (logit,), _, _ = judge.logits(context, [pairs[0].chosen.proposal])
    assert judge.critique(context, pairs[0].chosen.proposal).score == pytest.approx(judge.calibration(logit))

    # an accept threshold chosen elsewhere (uncalibrated) is kept, mapped through the map
    result = CliRunner().invoke(app, ["train", "calibrate", "--critic", str(old), "--data", str(pref_dir),
                                      "--out", str(tmp_path / "kept"), "--accept-raw", "0.9"])
    assert result.exit_code == 0, result.output
    kept = TrainedJudge(tmp_path / "kept")
    assert kept.calibration is not None
    assert kept.threshold == pytest.approx(kept.calibration(math.log(0.9 / 0.1)), abs=1e-6)
    assert "0.9 given" in kept.manifest.metrics["calibration"]["threshold_source"]


def test_calibrate_refuses_a_two_tier_critic_and_an_unknown_method(pref_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from toolrm_agent.core.errors import TrainingError
    from toolrm_cli import app
    from train.disc.calibration import calibrate_critic

    critic = tmp_path / "critic"
    train_cached(CachedCriticConfig(base_model=None, inputs=("features",), epochs=5, batch_size=32, val_share=0.3),
                 pref_dir, critic, echo=lambda _: None)
    shutil.copytree(critic, critic / "second")
    manifest = json.loads((critic / MANIFEST).read_text())
    (critic / MANIFEST).write_text(json.dumps({**manifest, "second_stage": "second"}))
    with pytest.raises(TrainingError, match="two-tier"):
        calibrate_critic(critic, pref_dir, tmp_path / "out", echo=lambda _: None)
    result = CliRunner().invoke(app, ["train", "calibrate", "--critic", str(critic), "--data", str(pref_dir),
                                      "--out", str(tmp_path / "out"), "--method", "beta"])
    assert result.exit_code != 0 and "isotonic or platt" in result.output
