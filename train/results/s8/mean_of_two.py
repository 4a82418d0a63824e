"""Issue 21, dev only: would a mean of two critics' scores beat either? Reads two `toolrm eval trbench
--details` reports on the same pairs (written by `bash train/results/s8/hidden_heads.sh`) and prints the
accuracy of ``(1 - w) * f(first) + w * f(second)`` for each weight ``w``, with ``f`` the score itself or its
logit. The weights are tried on the pairs they are read on: an optimistic figure, for choosing only.

Run: `.venv/bin/python train/results/s8/mean_of_two.py train/results/s8/details-dev150-grounded.json
train/results/s8/details-dev150-two-g23-frlh-mean.json`."""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def outcomes(path: Path) -> dict[str, dict[str, Any]]:
    return {o["pair_id"]: o for o in json.loads(path.read_text())["pairs"]}


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def main(first: Path, second: Path) -> None:
    a, b = outcomes(first), outcomes(second)
    if a.keys() != b.keys():
        sys.exit("the two reports judged different pairs")
    ways: dict[str, Callable[[float], float]] = {"p": lambda p: p, "logit": logit}
    for w in WEIGHTS:
        for name, f in ways.items():
            right: Counter[str] = Counter()
            total: Counter[str] = Counter()
            for key, o in a.items():
                c = (1 - w) * f(o["scores"][0]) + w * f(b[key]["scores"][0])
                r = (1 - w) * f(o["scores"][1]) + w * f(b[key]["scores"][1])
                for group in (o["category"], "calls" if o["category"] != "irrelevance" else "", "all",
                              "value_error:string" if o["error_type"] == "value_error:string" else ""):
                    if group:
                        right[group] += c > r
                        total[group] += 1
            cells = " ".join(f"{g} {right[g]}/{total[g]}" for g in sorted(total))
            print(f"w={w:<4} {name:5} all {right['all'] / total['all']:.3f} calls "
                  f"{right['calls'] / total['calls']:.3f}  {cells}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} FIRST_DETAILS_JSON SECOND_DETAILS_JSON")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
