#!/usr/bin/env bash
# Issue 21: the critic select.py chose, read once on the two test sets with the commands of
# train/RESULTS.md §7 "Test, once" (test half: 200 seeded pairs; Qwen3-8B v4: the 307 call pairs and
# 100 seeded irrelevance pairs). Usage: bash test_chosen.sh NAME CRITIC_DIR. LM readings cached per set;
# R=DIR writes the reports there (s11 read the shipped critic again: R=train/results/s11 ... shipped-fresh grounded).
set -euo pipefail
cd "$(dirname "$0")/../../.."
NAME=$1 DIR=$2
T=.venv/bin/toolrm R=${R:-train/results/s10}  # R: where the reports go
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
j() { echo "disc:$DIR?cache_dir=out/g/cache-$1&threads=${THREADS:-1}&suggest=false"; }
CALLS=(--category simple_python --category multiple --category parallel --category parallel_multiple
       --category live_simple --category live_multiple --category live_parallel --category live_parallel_multiple)
V4=../shared/data/bfcl-results-v4/Qwen_Qwen3-8B
[[ -s $R/test200-$NAME.json ]] || $T eval trbench --results ../shared/data/bfcl-results --split test --limit 200 --seed 7 \
    --judge "$(j test)" --out $R/test200-$NAME.json 2>&1 | tail -1
[[ -s $R/v4calls-$NAME.json ]] || $T eval trbench --results $V4 --seed 7 "${CALLS[@]}" --judge "$(j v4)" \
    --out $R/v4calls-$NAME.json 2>&1 | tail -1
[[ -s $R/v4irr-$NAME.json ]] || $T eval trbench --results $V4 --seed 7 --category irrelevance --category live_irrelevance \
    --limit 100 --judge "$(j v4irr)" --out $R/v4irr-$NAME.json 2>&1 | tail -1
echo "== done $(date +%T)"
