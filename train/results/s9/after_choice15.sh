#!/usr/bin/env bash
# Issue 21, measured after the choice (the 0.5B trunk stays), not used to choose: the 1.5B trunk's head
# and the 0.5B's on the same records, read on 120 seeded Qwen3-8B v4 call pairs (the 0.5B's readings
# of them are cached; the 1.5B's are read here, two torch threads).
set -euo pipefail
cd "$(dirname "$0")/../../.."
CALLS=(--category simple_python --category multiple --category parallel --category parallel_multiple
       --category live_simple --category live_multiple --category live_parallel --category live_parallel_multiple)
for h in g2-frl-05 g2-frl-15; do
  [[ -s train/results/s9/v4calls120-$h.json ]] || OMP_NUM_THREADS=2 .venv/bin/toolrm eval trbench \
     --results ../shared/data/bfcl-results-v4/Qwen_Qwen3-8B --seed 7 --limit 120 "${CALLS[@]}" \
     --judge "disc:out/g/$h?cache_dir=out/g/cache-v4&threads=2&suggest=false" \
     --out train/results/s9/v4calls120-$h.json 2>&1 | tail -3
done
echo "== done $(date +%T)"
