"""Issue 21: which LM critic ships as ``disc:grounded``, by a rule fixed before the live dev set was read.

The rule (written 2026-12-07, before any critic read ``out/dev-live``): among the LM critics that
``read_devlive.sh`` reads, the one with the highest mean of two w_avg figures ships as
``disc:grounded``:

* the 150 seeded dev pairs of the options table (``--split dev --limit 150 --seed 7``: 2024 models,
  non-live questions), and
* every pair of the live dev set (``out/dev-live``: the offline 0.5B's and 1.5B's answers to a
  seeded draw of BFCL's live questions, ``record_live.sh``).

A tie keeps the shipped critic. ``disc:default`` is read for reference only: it stays the fast
critic whatever this says. Caveat, said where the result is quoted: these candidates' readings on
the Qwen3-8B v4 test run were seen in earlier sessions (after their choices); the live dev set was
built because the old dev set has no live category, and the rule was fixed before it was read.

Usage: ``python train/results/s10/select.py [REPORT_DIR] [DEV] [LIVE]`` prints the table and the choice,
and writes ``selection.json`` beside the reports. ``DEV`` and ``LIVE`` name the two dev sets' reports
(``DEV-<critic>.json``, ``LIVE-<critic>.json``; default ``dev150`` and ``devlive``): the eleventh session's
rule (``s14/devlive2.sh``) is this one on a larger draw of the same dev half (``dev500``) and a second live
draw that holds no question of the first (``devlive2``); its table is written as
``selection-dev500-devlive2.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SHIPPED = "grounded"
REFERENCE = ("default",)
CALLS = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple")


def _report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _share(report: dict[str, Any], categories: tuple[str, ...]) -> tuple[float, int]:
    """Accuracy over the pairs of ``categories`` and their count."""
    rows = [report["per_category"][c] for c in categories if c in report["per_category"]]
    n = sum(int(r["n"]) for r in rows)
    right = sum(float(r["acc"]) * int(r["n"]) for r in rows)
    return (right / n if n else 0.0), n


def rows(folder: Path, dev_set: str = "dev150", live_set: str = "devlive") -> list[dict[str, Any]]:
    """One row per critic read on both dev sets (``dev_set``'s reports and ``live_set``'s)."""
    out = []
    for live in sorted(folder.glob(f"{live_set}-*.json")):
        name = live.stem.removeprefix(f"{live_set}-")
        dev = folder / f"{dev_set}-{name}.json"
        if not dev.exists():
            continue
        lr, dr = _report(live), _report(dev)
        calls, n_calls = _share(lr, CALLS)
        irr, n_irr = _share(lr, ("live_irrelevance",))
        out.append({
            "name": name, dev_set: dr["w_avg"], "devlive": lr["w_avg"], "devlive_pairs": lr["n_pairs"],
            "devlive_calls": calls, "devlive_calls_pairs": n_calls, "devlive_irrelevance": irr,
            "devlive_irrelevance_pairs": n_irr,
            "devlive_value_error_string": (lr["per_error_type"].get("value_error:string") or {}).get("acc"),
            "score": (dr["w_avg"] + lr["w_avg"]) / 2, "candidate": name not in REFERENCE,
        })
    return out


def choose(table: list[dict[str, Any]]) -> str:
    """The rule: the highest score among candidates; a tie keeps the shipped critic."""
    candidates = [r for r in table if r["candidate"]]
    best = max(r["score"] for r in candidates)
    top = [r["name"] for r in candidates if abs(r["score"] - best) < 1e-12]
    return SHIPPED if SHIPPED in top else top[0]


def main(folder: Path, dev_set: str = "dev150", live_set: str = "devlive") -> None:
    table = rows(folder, dev_set, live_set)
    if not table:
        raise SystemExit(f"no critic read on both dev sets in {folder}")
    chosen = choose(table)
    print(f"{'critic':22} {dev_set:>7} {live_set:>8} {'pairs':>6} {'calls':>6} {'irrel.':>7} "
          f"{'ve:str':>7} {'score':>6}")
    for r in sorted(table, key=lambda r: -r["score"]):
        mark = " <- chosen" if r["name"] == chosen else ("" if r["candidate"] else " (reference)")
        ve = r["devlive_value_error_string"]
        print(f"{r['name']:22} {r[dev_set]:7.3f} {r['devlive']:8.3f} {r['devlive_pairs']:6d} "
              f"{r['devlive_calls']:6.3f} {r['devlive_irrelevance']:7.3f} {ve if ve is None else round(ve, 3)!s:>7} "
              f"{r['score']:6.3f}{mark}")
    name = "selection.json" if (dev_set, live_set) == ("dev150", "devlive") else f"selection-{dev_set}-{live_set}.json"
    (folder / name).write_text(json.dumps({"chosen": chosen, "rows": table}, indent=2) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent, *sys.argv[2:4])
