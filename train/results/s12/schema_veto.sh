#!/usr/bin/env bash
# Issue 21, ninth session: a call that breaks its tool's schema (an unknown function, a missing required or
# unexpected argument, a wrong type, a value outside the enum, unparseable arguments) is now a decisive
# finding: the trained critics reject it whatever the head's score (features.DECISIVE_SCHEMA_CODES). Scores,
# and so TRBench's pairwise figures, are unchanged; verdicts change, and with them the rankings (accepted
# proposals first) of best-of-N. So the shipped disc:grounded's two best-of-N / self-correction lines are
# measured again with the commands that measured them (s10/bon_grounded.sh, s10/sc_grounded.sh via
# s8/sc_grounded.sh), the two live modes side by side (one llama.cpp thread and one torch thread each),
# best-of-4 beside them. Resumable.
set -euo pipefail
cd "$(dirname "$0")/../../.."
R=train/results/s12
OUT=out/s12sc-veto
mkdir -p out/s12
echo "== $(date +%T) start"
for m in best_of_n retry; do
  OUT=$OUT MODES=$m bash train/results/s8/sc_grounded.sh > out/s12/sc-veto-$m.log 2>&1 &
done
R=$R NAME=grounded-veto DIR=grounded bash train/results/s10/bon_grounded.sh
wait
.venv/bin/python train/results/s6/sc_summary.py $OUT $R/sc-grounded-veto.json "bash train/results/s12/schema_veto.sh"
echo "== $(date +%T) done"
