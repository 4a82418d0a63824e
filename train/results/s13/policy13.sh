#!/usr/bin/env bash
# Issue 21, tenth session: more of the two offline policies' own mistakes (the recipe of the shipped head: each
# build holds its records' corruptions beside the policy's samples), without the 450-record corruption build (g2).
# The shipped LM tier was trained on one build of 60 records of the 0.5B's answers (g6s); a second draw of
# the same recipe (g6s-r, eighth session) read the live dev set 0.075 lower, so one build of 60 records is a
# noisy draw. Here: two new builds, side by side, one llama.cpp thread each:
#   A  the 0.5B, 90 records (seed 13), three samples at temperature 1.0 (the shipped recipe's settings);
#   B  the 1.5B, 45 records (seed 14), three samples at temperature 1.0;
# their LM reading (0.5B trunk, called tools, the shipped inputs), the merges with g6s-r (the eighth
# session's build of the shipped recipe), and one head per build and merge. The candidates, fixed here
# before any of them is read: c13a (A), c13b (B), c13ra (g6s-r + A), c13rab (g6s-r + A + B). read_dev.sh
# reads them on the two dev sets and applies s10/select.py's rule. Resumable: each step skips what exists.
set -euo pipefail
cd "$(dirname "$0")/../../.."
T=.venv/bin/toolrm
export OMP_NUM_THREADS=1
SRC=../shared/data/train-sources
mkdir -p out/s13
echo "== $(date +%T) builds A (0.5B) and B (1.5B), side by side"
TOOLRM_LLAMACPP_THREADS=1 $T data build --sources $SRC --out out/pref-13a --max-records 90 --seed 13 \
    --policy llamacpp:default --samples 3 --temperature 1.0 --target-pairs 1800 > out/s13/build-13a.log 2>&1 &
PA=$!
TOOLRM_LLAMACPP_THREADS=1 $T data build --sources $SRC --out out/pref-13b --max-records 45 --seed 14 \
    --policy llamacpp:qwen1.5b --samples 3 --temperature 1.0 --target-pairs 900 > out/s13/build-13b.log 2>&1 &
PB=$!
wait $PA; echo "== $(date +%T) build A done"
wait $PB; echo "== $(date +%T) build B done"
echo "== $(date +%T) LM reads of A and B (one worker each)"
fit() {  # fit DATA OUT [extra train-disc args]
  local data=$1 out=$2; shift 2
  [[ -s $out/critic.json ]] || $T train disc --data "$data" --out "$out" --base default \
      --inputs features,relevance,lm_stats --lm-tools called "$@"
}
fit out/pref-13a out/g/13a-frl --read-workers 1 > out/s13/read-13a.log 2>&1 &
PA=$!
fit out/pref-13b out/g/13b-frl --read-workers 1 > out/s13/read-13b.log 2>&1 &
PB=$!
wait $PA; wait $PB
echo "== $(date +%T) merges onto g6s-r, and their heads (no new reading)"
[[ -s out/pref-13ra/pairs.jsonl ]] || $T data merge --from out/pref-g6s-r --from out/pref-13a \
    --out out/pref-13ra --on-conflict keep-first
[[ -s out/pref-13rab/pairs.jsonl ]] || $T data merge --from out/pref-g6s-r --from out/pref-13a --from out/pref-13b \
    --out out/pref-13rab --on-conflict keep-first
fit out/pref-13ra out/g/13ra-frl --read-limit 1
fit out/pref-13rab out/g/13rab-frl --read-limit 1
for n in 13a 13b 13ra 13rab; do
  [[ -s out/g/two-$n/critic.json ]] || $T train two-tier --first toolrm_agent/critics/default \
      --second out/g/$n-frl --out out/g/two-$n --band 0.1,0.9 --band-raw --route always
done
for n in 13a 13b 13ra 13rab; do cp "out/pref-$n/stats.json" "train/results/s13/build-$n-stats.json"; done
echo "== $(date +%T) done"
