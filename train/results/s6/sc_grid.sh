#!/usr/bin/env bash
# Issue 18's live grid: `toolrm eval selfcorrect` with the calibrated `disc:default` (accept threshold
# 0.224, the uncalibrated 0.9001 chosen on BFCL's dev half), both offline policies served by llama.cpp
# with one slot (in one check, seeded samples repeated), modes retry, resample and best_of_n (n=3), on the
# first 15 questions of parallel and of multiple, and the first 30 of simple_python. Resumable: a
# finished report is not run again. Full reports in out/s6/ (they hold the policy's answers to BFCL
# questions); `python train/results/s6/sc_summary.py` writes the committed summary.
cd "$(dirname "$0")/../../.." && mkdir -p out/s6
T=.venv/bin/toolrm
export TOOLRM_LLAMACPP_THREADS=${TOOLRM_LLAMACPP_THREADS:-2} OMP_NUM_THREADS=1
run() { # policy category limit mode
  local out=out/s6/sc-$1-$2-$4.json
  [[ -s $out ]] && return 0
  echo "== $(date +%T) $1 $2 $4"
  /usr/bin/time -f "%e s wall" $T eval selfcorrect --policy llamacpp:$1 --judge disc:default --category $2 \
      --limit $3 --mode $4 --n 3 --seed 0 --server-slots 1 --out $out 2>&1 | grep -v "^\s*$" | tail -4
}
for p in ${POLICIES:-default qwen1.5b}; do
  for m in retry resample best_of_n; do
    run $p parallel 15 $m; run $p multiple 15 $m
  done
  for m in retry resample best_of_n; do run $p simple_python 30 $m; done
done
echo "== done $(date +%T)"
