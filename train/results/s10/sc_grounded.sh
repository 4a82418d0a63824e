#!/usr/bin/env bash
# Issue 21's last live line, again for the disc:grounded chosen on the live dev set (g6s-frl's head): `disc:grounded` (calibrated) in retry and best-of-3 with the 0.5B policy, on the
# same 15 + 15 parallel and multiple questions and settings as issue 18's grid (train/results/s6/sc_grid.sh,
# whose `disc:default` rows are the baseline). Resumable; full reports in out/s10sc/ (they hold the policy's
# answers to BFCL questions); `python train/results/s6/sc_summary.py out/s10sc train/results/s10/sc-grounded.json "bash train/results/s10/sc_grounded.sh"`
# writes the committed summary.
cd "$(dirname "$0")/../../.." && mkdir -p out/s10sc
T=.venv/bin/toolrm
export TOOLRM_LLAMACPP_THREADS=${TOOLRM_LLAMACPP_THREADS:-1} OMP_NUM_THREADS=1
run() { # category mode
  local out=out/s10sc/sc-default-$1-$2.json
  [[ -s $out ]] && return 0
  echo "== $(date +%T) $1 $2"
  /usr/bin/time -f "%e s wall" $T eval selfcorrect --policy llamacpp:default --judge "disc:grounded?threads=1" \
      --category $1 --limit 15 --mode $2 --n 3 --seed 0 --server-slots 1 --out $out 2>&1 | grep -v "^\s*$" | tail -4
}
for m in best_of_n retry; do run parallel $m; run multiple $m; done
echo "== done $(date +%T)"
