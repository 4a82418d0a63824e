#!/usr/bin/env bash
# Issue 21: disc:grounded as shipped (toolrm_agent/critics/grounded, g6s's head behind disc:default) read on the
# 150 dev pairs; it must repeat train/results/s10/dev150-g6s-frl.json pair for pair (route=always: the LM head
# decides every proposal). Prints the comparison.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OMP_NUM_THREADS=1 .venv/bin/toolrm eval trbench --results ../shared/data/bfcl-results --split dev --limit 150 --seed 7 \
  --judge "disc:grounded?cache_dir=out/g/cache-dev&threads=1&suggest=false" --out train/results/s10/dev150-shipped.json \
  2>&1 | tail -1
.venv/bin/python - <<'PY'
import json
a = json.load(open("train/results/s10/dev150-shipped.json"))
b = json.load(open("train/results/s10/dev150-g6s-frl.json"))
print("shipped", round(a["w_avg"], 3), "g6s-frl", round(b["w_avg"], 3), "same per category:",
      a["per_category"] == b["per_category"], "same per error type:", a["per_error_type"] == b["per_error_type"])
PY
