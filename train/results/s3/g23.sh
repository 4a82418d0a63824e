#!/usr/bin/env bash
# issue 21: the LM head retrained with the 0.5B's own samples (g3s) merged with the 450-record build (g2)
set -euo pipefail
cd /work/main
T=.venv/bin/toolrm
PY=.venv/bin/python
export OMP_NUM_THREADS=1
echo "== $(date +%T) merge"
[[ -s out/pref-g23/pairs.jsonl ]] || $T data merge --from out/pref-g2 --from out/pref-g3s --out out/pref-g23
echo "== $(date +%T) read + head on g3s alone"
[[ -s out/g/g3s-frl/critic.json ]] || $T train disc --data out/pref-g3s --out out/g/g3s-frl --base default \
    --inputs features,relevance,lm_stats --lm-tools called --read-workers 2
cache() { $PY -c "from train.disc.cached import lm_cache_dir; print(lm_cache_dir('$1', 'default', 'called'))"; }
C23=$(cache out/pref-g23); C3=$(cache out/pref-g3s); mkdir -p "$C23"
cp out/pref-g2/readings-default-called/readings.json "$C23/"
for f in out/pref-g2/readings-default-called/shard_*.npz; do cp -n "$f" "$C23/shard_g2$(basename "$f" | cut -c6-)"; done
for f in "$C3"/shard_*.npz; do cp -n "$f" "$C23/shard_g3$(basename "$f" | cut -c6-)"; done
echo "== $(date +%T) head on g23 (no new reading)"
[[ -s out/g/g23-frl/critic.json ]] || $T train disc --data out/pref-g23 --out out/g/g23-frl --base default \
    --inputs features,relevance,lm_stats --lm-tools called --read-limit 1
[[ -s out/g/two-g23/critic.json ]] || $T train two-tier --first toolrm_agent/critics/default --second out/g/g23-frl \
    --out out/g/two-g23 --band 0.1,0.9 --route always
echo "== $(date +%T) dev150"
DEV=(--results ../shared/data/bfcl-results --split dev --limit 150 --seed 7)
for j in two-g23 g3s-frl; do
  [[ -s out/s3/dev150-$j.json ]] || $T eval trbench "${DEV[@]}" \
      --judge "disc:out/g/$j?cache_dir=out/g/cache-dev&threads=1&suggest=false" --out out/s3/dev150-$j.json 2>&1 | tail -14
done
echo "== $(date +%T) done"
