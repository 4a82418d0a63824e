#!/usr/bin/env bash
# the test-half and v4 figures of the shipped critics, read again today (readings cached from 2026-12-06)
set -euo pipefail
cd "$(dirname "$0")/../../.." && mkdir -p out/s4
T=.venv/bin/toolrm
export OMP_NUM_THREADS=1
g() { echo "disc:grounded?cache_dir=out/g/cache-$1&threads=1&suggest=false"; }
CALLS=(--category simple_python --category multiple --category parallel --category parallel_multiple
       --category live_simple --category live_multiple --category live_parallel --category live_parallel_multiple)
V4=../shared/data/bfcl-results-v4/Qwen_Qwen3-8B
B=(--results ../shared/data/bfcl-results --split test --k 4 --limit 60 --seed 7 --consensus 0)
$T eval bon "${B[@]}" --judge disc:default --out out/s4/today-bon60-default.json > /dev/null 2>&1
$T eval bon "${B[@]}" --judge "$(g bon)" --out out/s4/today-bon60-grounded.json > /dev/null 2>&1
$T eval trbench --results ../shared/data/bfcl-results --split test --limit 200 --seed 7 --judge "$(g test)" --out out/s4/today-test200-grounded.json > /dev/null 2>&1
$T eval trbench --results $V4 --seed 7 "${CALLS[@]}" --judge "$(g v4)" --out out/s4/today-v4calls-grounded.json > /dev/null 2>&1
$T eval trbench --results $V4 --seed 7 --category irrelevance --category live_irrelevance --limit 100 --judge "$(g v4irr)" --out out/s4/today-v4irr-grounded.json > /dev/null 2>&1
echo done
