"""Nothing silent at the command line (issue 17): library errors in one box (the traceback
behind --debug), near-miss names, results that hold nothing, the groups in --help, and the
progress of pair building."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.fakes import fake_results, write_results_dir
from toolrm_agent.core.errors import CheckpointError, ConfigurationError, ModelProvisioningError
from toolrm_agent.judges.loader import load_judge
from toolrm_cli import main


def test_a_library_error_prints_its_message_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = write_results_dir(tmp_path / "res")
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "trbench", "--results", str(results), "--judge", "disc:defualt"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    flat = " ".join(err.replace("│", " ").split())
    assert "did you mean `disc:default`?" in flat and "CheckpointError" in flat and "--debug" in flat
    assert "Traceback" not in err and len(err.splitlines()) < 12


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    results = write_results_dir(tmp_path / "res")
    with pytest.raises(CheckpointError):
        main(["eval", "trbench", "--debug", "--results", str(results), "--judge", "disc:defualt"])


@pytest.mark.parametrize(
    ("spec", "error", "hint"),
    [
        ("disc:defualt", CheckpointError, "disc:default"),
        ("schme", ConfigurationError, "schema"),
        ("gen:qwen1.6b", CheckpointError, "gen:qwen1.5b"),
        ("llamacpp:defualt", ModelProvisioningError, "default"),
    ],
)
def test_near_miss_names_get_a_suggestion(spec: str, error: type[Exception], hint: str) -> None:
    with pytest.raises(error, match=f"did you mean `{hint}`"):
        load_judge(spec)


def test_results_with_files_but_no_outputs_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    with gzip.open(folder / "some-model.jsonl.gz", "wt") as fh:
        fh.write("")
    with pytest.raises(SystemExit):
        main(["eval", "trbench", "--results", str(folder), "--judge", "schema"])
    err = " ".join(capsys.readouterr().err.replace("│", " ").split())
    assert "hold no recorded outputs" in err and "no failing answers" not in err


def test_top_level_help_lists_every_group(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for group in ("eval", "bench", "data", "train", "demo", "serve"):
        assert f"│ {group} " in out


def test_pair_building_reports_progress_for_every_output() -> None:
    from eval.pairs import build_pairs

    results = fake_results()
    done: list[int] = []
    build_pairs(results, progress=done.append)
    assert sum(done) == sum(len(r.entries) for r in results) > 0
