#!/usr/bin/env bash
# best-of-4 on the test half, once, with the consensus weight chosen on dev (0.3)
set -euo pipefail
cd "$(dirname "$0")/../../.." && mkdir -p out/s4
T=.venv/bin/toolrm
export OMP_NUM_THREADS=1
B=(--results ../shared/data/bfcl-results --split test --k 4 --limit 60 --seed 7 --consensus 0.3)
[[ -s out/s4/bon60-default-c03.json ]] || $T eval bon "${B[@]}" --judge disc:default --out out/s4/bon60-default-c03.json
[[ -s out/s4/bon60-grounded-c03.json ]] || $T eval bon "${B[@]}" \
    --judge "disc:grounded?cache_dir=out/g/cache-bon&threads=1&suggest=false" --out out/s4/bon60-grounded-c03.json
echo done
