#!/usr/bin/env bash
# Issue 21: every LM critic built so far, read on the two dev sets: the 150 seeded dev pairs of the
# options table (2024 models, non-live) and every pair of the live dev set that record_live.sh
# writes (the offline policies' answers to BFCL's live questions). select.py then applies the rule
# fixed before these readings (see its docstring). LM readings are cached per dev set, so a rerun
# only reads what is missing. Reports: train/results/s10/{dev150,devlive}-<name>.json.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
T=${THREADS:-1}
R=train/results/s10
# name -> critic directory (disc:<dir>); grounded and default are the shipped ones
declare -A CRITICS=(
  [default]=default [grounded]=grounded
  [g3s-frl]=out/g/g3s-frl [two-g23]=out/g/two-g23 [two-g234]=out/g/two-g234 [g4q-frl]=out/g/g4q-frl
  [two-g2345]=out/g/two-g2345 [g5q-frl]=out/g/g5q-frl
  [two-g23-frlh-mean]=out/g/two-g23-frlh-mean [two-g23-frlh-last]=out/g/two-g23-frlh-last
  [two-g23-frlh-both]=out/g/two-g23-frlh-both [two-fr6-margin]="out/g/two-fr6?route=margin"
  [g6s-frl]=out/g/g6s-frl [two-g23456]=out/g/two-g23456
  [two-g23456-frlh-mean]=out/g/two-g23456-frlh-mean [two-g23456-frlh-last]=out/g/two-g23456-frlh-last
)
ORDER=(default grounded g3s-frl two-g23 two-g234 g4q-frl two-g2345 g5q-frl two-g23-frlh-mean two-g23-frlh-last
       two-g23-frlh-both two-fr6-margin g6s-frl two-g23456 two-g23456-frlh-mean two-g23456-frlh-last)
# the last four are this session's heads (policy06*.sh); the rule counted them in from the start
judge() {  # critic cache-dir
  local dir=$1 sep="?"
  [[ $dir == *"?"* ]] && sep="&"
  echo "disc:$dir${sep}cache_dir=$2&threads=$T&suggest=false"
}
PART=${PART:-both}  # dev150, devlive or both
for name in "${@:-${ORDER[@]}}"; do
  dir=${CRITICS[$name]}
  [[ $PART == dev150 || -s $R/devlive-$name.json ]] || .venv/bin/toolrm eval trbench --results out/dev-live --seed 7 \
      --judge "$(judge "$dir" out/g/cache-devlive)" --out $R/devlive-$name.json 2>&1 | tail -2
  [[ $PART == devlive || -s $R/dev150-$name.json ]] || .venv/bin/toolrm eval trbench --results ../shared/data/bfcl-results \
      --split dev --limit 150 --seed 7 --judge "$(judge "$dir" out/g/cache-dev)" --out $R/dev150-$name.json 2>&1 | tail -2
done
echo "== done $(date +%T)"
