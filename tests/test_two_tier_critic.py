"""The two-tier critic: a fast head first, a second head only where the first is unsure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.errors import CheckpointError, ConfigurationError
from toolrm_agent.core.specs import ToolSpec
from toolrm_agent.judges.features import FEATURE_NAMES
from toolrm_agent.judges.trained.trained import CriticManifest, TrainedJudge

CONTEXT = JudgeContext(
    turns=(Turn(role="user", content="Weather in Paris"),),
    tools=(ToolSpec(name="get_weather", description="Weather of a city",
                    parameters={"type": "object", "properties": {"city": {"type": "string"}},
                                "required": ["city"]}),),
)
RIGHT = Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Paris"}, id="a"),))
UNKNOWN = Proposal(calls=(ToolCall(name="get_wether", arguments={"city": "Paris"}, id="b"),))


def write_head(folder: Path, *, bias: float, weight: float = 0.0, **manifest: object) -> Path:
    """A features-only critic whose logit is ``bias + weight * (first feature, standardised)``."""
    d = len(FEATURE_NAMES)
    folder.mkdir(parents=True, exist_ok=True)
    wl = np.zeros((d, 1), dtype=np.float32)
    wl[0, 0] = weight
    np.savez(folder / "head.npz", mean=np.zeros(d, np.float32), std=np.ones(d, np.float32),
             w1=np.zeros((d, 2), np.float32), b1=np.zeros(2, np.float32),
             w2=np.zeros((2, 1), np.float32), b2=np.array([bias], np.float32), wl=wl)
    m = CriticManifest(features=True, relevance=False, encoder=None, input_names=list(FEATURE_NAMES),
                       threshold=0.5, **manifest)  # type: ignore[arg-type]
    (folder / "critic.json").write_text(m.model_dump_json())
    return folder


@pytest.fixture
def two_tier(tmp_path: Path) -> Path:
    root = write_head(tmp_path / "critic", bias=0.0, second_stage="lm", band=(0.3, 0.7))  # scores 0.5: unsure
    write_head(root / "lm", bias=3.0)  # scores 0.95
    return root


def test_unsure_scores_go_to_the_second_tier(two_tier: Path) -> None:
    critic = TrainedJudge(two_tier)
    out = critic.critique_many(CONTEXT, [RIGHT, UNKNOWN])
    assert [round(c.score, 3) for c in out] == [0.953, 0.953]
    assert {c.judge for c in out} == {f"disc:{two_tier}+lm"}


def test_sure_scores_stay_with_the_first_tier(two_tier: Path, tmp_path: Path) -> None:
    manifest = json.loads((two_tier / "critic.json").read_text())
    manifest["band"] = [0.6, 0.7]  # the first tier's 0.5 is now a sure rejection
    (two_tier / "critic.json").write_text(json.dumps(manifest))
    out = TrainedJudge(two_tier).critique_many(CONTEXT, [RIGHT])
    assert out[0].score == pytest.approx(0.5) and out[0].judge == f"disc:{two_tier}"
    assert TrainedJudge(two_tier, route="always").critique(CONTEXT, RIGHT).score == pytest.approx(0.953, abs=1e-3)
    assert TrainedJudge(two_tier, route="never").critique(CONTEXT, RIGHT).score == pytest.approx(0.5)


def test_routing_is_per_proposal(tmp_path: Path) -> None:
    # the first feature differs between the two proposals: one lands in the band, one not
    root = write_head(tmp_path / "c", bias=0.0, weight=4.0, second_stage="lm", band=(0.0, 0.5))
    write_head(root / "lm", bias=-2.0)
    critic = TrainedJudge(root)
    first = TrainedJudge(root, route="never").critique_many(CONTEXT, [RIGHT, UNKNOWN])
    assert first[0].score != first[1].score
    unsure = critic.routed([c.score for c in first])
    assert len(unsure) == 1
    out = critic.critique_many(CONTEXT, [RIGHT, UNKNOWN])
    for i, c in enumerate(out):
        expected = pytest.approx(0.119, abs=1e-3) if i in unsure else pytest.approx(first[i].score)
        assert c.score == expected


def test_misconfigured_two_tier_fails_at_construction(two_tier: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        TrainedJudge(two_tier, route="sometimes")  # type: ignore[arg-type]
    lonely = write_head(tmp_path / "lonely", bias=0.0, second_stage="missing")
    with pytest.raises(CheckpointError):
        TrainedJudge(lonely)
    bad = write_head(tmp_path / "bad", bias=0.0, second_stage="lm", band=(0.8, 0.2))
    write_head(bad / "lm", bias=0.0)
    with pytest.raises(CheckpointError, match="band"):
        TrainedJudge(bad)
    looped = write_head(tmp_path / "looped", bias=0.0, second_stage=".")
    with pytest.raises(CheckpointError, match="itself"):
        TrainedJudge(looped)


def test_the_spec_takes_the_route(two_tier: Path) -> None:
    from toolrm_agent.judges.loader import load_judge

    judge = load_judge(f"disc:{two_tier}?route=never")
    assert isinstance(judge, TrainedJudge) and judge.route == "never"


def test_assembled_two_tier_critic_loads_and_routes(tmp_path: Path) -> None:
    from train.disc.two_tier import assemble_two_tier

    fast = write_head(tmp_path / "fast", bias=0.0)
    lm = write_head(tmp_path / "lm", bias=3.0)
    out = assemble_two_tier(fast, lm, tmp_path / "two", band=(0.4, 0.6))
    critic = TrainedJudge(out)
    assert critic.second is not None and critic.manifest.band == (0.4, 0.6)
    assert critic.critique(CONTEXT, RIGHT).score == pytest.approx(0.953, abs=1e-3)
    assert TrainedJudge(out, route="never").critique(CONTEXT, RIGHT).score == pytest.approx(0.5)


def test_assembling_refuses_bad_input(tmp_path: Path) -> None:
    from toolrm_agent.core.errors import TrainingError
    from train.disc.two_tier import assemble_two_tier

    fast = write_head(tmp_path / "fast", bias=0.0)
    with pytest.raises(TrainingError, match="band"):
        assemble_two_tier(fast, fast, tmp_path / "o", band=(0.9, 0.1))
    with pytest.raises(TrainingError, match="not a trained critic"):
        assemble_two_tier(fast, tmp_path / "nope", tmp_path / "o", band=(0.1, 0.9))


def test_assembling_keeps_each_tiers_calibration_map(tmp_path: Path) -> None:
    from toolrm_agent.judges.calibration import Calibration
    from train.disc.two_tier import assemble_two_tier

    fast = write_head(tmp_path / "fast", bias=0.0)
    lm = write_head(tmp_path / "lm", bias=3.0, calibration="calibration.json")
    (lm / "calibration.json").write_text(Calibration(method="platt", a=0.0, b=-1.0).model_dump_json())
    out = assemble_two_tier(fast, lm, tmp_path / "two", band=(0.0, 1.0), route="always")
    assert (out / "lm" / "calibration.json").is_file()
    # the second tier's score is its calibrated one: sigmoid(0 * logit - 1)
    assert TrainedJudge(out).critique(CONTEXT, RIGHT).score == pytest.approx(0.269, abs=1e-3)


def test_a_band_in_uncalibrated_scores_is_mapped_through_the_first_tiers_calibration(tmp_path: Path) -> None:
    from toolrm_agent.judges.calibration import Calibration
    from train.disc.two_tier import assemble_two_tier

    fast = write_head(tmp_path / "fast", bias=0.0, calibration="calibration.json")
    (fast / "calibration.json").write_text(Calibration(method="platt", a=1.0, b=-1.0).model_dump_json())
    lm = write_head(tmp_path / "lm", bias=3.0)
    raw = assemble_two_tier(fast, lm, tmp_path / "raw", band=(0.5, 0.9), band_raw=True)
    given = assemble_two_tier(fast, lm, tmp_path / "given", band=(0.5, 0.9))
    mapped = CriticManifest.model_validate_json((raw / "critic.json").read_text()).band
    # sigmoid(logit - 1) at the logits of 0.5 and 0.9: the same proposals are routed
    assert mapped == pytest.approx((1 / (1 + np.exp(1.0)), 1 / (1 + np.exp(-(np.log(9.0) - 1.0)))), abs=1e-6)
    assert CriticManifest.model_validate_json((given / "critic.json").read_text()).band == (0.5, 0.9)
