#!/usr/bin/env bash
# issue 21: heads on the verifier reading (lm_verify), trained on the g23 build, measured on dev150
set -euo pipefail
cd "$(dirname "$0")/../../.." && mkdir -p out/s4
T=.venv/bin/toolrm
export OMP_NUM_THREADS=1
echo "== $(date +%T) heads"
[[ -s out/g/g23-frlv/critic.json ]] || $T train disc --data out/pref-g23 --out out/g/g23-frlv --base default \
    --inputs features,relevance,lm_stats,lm_verify --lm-tools called --read-limit 1 2>&1 | grep -v Loading | tail -5
[[ -s out/g/g23-frv/critic.json ]] || $T train disc --data out/pref-g23 --out out/g/g23-frv --base default \
    --inputs features,relevance,lm_verify --lm-tools called --read-limit 1 2>&1 | grep -v Loading | tail -5
DEV=(--results ../shared/data/bfcl-results --split dev --limit 150 --seed 7)
for j in g23-frlv g23-frv; do
  echo "== $(date +%T) dev150 $j"
  [[ -s out/s4/dev150-$j.json ]] || $T eval trbench "${DEV[@]}" \
      --judge "disc:out/g/$j?cache_dir=out/g/cache-dev&threads=1&suggest=false" --out out/s4/dev150-$j.json 2>&1 | tail -14
done
echo "== $(date +%T) done"
