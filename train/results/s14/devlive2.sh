#!/usr/bin/env bash
# Issue 21, eleventh session: a second live dev set, and the rule that uses it. Written 2026-12-08 after
# dev500.sh was started and before any of its reports was read.
#
# The rule of dev500.sh paired the new 500-pair dev draw with the live dev set of the seventh session
# (out/dev-live). That set chose the shipped critic, the best of 22 LM critics read on it, so its figure for
# the shipped critic holds that choice's luck (three draws of the recipe: 0.886, 0.811, 0.768). The rule, amended
# here before any reading of either new set was seen: the mean of the dev500 w_avg and the w_avg on a SECOND
# live draw, which holds no question of the first (`toolrm eval record --exclude`), ships; a tie keeps the
# shipped critic (`s10/select.py train/results/s14 dev500 devlive2`, `selection-dev500-devlive2.json`).
# dev500.sh's own table (with the first live set) is printed for reference only.
#
# The draw: seed 22, the same two offline policies, greedy, as s10/record_live.sh: the 0.5B answers 70
# live_simple, 90 live_multiple, 50 live_irrelevance questions, the 1.5B 35, 45 and 25 (live_parallel and
# live_parallel_multiple hold 16 and 24 questions, all in the first draw). One llama.cpp thread each, side
# by side (s10/record_live.sh with this draw). Then the shipped critic and two-g6s-r-c fill the reading caches (out/g/cache-devlive2{,-c}), and the
# other candidates read from them. Resumable: answers and reports that exist are kept. BFCL questions: read
# to choose, never trained on (the answers stay in out/, which git ignores).
set -euo pipefail
cd "$(dirname "$0")/../../.."
export OMP_NUM_THREADS=1 TOOLRM_LLAMACPP_THREADS=1
T=.venv/bin/toolrm
R=train/results/s14
OUT=out/dev-live2
echo "== $(date +%T) recording"
export OUT SEED=22 EXCLUDE="out/dev-live/qwen2.5-coder-0.5b.jsonl out/dev-live/qwen2.5-coder-1.5b.jsonl"
DRAW05="live_simple:70 live_multiple:90 live_irrelevance:50" bash train/results/s10/record_live.sh qwen2.5-coder-0.5b &
small=$!
DRAW15="live_simple:35 live_multiple:45 live_irrelevance:25" bash train/results/s10/record_live.sh qwen2.5-coder-1.5b
wait $small
echo "== $(date +%T) recorded"
read2() {  # name dir cache
  [[ -s $R/devlive2-$1.json ]] || $T eval trbench --results $OUT --seed 7 \
      --judge "disc:$2?cache_dir=$3&threads=1&suggest=false" --out $R/devlive2-$1.json 2>&1 | tail -1
}
read2 grounded toolrm_agent/critics/grounded out/g/cache-devlive2 &
first=$!
read2 two-g6s-r-c out/g/two-g6s-r-c out/g/cache-devlive2-c
wait $first
for c in bag2=out/g/bag2 bag4=out/g/bag4 two-g6s-r=out/g/two-g6s-r two-13a=out/g/two-13a two-13b=out/g/two-13b \
    two-13ra=out/g/two-13ra two-13rab=out/g/two-13rab; do
  read2 ${c%%=*} ${c#*=} out/g/cache-devlive2
done
[[ -s $R/devlive2-default.json ]] || $T eval trbench --results $OUT --seed 7 --judge disc:default \
    --out $R/devlive2-default.json 2>&1 | tail -1
[[ -s $R/dev500-default.json ]] || $T eval trbench --results ../shared/data/bfcl-results --split dev --limit 500 \
    --seed 8 --judge disc:default --out $R/dev500-default.json 2>&1 | tail -1  # the reference row (added after the run)
echo "== $(date +%T) read"
while pgrep -f "s14/dev500.sh" >/dev/null; do sleep 30; done
.venv/bin/python train/results/s10/select.py $R dev500 devlive2
