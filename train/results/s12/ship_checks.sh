#!/usr/bin/env bash
# Issue 21, ninth session: what a critic chosen by content.sh's rule must pass before it ships as
# disc:grounded, for the candidate NAME in DIR (default: two-g6s-r-c, out/g/two-g6s-r-c):
#   1. the test sets, read once (s10/test_chosen.sh: test half, Qwen3-8B v4 calls and irrelevance);
#   2. best-of-4 on the test half, judge alone and with the consensus term (s10/bon_grounded.sh);
#   3. the live self-correction grid, retry and best-of-3 on 15 + 15 questions (s8/sc_grounded.sh), the two
#      modes side by side (one llama.cpp thread and one torch thread each).
# It ships only if best-of-4 gap_closed >= 0.6 with every category > 0.3, and the live grid is no worse
# than the shipped critic's (s10/sc-grounded.json: retry 14/30, best-of-3 19/30, 0 broken). Resumable.
set -euo pipefail
cd "$(dirname "$0")/../../.."
NAME=${NAME:-two-g6s-r-c} DIR=${DIR:-out/g/two-g6s-r-c}
R=train/results/s12
echo "== $(date +%T) start $NAME"
for m in best_of_n retry; do
  OUT=out/s12sc-$NAME JUDGE="disc:$DIR" MODES=$m bash train/results/s8/sc_grounded.sh > out/s12/sc-$NAME-$m.log 2>&1 &
done
R=$R THREADS=1 bash train/results/s10/test_chosen.sh "$NAME" "$DIR"
R=$R NAME=$NAME DIR=$DIR bash train/results/s10/bon_grounded.sh
wait
.venv/bin/python train/results/s6/sc_summary.py out/s12sc-$NAME $R/sc-$NAME.json "NAME=$NAME bash train/results/s12/ship_checks.sh"
echo "== $(date +%T) done"
