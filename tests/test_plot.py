"""``toolrm eval plot``: report recognition and PNG files, from reports made here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval.commands import plot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def metrics(mean: float, judge: float, oracle: float) -> dict:
    return {
        "n": 10,
        "mean_single": mean,
        "random_pick": mean,
        "judge_pick": judge,
        "oracle": oracle,
        "gap_closed": (judge - mean) / (oracle - mean),
    }


def bon_report(judge: str, picks: dict[int, float]) -> dict:
    return {
        "judge": judge,
        "k": sorted(picks),
        "by_k": {
            str(k): {
                "overall": metrics(0.6, pick, 0.6 + 0.1 * i),
                "per_category": {
                    "simple_python": metrics(0.7, pick + 0.05, 0.8 + 0.05 * i),
                    "parallel": metrics(0.5, pick - 0.05, 0.6 + 0.1 * i),
                },
            }
            for i, (k, pick) in enumerate(sorted(picks.items()), start=1)
        },
    }


def trbench_report(judge: str) -> dict:
    return {
        "judge": judge,
        "mode": "pointwise",
        "n_pairs": 30,
        "w_avg": 0.7,
        "avg": 0.65,
        "per_category": {"simple_python": {"n": 20, "acc": 0.8}, "multiple": {"n": 10, "acc": 0.5}},
    }


def selfcorrect_report() -> dict:
    return {
        "judge": "schema",
        "category": "simple_python",
        "n": 50,
        "baseline_acc": 0.6,
        "critic_acc": 0.66,
        "lift": 0.06,
    }


def write(tmp_path: Path, name: str, report: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(report))
    return path


def is_png(path: Path) -> bool:
    return path.stat().st_size > 5_000 and path.read_bytes()[:8] == PNG_MAGIC


def test_report_kind_is_recognised_from_keys() -> None:
    assert plot.report_kind(bon_report("schema", {2: 0.7})) == "bon"
    assert plot.report_kind(trbench_report("schema")) == "trbench"
    assert plot.report_kind(selfcorrect_report()) == "selfcorrect"
    assert plot.report_kind({"models": {}}) is None
    assert plot.report_kind([1, 2]) is None


def test_write_plots_makes_every_picture(tmp_path: Path) -> None:
    inputs = [
        write(tmp_path, "bon_schema.json", bon_report("schema", {2: 0.65, 4: 0.68, 8: 0.7})),
        write(tmp_path, "bon_gen.json", bon_report("gen:default", {2: 0.62, 4: 0.63, 8: 0.61})),
        write(tmp_path, "tr_schema.json", trbench_report("schema")),
        write(tmp_path, "tr_gen.json", trbench_report("gen:default")),
        write(tmp_path, "sc.json", selfcorrect_report()),
    ]
    out = tmp_path / "plots"
    written = plot.write_plots(inputs, out)
    names = sorted(p.name for p in written)
    assert names == [
        "bon_vs_k.png",
        "bon_vs_k_by_category.png",
        "selfcorrect.png",
        "trbench_per_category.png",
    ]
    assert all(is_png(p) for p in written)


def test_same_judge_twice_gets_distinct_labels(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", trbench_report("schema"))
    b = write(tmp_path, "b.json", trbench_report("schema"))
    labels = [label for label, _ in plot.load_reports([a, b])["trbench"]]
    assert labels == ["schema", "schema (b)"]


def test_unknown_or_broken_report_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a bon, trbench or selfcorrect report"):
        plot.load_reports([write(tmp_path, "x.json", {"models": {}})])
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    with pytest.raises(ValueError, match="cannot read a JSON report"):
        plot.load_reports([broken])


def test_cli_takes_several_inputs_after_one_option(tmp_path: Path) -> None:
    from eval.cli import app

    a = write(tmp_path, "bon.json", bon_report("schema", {2: 0.65, 4: 0.7}))
    b = write(tmp_path, "tr.json", trbench_report("schema"))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plot", "--inputs", str(a), str(b), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "bon_vs_k.png").is_file() and (out / "trbench_per_category.png").is_file()
    missing = CliRunner().invoke(
        app, ["plot", "--inputs", str(tmp_path / "nope.json"), "--out", str(out)]
    )
    assert missing.exit_code != 0 and "no such file" in missing.output
