"""The training wing as the README shows it (issue 17): `toolrm train disc` defaults to the
README recipe, LM readings are cached outside the data folder, the features phase shows
progress, and a build without trajectories fails instead of writing empty parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakes import write_dataset
from toolrm_agent.core.errors import TrainingError
from toolrm_cli import main


def test_train_disc_defaults_to_the_readme_recipe(pref_dir: Path, tmp_path: Path, monkeypatch: Any) -> None:
    import train.disc.cached as cached

    seen: list[Any] = []
    monkeypatch.setattr(cached, "train_cached", lambda config, data, out, echo: seen.append(config))
    for args in (["--out", str(tmp_path / "critic")], ["--out", str(tmp_path / "c2"), "--base", "default"]):
        with pytest.raises(SystemExit) as info:  # typer's standalone mode exits, with 0
            main(["train", "disc", "--data", str(pref_dir), *args])
        assert info.value.code == 0
    assert seen[0].base_model is None and seen[0].inputs == ("features", "relevance")
    assert seen[1].base_model == "default" and "hidden" in seen[1].inputs  # an LM: its inputs too


def test_lm_readings_are_cached_under_the_cache_dir_not_the_data(
    pref_dir: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    from train.disc.cached import lm_cache_dir

    monkeypatch.setenv("TOOLRM_CACHE", str(tmp_path / "cache"))
    where = lm_cache_dir(pref_dir, "default")
    assert where.is_relative_to(tmp_path / "cache" / "readings")
    assert not where.is_relative_to(pref_dir)
    assert lm_cache_dir(pref_dir, "smollm2") != where
    assert lm_cache_dir(pref_dir, "default", "all", "read") == where  # caches written before lm_tags
    assert lm_cache_dir(pref_dir, "default", "all", "skip") != where


def test_an_unknown_tag_scope_fails_before_any_reading() -> None:
    from toolrm_agent.core.errors import TrainingError
    from train.disc.config import CachedCriticConfig

    with pytest.raises(TrainingError, match="lm_tags"):
        CachedCriticConfig(base_model="default", lm_tags="none").check()  # type: ignore[arg-type]


def test_the_features_phase_has_a_progress_bar(pref_dir: Path, monkeypatch: Any) -> None:
    import train.disc.cached as cached

    advanced: list[int] = []

    class Bar:
        def __enter__(self) -> Bar:
            return self

        def __exit__(self, *exc: Any) -> None:
            pass

        def add_task(self, description: str, total: int, note: str) -> int:
            advanced.append(-total)
            return 0

        def advance(self, task: int, n: int = 1) -> None:
            advanced.append(n)

    monkeypatch.setattr(cached, "progress_bar", lambda transient: Bar())
    records, pairs = cached.load_data(pref_dir)
    lines: list[str] = []
    cached.cheap_inputs(records, pairs, echo=lines.append)
    total = -advanced[0]
    assert total > 0 and sum(advanced[1:]) == total
    assert lines[0].startswith("[features]") and lines[-1].startswith("[features]")


def test_data_build_without_trajectories_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources = tmp_path / "mine"
    sources.mkdir()
    (sources / "chats.jsonl").write_text("")
    with pytest.raises(SystemExit) as info:
        main(["data", "build", "--sources", str(sources), "--out", str(tmp_path / "out")])
    assert info.value.code == 1
    assert "no trajectories" in " ".join(capsys.readouterr().err.replace("│", " ").split())
    assert not (tmp_path / "out" / "disc.parquet").exists()


def test_a_folder_that_holds_no_dataset_is_a_training_error(tmp_path: Path) -> None:
    from train.sources import discover

    with pytest.raises(TrainingError, match="not a dataset folder"):
        discover([tmp_path])
    assert discover([write_dataset(tmp_path / "ok", n=2)])  # a real one passes
