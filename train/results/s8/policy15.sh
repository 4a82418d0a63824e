#!/usr/bin/env bash
# Issue 21, item 2: the offline 1.5B's own answers as training candidates, then the LM head on
# every build with policy samples (corruptions + the 0.5B's + the 1.5B's), read on dev150.
# Resumable: each step skips what its output already holds. Logs: out/s8/policy15*.log.
#   first run:  bash train/results/s8/policy15.sh                      (g4q, seed 4, merged onto g23 → g234)
#   second run: NEW=g5q SEED=5 ONTO=g234 MERGED=g2345 bash train/results/s8/policy15.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
T=.venv/bin/toolrm
NEW=${NEW:-g4q} SEED=${SEED:-4} ONTO=${ONTO:-g23} MERGED=${MERGED:-g234}
export OMP_NUM_THREADS=1
echo "== $(date +%T) 1.5B samples (llamacpp:qwen1.5b, 3 per record, temperature 0.7) → out/pref-$NEW"
TOOLRM_LLAMACPP_THREADS=${TOOLRM_LLAMACPP_THREADS:-2} $T data build --sources ../shared/data/train-sources \
    --out out/pref-$NEW --max-records 60 --seed "$SEED" --policy llamacpp:qwen1.5b --samples 3 --temperature 0.7 \
    --target-pairs 1200
echo "== $(date +%T) LM read of the new build (0.5B trunk, called tools)"
[[ -s out/g/$NEW-frl/critic.json ]] || $T train disc --data out/pref-$NEW --out out/g/$NEW-frl --base default \
    --inputs features,relevance,lm_stats --lm-tools called --read-workers 2
echo "== $(date +%T) merge $ONTO + $NEW"
# builds with other seeds can draw other tools for a far irrelevance variant of the same record;
# the merge carries both builds' LM readings, so the head below reads nothing again
[[ -s out/pref-$MERGED/pairs.jsonl ]] || $T data merge --from out/pref-$ONTO --from out/pref-$NEW \
    --out out/pref-$MERGED --on-conflict keep-first
echo "== $(date +%T) head on $MERGED (no new reading)"
[[ -s out/g/$MERGED-frl/critic.json ]] || $T train disc --data out/pref-$MERGED --out out/g/$MERGED-frl --base default \
    --inputs features,relevance,lm_stats --lm-tools called --read-limit 1
[[ -s out/g/two-$MERGED/critic.json ]] || $T train two-tier --first toolrm_agent/critics/default \
    --second out/g/$MERGED-frl --out out/g/two-$MERGED --band 0.1,0.9 --route always
echo "== $(date +%T) dev150"
DEV=(--results ../shared/data/bfcl-results --split dev --limit 150 --seed 7)
for j in two-$MERGED $NEW-frl; do
  [[ -s train/results/s8/dev150-$j.json ]] || $T eval trbench "${DEV[@]}" \
      --judge "disc:out/g/$j?cache_dir=out/g/cache-dev&threads=1&suggest=false" --out train/results/s8/dev150-$j.json 2>&1 | tail -14
done
echo "== $(date +%T) done"
