#!/usr/bin/env bash
# Issue 21, tenth session: policy13.sh's four candidates (c13a, c13b, c13ra, c13rab, fixed there) on the two
# dev sets, then the choice by s10/select.py (the rule fixed in the seventh session: the mean of the two w_avg
# figures; a tie keeps the shipped critic). The shipped critic's reports are the eighth session's readings of
# these same sets (s11, *-shipped-fresh); the schema veto changed none of them (s12). The candidates read the
# shipped inputs, so the reading caches of the earlier sessions (out/g/cache-dev, out/g/cache-devlive) hold
# their LM passes wherever a fresh machine rebuilt them; a missing reading is computed. Resumable.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
T=.venv/bin/toolrm
R=train/results/s13
cp train/results/s11/dev150-shipped-fresh.json $R/dev150-grounded.json
cp train/results/s11/devlive-shipped-fresh.json $R/devlive-grounded.json
for n in ${NAMES:-13a 13b 13ra 13rab}; do
  [[ -s $R/dev150-$n.json ]] || $T eval trbench --results ../shared/data/bfcl-results --split dev --limit 150 --seed 7 \
      --judge "disc:out/g/two-$n?cache_dir=out/g/cache-dev&threads=${THREADS:-1}&suggest=false" --out $R/dev150-$n.json \
      2>&1 | tail -1
  [[ -s $R/devlive-$n.json ]] || $T eval trbench --results out/dev-live --seed 7 \
      --judge "disc:out/g/two-$n?cache_dir=out/g/cache-devlive&threads=${THREADS:-1}&suggest=false" \
      --out $R/devlive-$n.json 2>&1 | tail -1
done
.venv/bin/python train/results/s10/select.py $R
