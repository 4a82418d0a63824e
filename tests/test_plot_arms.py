"""``toolrm eval plot`` on arm reports (acebench, demo) and TRBench's paper categories."""

from __future__ import annotations

import json
from pathlib import Path

from eval.commands import plot
from eval.paper_categories import paper_view

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def summary(correct: int, n: int, ci: tuple[float, float], tokens: int) -> dict:
    return {"n": n, "correct": correct, "accuracy": correct / n, "accuracy_ci95": list(ci),
            "policy_tokens": {"prompt": tokens, "completion": tokens // 10}}


def acebench_report(policy: str) -> dict:
    cell = {"n": 4, "correct": 2, "accuracy": 0.5, "ci95": [0.15, 0.85]}
    return {
        "benchmark": "acebench",
        "policy": policy,
        "categories": ["normal_atom_bool", "special_incomplete"],
        "arms": [
            {"name": "baseline", "mode": None, "judge": None, "summary": summary(4, 8, (0.22, 0.78), 1000)},
            {"name": "retry", "mode": "retry", "judge": "schema", "summary": summary(5, 8, (0.31, 0.86), 1400)},
            {"name": "best_of_n", "mode": "best_of_n", "judge": "schema",
             "summary": summary(6, 8, (0.41, 0.93), 4000)},
        ],
        "comparisons": {"retry": {}, "best_of_n": {}},
        "per_category": {
            arm: {"normal_atom_bool": cell, "special_incomplete": cell, "normal": cell, "special": cell, "all": cell}
            for arm in ("baseline", "retry", "best_of_n")
        },
    }


def trbench_with_paper(judge: str) -> dict:
    per_category = {"simple_python": {"n": 40, "acc": 0.8}, "live_parallel": {"n": 12, "acc": 0.5}}
    return {"judge": judge, "mode": "pointwise", "n_pairs": 52, "w_avg": 0.73, "avg": 0.65,
            "per_category": per_category, "paper": paper_view(per_category)}


def is_png(path: Path) -> bool:
    return path.stat().st_size > 5_000 and path.read_bytes()[:8] == PNG_MAGIC


def test_arm_reports_are_recognised_and_drawn(tmp_path: Path) -> None:
    assert plot.report_kind(acebench_report("p")) == "arms"
    inputs = []
    for name, report in (("a.json", acebench_report("llamacpp:default")), ("b.json", acebench_report("other")),
                         ("t1.json", trbench_with_paper("schema")), ("t2.json", trbench_with_paper("disc:default"))):
        (tmp_path / name).write_text(json.dumps(report))
        inputs.append(tmp_path / name)
    written = plot.write_plots(inputs, tmp_path / "plots")
    names = sorted(p.name for p in written)
    assert names == sorted([
        "trbench_per_category.png", "trbench_paper_categories.png", "arms_lift.png", "arms_cost.png",
        "acebench_per_category.png",
    ])
    assert all(is_png(p) for p in written)


def test_lift_is_in_points_over_the_baseline() -> None:
    points = {p["name"]: p for p in plot._arm_points(acebench_report("p"))}
    assert points["baseline"]["lift"] is None
    assert points["best_of_n"]["lift"] == 25.0 and points["best_of_n"]["tokens"] == 4400
