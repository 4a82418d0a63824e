"""Summary of issue 18's live grid (`bash train/results/s6/sc_grid.sh`): counts, calls, tokens and
the two targets, from the full reports in out/s6/ into train/results/s6/sc-summary.json.

Run: `.venv/bin/python train/results/s6/sc_summary.py [REPORTS_DIR SUMMARY_JSON COMMAND]` (defaults: the grid's
out/s6, train/results/s6/sc-summary.json and its script; another grid of the same layout names its own)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "train/results/s6/sc-summary.json"
MODES = ("retry", "resample", "best_of_n")
SPLITS = {"parallel+multiple": ("parallel", "multiple"), "simple_python": ("simple_python",)}


def tokens(t: dict[str, int]) -> int:
    return int(t["prompt"]) + int(t["completion"])


def cell(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One (policy, split, mode) cell over its category reports."""
    n = sum(r["n"] for r in reports)
    base = sum(round(r["baseline_acc"] * r["n"]) for r in reports)
    crit = sum(round(r["critic_acc"] * r["n"]) for r in reports)
    return {
        "n": n,
        "baseline": base,
        "critic": crit,
        "lift_points": round(100 * (crit - base) / n, 1),
        "fixed": sum(len(r["fixed"]) for r in reports),
        "broken": sum(len(r["broken"]) for r in reports),
        "retries": sum(r["retries"] for r in reports),
        "policy_calls": {arm: sum(r["policy_calls"][arm] for r in reports) for arm in ("baseline", "critic")},
        "policy_tokens": {arm: sum(tokens(r["policy_tokens"][arm]) for r in reports) for arm in ("baseline", "critic")},
        "policy_completion_tokens": {
            arm: sum(int(r["policy_tokens"][arm]["completion"]) for r in reports) for arm in ("baseline", "critic")
        },
        "critic_calls": sum(r["critic_calls"] for r in reports),
        "seconds": round(sum(r["seconds"] for r in reports), 1),
        "judge": sorted({r["judge"] for r in reports}),
        "server_slots": sorted({str(r.get("server_slots")) for r in reports}),
    }


def main(reports: Path = ROOT / "out/s6", out: Path = OUT, command: str = "bash train/results/s6/sc_grid.sh") -> None:
    cells: dict[str, Any] = {}
    for policy in ("default", "qwen1.5b"):
        for split, cats in SPLITS.items():
            for mode in MODES:
                paths = [reports / f"sc-{policy}-{c}-{mode}.json" for c in cats]
                if all(p.is_file() for p in paths):
                    cells[f"{policy}|{split}|{mode}"] = cell([json.loads(p.read_text()) for p in paths])
    targets: dict[str, Any] = {}
    for key in sorted({k.rsplit("|", 1)[0] for k in cells}):
        bon, res, ret = (cells.get(f"{key}|{m}") for m in ("best_of_n", "resample", "retry"))
        row: dict[str, Any] = {}
        if bon and res:
            row["resample_vs_best_of_n"] = {
                "points_below": round(100 * (bon["critic"] - res["critic"]) / bon["n"], 1),
                "token_share": round(res["policy_tokens"]["critic"] / bon["policy_tokens"]["critic"], 3),
                "completion_token_share": round(
                    res["policy_completion_tokens"]["critic"] / bon["policy_completion_tokens"]["critic"], 3),
                "met": (bon["critic"] - res["critic"]) / bon["n"] <= 0.02
                and res["policy_tokens"]["critic"] <= 0.5 * bon["policy_tokens"]["critic"],
            }
        if ret:
            row["retry"] = {"lift_points": ret["lift_points"], "broken": ret["broken"],
                            "met": ret["lift_points"] >= 5 and ret["broken"] <= 1}
        targets[key] = row
    out.write_text(json.dumps({"command": command, "cells": cells,
                               "targets": targets}, indent=2) + "\n")
    for key, c in sorted(cells.items()):
        print(f"{key:40s} {c['baseline']:>3}/{c['n']} -> {c['critic']:>3}/{c['n']}  fixed {c['fixed']} broken "
              f"{c['broken']}  calls {c['policy_calls']['critic']}  tokens {c['policy_tokens']['critic']}  "
              f"{c['seconds']} s")
    print(json.dumps(targets, indent=1))


if __name__ == "__main__":
    if len(sys.argv) == 4:
        main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 1:
        main()
    else:
        sys.exit(f"usage: {sys.argv[0]} [REPORTS_DIR SUMMARY_JSON COMMAND]")
