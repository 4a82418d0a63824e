#!/usr/bin/env bash
# Issue 21: measured after the choice (disc:grounded stays: best dev w_avg), not used to choose. The heads
# trained with the policies' own samples, read on the Qwen3-8B v4 call pairs (LM readings cached).
set -euo pipefail
cd "$(dirname "$0")/../../.." && mkdir -p out/s8
export OMP_NUM_THREADS=1
CALLS=(--category simple_python --category multiple --category parallel --category parallel_multiple
       --category live_simple --category live_multiple --category live_parallel --category live_parallel_multiple)
for j in two-g234 g4q-frl two-g2345 g5q-frl; do
  [[ -s train/results/s8/v4calls-$j.json ]] || .venv/bin/toolrm eval trbench --results ../shared/data/bfcl-results-v4/Qwen_Qwen3-8B \
     --seed 7 "${CALLS[@]}" --judge "disc:out/g/$j?cache_dir=out/g/cache-v4&threads=1&suggest=false" \
     --out train/results/s8/v4calls-$j.json 2>&1 | tail -3
done
echo "== done $(date +%T)"
