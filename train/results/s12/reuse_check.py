"""Issue 21, ninth session: the LM reader with and without the reuse of a kept prefix's KV cache, on the 20
seeded dev contexts of s9/cost.sh (the first a warm-up), alternating twice, both cores. It reports the
reader's milliseconds per context in each run and the largest difference between the two readings of any
proposal (mean, minimum and sum of the log-probabilities). Run it with nothing else on the machine.

Usage: ``python train/results/s12/reuse_check.py OUT_JSON``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import toolrm_agent.judges.trained.lm_scoring as lm_scoring
from eval.options import load_all_results
from eval.pairs import build_pairs, sample_pairs
from toolrm_agent.models import resolve_model


def main(out: Path) -> None:
    pairs, _ = build_pairs(load_all_results([Path("../shared/data/bfcl-results")], "dev"), seed=11)
    pairs = sample_pairs(pairs, 20, 11)
    runs: list[dict[str, object]] = []
    readings: dict[str, list[list[lm_scoring.LMReading]]] = {}
    for mode in ("none", "reuse", "none", "reuse"):
        lm_scoring.MIN_SHARED_TOKENS = 8 if mode == "reuse" else 10**9  # the module constant the reader reads
        scorer = lm_scoring.LMScorer(resolve_model("default"), tools="called", threads=2, recent_readings=0)
        scorer.read(pairs[0].context, [pairs[0].chosen])
        start = time.perf_counter()
        readings[mode] = [scorer.read(p.context, [p.chosen, p.rejected]) for p in pairs[1:]]
        runs.append({"mode": mode, "ms_per_context": round(1000 * (time.perf_counter() - start) / (len(pairs) - 1))})
    diff = max(abs(getattr(a, f) - getattr(b, f)) for ra, rb in zip(readings["reuse"], readings["none"], strict=True)
               for a, b in zip(ra, rb, strict=True) for f in ("mean_logprob", "min_logprob", "sum_logprob"))
    report = {"runs": runs, "max_abs_difference": diff, "contexts": len(pairs) - 1,
              "command": f"python train/results/s12/reuse_check.py {out}"}
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(report)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
