#!/usr/bin/env bash
# Issue 21, ninth session: the bag of bag.py on the two dev sets, then the choice by s10/select.py (the rule
# fixed in the seventh session: the mean of the two w_avg figures; a tie keeps the shipped critic).
# The shipped critic's reports are the eighth session's readings of these same sets (s11, *-shipped-fresh).
# Reading caches: out/g/cache-dev and out/g/cache-devlive (the same LM inputs, so the bag reads no new pass
# where the shipped critic was read before). Resumable.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
T=.venv/bin/toolrm
R=train/results/s12
BAG=${BAG:-out/g/bag2}
NAME=${NAME:-bag2}
cp train/results/s11/dev150-shipped-fresh.json $R/dev150-grounded.json
cp train/results/s11/devlive-shipped-fresh.json $R/devlive-grounded.json
[[ -s $R/dev150-$NAME.json ]] || $T eval trbench --results ../shared/data/bfcl-results --split dev --limit 150 --seed 7 \
    --judge "disc:$BAG?cache_dir=out/g/cache-dev&threads=${THREADS:-1}&suggest=false" --out $R/dev150-$NAME.json 2>&1 | tail -1
[[ -s $R/devlive-$NAME.json ]] || $T eval trbench --results out/dev-live --seed 7 \
    --judge "disc:$BAG?cache_dir=out/g/cache-devlive&threads=${THREADS:-1}&suggest=false" --out $R/devlive-$NAME.json 2>&1 | tail -1
.venv/bin/python train/results/s10/select.py $R
