"""The dev / test split of recorded models: by family, balanced, stable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.bfcl.splits import family, select_split, split_of

MODELS = [
    "gpt-4o-2024-05-13", "gpt-4o-2024-05-13-FC", "mistral-large-2407", "mistral-large-2407-FC-Any",
    "mistral-large-2407-FC-Auto", "claude-2.1", "gemini-1.0-pro", "snowflake_arctic", "yi-large-fc",
    "command-r-plus", "command-r-plus-FC", "google_gemma-7b-it",
]


def test_family_drops_the_function_calling_suffix() -> None:
    assert family("gpt-4o-2024-05-13-FC") == family("gpt-4o-2024-05-13") == "gpt-4o-2024-05-13"
    assert family("mistral-large-2407-FC-Any") == family("mistral-large-2407-FC-Auto") == "mistral-large-2407"
    assert family("claude-2.1") == "claude-2.1"


def test_a_family_never_straddles_the_split() -> None:
    for a in MODELS:
        for b in MODELS:
            if family(a) == family(b):
                assert split_of(a, MODELS) == split_of(b, MODELS)


def test_halves_are_disjoint_balanced_and_cover_everything() -> None:
    dev, test = select_split(MODELS, "dev"), select_split(MODELS, "test")
    assert set(dev).isdisjoint(test) and set(dev) | set(test) == set(MODELS)
    families = {family(m) for m in MODELS}
    dev_families = {family(m) for m in dev}
    assert abs(len(dev_families) - (len(families) - len(dev_families))) <= 1
    assert select_split(MODELS, "all") == MODELS
    assert select_split(list(reversed(MODELS)), "dev") == list(reversed(dev))  # order-free, stable


def test_unknown_split_is_an_error() -> None:
    with pytest.raises(ValueError, match="split must be one of"):
        select_split(MODELS, "train")  # type: ignore[arg-type]


def test_trbench_reads_only_the_chosen_half(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import eval.commands.trbench as trbench
    from tests.fakes import command_app, fake_results, write_results_dir

    results = write_results_dir(tmp_path / "results")
    names = [m.model for m in fake_results()]
    app = command_app(trbench.command)
    counts = {}
    for split in ("all", "dev", "test"):
        out = tmp_path / f"{split}.json"
        run = CliRunner().invoke(app, ["--results", str(results), "--split", split, "--out", str(out)])
        report = json.loads(out.read_text()) if run.exit_code == 0 else None
        counts[split] = (run.exit_code, report["models"] if report else None)
        if report:
            assert report["split"] == split
    assert counts["all"] == (0, len(names))
    wanted = {s: len(select_split(names, s)) for s in ("dev", "test")}
    for split in ("dev", "test"):
        code, n = counts[split]
        assert code == 0 and n == wanted[split] or code == 2  # a half may hold no failing answer
    bad = CliRunner().invoke(app, ["--results", str(results), "--split", "train", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "--split" in bad.output
