#!/usr/bin/env bash
# Reproduces the measurements of train/RESULTS.md (one job at a time: 2 cores).
# Usage: bash scripts/train_results.sh OUT_DIR [CRITIC]   (CRITIC defaults to disc:default)
# Every step writes OUT_DIR/<name>.json and is skipped when that file exists (resumable).
set -euo pipefail
OUT=${1:?usage: train_results.sh OUT_DIR [CRITIC]}
CRITIC=${2:-disc:default}
BFCL=${BFCL_RESULTS:-../shared/data/bfcl-results}
T=${TOOLRM:-.venv/bin/toolrm}
mkdir -p "$OUT"
step() {  # step NAME CMD...
  local name=$1; shift
  if [[ -s "$OUT/$name.json" ]]; then echo "== $name: done"; return; fi
  echo "== $name: $*"; local t0=$SECONDS
  "$@" --out "$OUT/$name.json" > "$OUT/$name.log" 2>&1
  echo "   $((SECONDS - t0)) s"
}
step trbench-schema   $T eval trbench --results "$BFCL" --judge schema
step trbench-critic   $T eval trbench --results "$BFCL" --judge "$CRITIC"
step bon-schema       $T eval bon --results "$BFCL" --judge schema --k 4
step bon-critic       $T eval bon --results "$BFCL" --judge "$CRITIC" --k 4
for cat in parallel multiple; do
  for mode in retry best_of_n; do
    step "selfcorrect-$cat-$mode" $T eval selfcorrect --policy default --judge "$CRITIC" \
      --category $cat --limit ${LIVE_LIMIT:-15} --mode $mode --n 3
  done
done
step trbench-lik      $T eval trbench --results "$BFCL" --judge "lik:default?cache_dir=$OUT/lmcache" --limit ${LIK_LIMIT:-600}
