#!/usr/bin/env bash
# Issue 21: candidate critics on the two dev sets, then the choice by s10/select.py (the rule fixed in the
# seventh session: the mean of the two w_avg figures; a tie keeps the shipped critic). The ninth session read
# the bag of bag.py (bag2); s13/read_dev.sh reads the tenth session's candidates with this script
# (R=its folder, CANDIDATES="name=dir ..."). The shipped critic's reports are the eighth session's readings
# of these same sets (s11, *-shipped-fresh). Reading caches: out/g/cache-dev and out/g/cache-devlive (the
# candidates read the shipped LM inputs, so they run no new pass where the shipped critic was read before; a
# missing reading is computed). Resumable: a candidate's existing report is kept.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
T=.venv/bin/toolrm
R=${R:-train/results/s12}
CANDIDATES=${CANDIDATES:-bag2=out/g/bag2}
cp train/results/s11/dev150-shipped-fresh.json $R/dev150-grounded.json
cp train/results/s11/devlive-shipped-fresh.json $R/devlive-grounded.json
for c in $CANDIDATES; do
  name=${c%%=*} dir=${c#*=}
  [[ -s $R/dev150-$name.json ]] || $T eval trbench --results ../shared/data/bfcl-results --split dev --limit 150 \
      --seed 7 --judge "disc:$dir?cache_dir=out/g/cache-dev&threads=${THREADS:-1}&suggest=false" \
      --out $R/dev150-$name.json 2>&1 | tail -1
  [[ -s $R/devlive-$name.json ]] || $T eval trbench --results out/dev-live --seed 7 \
      --judge "disc:$dir?cache_dir=out/g/cache-devlive&threads=${THREADS:-1}&suggest=false" \
      --out $R/devlive-$name.json 2>&1 | tail -1
done
.venv/bin/python train/results/s10/select.py $R
