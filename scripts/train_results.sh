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
source "$(dirname "$0")/_step.sh"   # step NAME CMD...
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
