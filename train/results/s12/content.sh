#!/usr/bin/env bash
# Issue 21, ninth session: LM statistics over the proposal's own text. The rendering's tag tokens
# (<tool_call>, </tool_call>, <|im_end|>) cost the offline 0.5B about -23, -20 and -9 whatever the call
# says (it writes bare JSON), so with them counted the minimum is the tag's for every call and the mean
# mostly says how long the call is. Zero-shot, on the first 80 call pairs of the dev draw (seed 7), the
# statistics without them pick the right side more often (sum 0.762 -> 0.812, mean 0.637 -> 0.738, min
# 0.388 -> 0.562; /tmp probe, dev data). The candidate, fixed before any head was read:
#
#   two-g6s-r-c: the eighth session's rerun of the shipped recipe (out/pref-g6s-r, its head two-g6s-r)
#   with the statistics over the proposal's text (`--lm-tags skip`), nothing else changed.
#
# The choice: s10/select.py over train/results/s12 (the shipped critic, bag2 and two-g6s-r as read
# before, two-g6s-r-c); a tie keeps the shipped critic. A winner is read once on the test sets; it ships
# only after the best-of-4 and live self-correction grids hold (s10/bon_grounded.sh, s10/sc_grounded.sh).
#
# Two jobs side by side, one torch thread each: the head (the LM reads the build's candidates again,
# tags skipped) and the dev readings (a critic with the same LM settings fills the reading caches
# out/g/cache-{dev,devlive}-c, so that the head's own dev readings are cache hits). Resumable.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export OMP_NUM_THREADS=1
T=.venv/bin/toolrm
R=train/results/s12
echo "== $(date +%T) start"
(
  [[ -s out/g/g6s-r-frlc/critic.json ]] || $T train disc --data out/pref-g6s-r --out out/g/g6s-r-frlc --base default \
      --inputs features,relevance,lm_stats --lm-tools called --lm-tags skip --read-workers 1
  [[ -s out/g/two-g6s-r-c/critic.json ]] || $T train two-tier --first toolrm_agent/critics/default \
      --second out/g/g6s-r-frlc --out out/g/two-g6s-r-c --band 0.1,0.9 --band-raw --route always
  echo "== $(date +%T) head done"
) &
head=$!
if [[ ! -s out/g/fill-c/critic.json ]]; then  # the shipped critic with the new statistics: fills the caches
  rm -rf out/g/fill-c && cp -r toolrm_agent/critics/grounded out/g/fill-c
  .venv/bin/python -c "import json,sys; p='out/g/fill-c/lm/critic.json'; d=json.load(open(p)); d['lm_tags']='skip'; json.dump(d, open(p,'w'))"
fi
[[ -s out/s12/fill-dev150.json ]] || $T eval trbench --results ../shared/data/bfcl-results --split dev --limit 150 \
    --seed 7 --judge "disc:out/g/fill-c?cache_dir=out/g/cache-dev-c&threads=1&suggest=false" --out out/s12/fill-dev150.json 2>&1 | tail -1
echo "== $(date +%T) dev150 cache filled"
wait $head
[[ -s out/s12/fill-devlive.json ]] || $T eval trbench --results out/dev-live --seed 7 \
    --judge "disc:out/g/fill-c?cache_dir=out/g/cache-devlive-c&threads=2&suggest=false" --out out/s12/fill-devlive.json 2>&1 | tail -1
echo "== $(date +%T) devlive cache filled"
for set in "dev150 --results ../shared/data/bfcl-results --split dev --limit 150 cache-dev-c" "devlive --results out/dev-live cache-devlive-c"; do
  read -r name rest <<<"$set"
  cache=${rest##* }; args=${rest% *}
  # shellcheck disable=SC2086
  [[ -s $R/$name-two-g6s-r-c.json ]] || $T eval trbench $args --seed 7 \
      --judge "disc:out/g/two-g6s-r-c?cache_dir=out/g/$cache&threads=2&suggest=false" --out $R/$name-two-g6s-r-c.json 2>&1 | tail -1
done
cp -n train/results/s11/dev150-two-g6s-r.json train/results/s11/devlive-two-g6s-r.json $R/ || true
.venv/bin/python train/results/s10/select.py $R
echo "== $(date +%T) done"
