#!/usr/bin/env bash
# Issue 21: heads that read the 0.5B trunk's hidden state, trained on the build with the 0.5B's own
# samples (g23: 450 corruption records + 80 policy-sample records, 327 read), read on dev150.
# No new LM reading: the training readings and the dev pairs' readings are cached. Resumable.
set -euo pipefail
cd "$(dirname "$0")/../../.."
T=.venv/bin/toolrm
export OMP_NUM_THREADS=1
DEV=(--results ../shared/data/bfcl-results --split dev --limit 150 --seed 7)
for h in mean last both; do
  d=out/g/g23-frlh-$h
  echo "== $(date +%T) head $d"
  [[ -s $d/critic.json ]] || $T train disc --data out/pref-g23 --out $d --base default \
      --inputs features,relevance,lm_stats,hidden --hidden $h --lm-tools called --read-limit 1
  [[ -s out/g/two-g23-frlh-$h/critic.json ]] || $T train two-tier --first toolrm_agent/critics/default \
      --second $d --out out/g/two-g23-frlh-$h --band 0.1,0.9 --route always
  [[ -s train/results/s8/dev150-two-g23-frlh-$h.json ]] || $T eval trbench "${DEV[@]}" \
      --judge "disc:out/g/two-g23-frlh-$h?cache_dir=out/g/cache-dev&threads=1&suggest=false" \
      --out train/results/s8/dev150-two-g23-frlh-$h.json 2>&1 | tail -14
done
echo "== $(date +%T) per-pair scores of the shipped critic, and the hidden-mean head, for mean_of_two.py"
for j in toolrm_agent/critics/grounded out/g/two-g23-frlh-mean; do
  out=train/results/s8/details-dev150-$(basename $j).json
  [[ -s $out ]] || $T eval trbench "${DEV[@]}" --details \
      --judge "disc:$j?cache_dir=out/g/cache-dev&threads=1&suggest=false" --out $out 2>&1 | tail -3
done
.venv/bin/python train/results/s8/mean_of_two.py train/results/s8/details-dev150-grounded.json \
    train/results/s8/details-dev150-two-g23-frlh-mean.json
echo "== $(date +%T) done"
