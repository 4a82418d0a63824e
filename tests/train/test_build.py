"""``toolrm data build`` end to end on a small user dataset: stages, resume, refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes import write_dataset
from train.build import BuildConfig, BuildError, DataBuild


def test_a_build_runs_every_stage_and_writes_both_parquets(tmp_path: Path) -> None:
    from datasets import Dataset

    src = write_dataset(tmp_path / "mydata")
    out = tmp_path / "pref"
    lines: list[str] = []
    stats = DataBuild(BuildConfig(sources=(str(src),), target_pairs=40, seed=0), out,
                      echo=lines.append).run()
    assert stats["normalize"]["records"] >= 12
    assert stats["pairs"]["pairs"] > 40 and stats["balance"]["pairs"] == 40
    assert any("complexity: before → after" in line for line in lines)
    disc = Dataset.from_parquet(str(out / "disc.parquet"))
    gen = Dataset.from_parquet(str(out / "genrm.parquet"))
    assert len(disc) == 40 and len(gen) == 80
    for column in ("task_source", "chat_history", "chosen_response", "reject_response", "rewards",
                   "reward_difference", "task_complexity", "chosen", "rejected"):
        assert column in disc.column_names
    row = disc[0]
    assert row["rewards"][0] > row["rewards"][1]
    assert row["chosen"][-1]["role"] == "assistant" and row["chosen"][-1]["content"] == row["chosen_response"]
    assert {r["reward_model"]["ground_truth"] for r in gen} == {"1", "2"}
    assert "<choice>" in json.dumps(gen[0]["prompt"])


def test_a_killed_build_resumes_where_it_stopped(tmp_path: Path) -> None:
    src = write_dataset(tmp_path / "mydata")
    out = tmp_path / "pref"
    config = BuildConfig(sources=(str(src),), target_pairs=30)
    DataBuild(config, out, echo=lambda _: None).run(("normalize", "candidates"))
    path = out / "candidates.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:5]) + lines[5][:20])  # killed mid-line after 5 records
    state = json.loads((out / "build.json").read_text())
    state["done"] = ["normalize"]
    (out / "build.json").write_text(json.dumps(state))
    echoed: list[str] = []
    DataBuild(config, out, echo=echoed.append).run()
    ids = [json.loads(line)["record_id"] for line in path.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == len(lines)
    assert any("normalize] already done" in e for e in echoed)
    assert (out / "disc.parquet").exists()


def test_other_options_into_the_same_folder_are_refused(tmp_path: Path) -> None:
    src = write_dataset(tmp_path / "mydata")
    out = tmp_path / "pref"
    DataBuild(BuildConfig(sources=(str(src),), target_pairs=30), out, echo=lambda _: None).run(("normalize",))
    with pytest.raises(BuildError, match="other options"):
        DataBuild(BuildConfig(sources=(str(src),), target_pairs=31), out)
    DataBuild(BuildConfig(sources=(str(src),), target_pairs=31), out, force=True, echo=lambda _: None)
    with pytest.raises(BuildError, match="--policy"):
        BuildConfig(sources=(str(src),), samples=2).check()
