#!/usr/bin/env bash
# issue 19: TRBench in the paper's categories (public non-live pairs + Qwen3-8B v4 for the live ones)
cd /work/main
R=(--results ../shared/data/bfcl-results --results ../shared/data/bfcl-results-v4/Qwen_Qwen3-8B --seed 7)
for j in schema disc:default; do
  n=${j//:/-}
  [[ -s out/s3/paper-$n.json ]] || { echo "== $(date +%T) $j"; OMP_NUM_THREADS=1 /usr/bin/time -f "%e s wall" .venv/bin/toolrm eval trbench "${R[@]}" --judge $j --out out/s3/paper-$n.json 2>&1 | tail -8; }
done
echo "== done $(date +%T)"
