#!/usr/bin/env bash
# Issue 21 on a fresh machine: does the shipped disc:grounded read the dev pairs as it did where it was
# chosen, and does its recipe (s10/policy06.sh + the head of s10/policy06_heads.sh) give a head as good
# when run again? The 0.5B's samples are not seeded per request (the server draws a seed for each), so
# the rebuilt build holds other samples: this measures the recipe, not a copy. Two jobs side by side,
# one core each: the shipped critic's dev150 reading (torch, one thread; it fills the reading cache the
# rebuilt head then reads from) and the rebuild's sampling (llama.cpp, one thread). Resumable.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export OMP_NUM_THREADS=1
T=.venv/bin/toolrm
R=train/results/s11
judge() { echo "disc:$1?cache_dir=out/g/cache-dev&threads=1&suggest=false"; }
dev150() {  # critic report
  [[ -s $2 ]] || $T eval trbench --results ../shared/data/bfcl-results --split dev --limit 150 --seed 7 \
      --judge "$(judge "$1")" --out "$2" 2>&1 | tail -1
}
echo "== $(date +%T) start"
dev150 grounded $R/dev150-shipped-fresh.json &
reading=$!
TOOLRM_LLAMACPP_THREADS=1 OUT=out/pref-g6s-r bash train/results/s10/policy06.sh
wait $reading
echo "== $(date +%T) shipped dev150 done"
[[ -s out/g/g6s-r-frl/critic.json ]] || $T train disc --data out/pref-g6s-r --out out/g/g6s-r-frl --base default \
    --inputs features,relevance,lm_stats --lm-tools called --read-workers 1
[[ -s out/g/two-g6s-r/critic.json ]] || $T train two-tier --first toolrm_agent/critics/default \
    --second out/g/g6s-r-frl --out out/g/two-g6s-r --band 0.1,0.9 --band-raw --route always
cp out/pref-g6s-r/stats.json $R/build-g6s-r-stats.json
dev150 out/g/two-g6s-r $R/dev150-two-g6s-r.json
echo "== $(date +%T) done"
