#!/usr/bin/env bash
# Issue 21, item 2: the offline 1.5B's own answers as training candidates, then the LM head on
# every build with policy samples (corruptions + the 0.5B's + the 1.5B's), read on dev150.
# Resumable: each step skips what its output already holds. Logs: out/s8/policy15.log.
set -euo pipefail
cd "$(dirname "$0")/../../.."
T=.venv/bin/toolrm
PY=.venv/bin/python
export OMP_NUM_THREADS=1
echo "== $(date +%T) 1.5B samples (llamacpp:qwen1.5b, 3 per record, temperature 0.7)"
TOOLRM_LLAMACPP_THREADS=${TOOLRM_LLAMACPP_THREADS:-2} $T data build --sources ../shared/data/train-sources \
    --out out/pref-g4q --max-records 60 --seed 4 --policy llamacpp:qwen1.5b --samples 3 --temperature 0.7 \
    --target-pairs 1200
echo "== $(date +%T) LM read of the 1.5B build (0.5B trunk, called tools)"
[[ -s out/g/g4q-frl/critic.json ]] || $T train disc --data out/pref-g4q --out out/g/g4q-frl --base default \
    --inputs features,relevance,lm_stats --lm-tools called --read-workers 2
echo "== $(date +%T) merge g23 + g4q"
[[ -s out/pref-g234/pairs.jsonl ]] || $T data merge --from out/pref-g23 --from out/pref-g4q --out out/pref-g234
cache() { $PY -c "from train.disc.cached import lm_cache_dir; print(lm_cache_dir('$1', 'default', 'called'))"; }
C234=$(cache out/pref-g234); C23=$(cache out/pref-g23); C4=$(cache out/pref-g4q); mkdir -p "$C234"
cp -n "$C23/readings.json" "$C234/" 2>/dev/null || true
for f in "$C23"/shard_*.npz; do cp -n "$f" "$C234/"; done
for f in "$C4"/shard_*.npz; do cp -n "$f" "$C234/shard_g4$(basename "$f" | cut -c6-)"; done
echo "== $(date +%T) heads on g234 (no new reading)"
[[ -s out/g/g234-frl/critic.json ]] || $T train disc --data out/pref-g234 --out out/g/g234-frl --base default \
    --inputs features,relevance,lm_stats --lm-tools called --read-limit 1
[[ -s out/g/two-g234/critic.json ]] || $T train two-tier --first toolrm_agent/critics/default \
    --second out/g/g234-frl --out out/g/two-g234 --band 0.1,0.9 --route always
echo "== $(date +%T) dev150"
DEV=(--results ../shared/data/bfcl-results --split dev --limit 150 --seed 7)
for j in two-g234 g4q-frl; do
  [[ -s out/s8/dev150-$j.json ]] || $T eval trbench "${DEV[@]}" \
      --judge "disc:out/g/$j?cache_dir=out/g/cache-dev&threads=1&suggest=false" --out out/s8/dev150-$j.json 2>&1 | tail -14
done
echo "== $(date +%T) done"
