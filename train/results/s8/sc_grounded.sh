#!/usr/bin/env bash
# Issue 21's last live line: `disc:grounded` (calibrated) in retry and best-of-3 with the 0.5B policy, on the
# same 15 + 15 parallel and multiple questions and settings as issue 18's grid (train/results/s6/sc_grid.sh,
# whose `disc:default` rows are the baseline). Resumable; full reports in out/s8/ (they hold the policy's
# answers to BFCL questions); `python train/results/s6/sc_summary.py out/s8 train/results/s8/sc-grounded.json "bash train/results/s8/sc_grounded.sh"`
# writes the committed summary.
# OUT: where the full reports go (default out/s8; train/results/s10/sc_grounded.sh reads the seventh
# session's disc:grounded into out/s10sc)
OUT=${OUT:-out/s8}
JUDGE=${JUDGE:-disc:grounded}  # another critic (a directory) for the same grid
cd "$(dirname "$0")/../../.." && mkdir -p "$OUT"
T=.venv/bin/toolrm
export TOOLRM_LLAMACPP_THREADS=${TOOLRM_LLAMACPP_THREADS:-1} OMP_NUM_THREADS=1
run() { # category mode
  local out=$OUT/sc-default-$1-$2.json
  [[ -s $out ]] && return 0
  echo "== $(date +%T) $1 $2"
  /usr/bin/time -f "%e s wall" $T eval selfcorrect --policy llamacpp:default --judge "$JUDGE?threads=1" \
      --category $1 --limit 15 --mode $2 --n 3 --seed 0 --server-slots 1 --out $out 2>&1 | grep -v "^\s*$" | tail -4
}
for m in ${MODES:-best_of_n retry}; do run parallel $m; run multiple $m; done
echo "== done $(date +%T)"
