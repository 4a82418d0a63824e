#!/usr/bin/env bash
# Issue 21, eleventh session: what the critic chosen by devlive2.sh's rule (bag2: the mean of the shipped LM
# head and the eighth session's rerun head, built in the ninth session by s12/bag.py) must pass before it ships
# as disc:grounded (the ninth session's ship checks, s12/ship_checks.sh, removed since, run again here):
#   1. the test sets, read once (s10/test_chosen.sh: test half, Qwen3-8B v4 calls and irrelevance);
#   2. best-of-4 on the test half, judge alone and with the consensus term (s10/bon_grounded.sh);
#   3. the live self-correction grid, retry and best-of-3 on 15 + 15 questions (s8/sc_grounded.sh), the two
#      modes side by side (one llama.cpp thread and one torch thread each).
# It ships only if best-of-4 gap_closed >= 0.6 with every category > 0.3, and the live grid is no worse
# than the shipped critic's (s12/sc-grounded-veto.json: retry 14/30, best-of-3 19/30, 0 broken). Resumable.
set -euo pipefail
cd "$(dirname "$0")/../../.."
NAME=${NAME:-bag2} DIR=${DIR:-out/g/bag2}
R=train/results/s14
mkdir -p out/s14
echo "== $(date +%T) start $NAME"
for m in best_of_n retry; do
  OUT=out/s14sc-$NAME JUDGE="disc:$DIR" MODES=$m bash train/results/s8/sc_grounded.sh > $R/logs/sc-$NAME-$m.log 2>&1 &
done
R=$R THREADS=1 bash train/results/s10/test_chosen.sh "$NAME" "$DIR"
R=$R NAME=$NAME DIR=$DIR bash train/results/s10/bon_grounded.sh
wait
.venv/bin/python train/results/s6/sc_summary.py out/s14sc-$NAME $R/sc-$NAME.json "bash train/results/s14/ship_checks.sh"
echo "== $(date +%T) done"
