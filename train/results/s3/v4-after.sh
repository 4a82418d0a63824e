#!/usr/bin/env bash
# measured after the choice (disc:grounded stays: best dev w_avg); not used to choose
cd /work/main
CALLS=(--category simple_python --category multiple --category parallel --category parallel_multiple
       --category live_simple --category live_multiple --category live_parallel --category live_parallel_multiple)
for j in g3s-frl two-g23; do
  [[ -s out/s3/v4calls-$j.json ]] || OMP_NUM_THREADS=1 .venv/bin/toolrm eval trbench --results ../shared/data/bfcl-results-v4/Qwen_Qwen3-8B --seed 7 "${CALLS[@]}" \
     --judge "disc:out/g/$j?cache_dir=out/g/cache-v4&threads=1&suggest=false" --out out/s3/v4calls-$j.json 2>&1 | tail -3
done
echo "== done $(date +%T)"
