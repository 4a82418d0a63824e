#!/usr/bin/env bash
# Issue 21, the 0.5B trunk against the 1.5B (`resolve_model("qwen1.5b")`): the same head (features +
# relevance + LM statistics) on the same records of the same build (g2: the 450-record corruption
# build whose first 250 records disc:grounded's LM tier was fitted on), read by each trunk, then
# both heads on the 150 dev pairs of the options table. Resumable: the LM read writes shards.
set -euo pipefail
cd "$(dirname "$0")/../../.."
T=.venv/bin/toolrm
S=train/results/s9
export OMP_NUM_THREADS=1
DEV=(--results ../shared/data/bfcl-results --split dev --limit 150 --seed 7)
echo "== $(date +%T) the 1.5B's read of g2's first ${LIMIT:=250} records (two workers), and its head"
[[ -s out/g/g2-frl-15/critic.json ]] || $T train disc --data out/pref-g2 --out out/g/g2-frl-15 --base qwen1.5b \
    --inputs features,relevance,lm_stats --lm-tools called --read-workers 2 --read-limit "$LIMIT"
echo "== $(date +%T) the 0.5B's head on the records the 1.5B read"
READ15=$(.venv/bin/python -c "from pathlib import Path; from train.disc.cached import lm_cache_dir; \
print(lm_cache_dir(Path('out/pref-g2'), 'qwen1.5b', 'called'))")
[[ -s out/g/g2-frl-05/critic.json ]] || .venv/bin/python $S/same_records.py out/pref-g2 "$READ15" \
    out/pref-g2/readings-default-called out/g/g2-sub05-readings out/g/g2-frl-05
for h in g2-frl-05 g2-frl-15; do
  echo "== $(date +%T) $h on dev150 (two torch threads)"
  [[ -s $S/dev150-$h.json ]] || OMP_NUM_THREADS=2 $T eval trbench "${DEV[@]}" \
      --judge "disc:out/g/$h?cache_dir=out/g/cache-dev&threads=2&suggest=false" --out $S/dev150-$h.json \
      2>&1 | tail -14
done
echo "== $(date +%T) done"
