#!/usr/bin/env bash
# Reproduces train/RESULTS.md §6 (issue 21: the critic grounded in a language model).
# Usage: bash scripts/grounding_results.sh OUT_DIR      (resumable: a step whose JSON exists is skipped)
# LM readings are cached per split under OUT_DIR/cache-*, so every head after the first reads no LM.
set -euo pipefail
OUT=${1:?usage: grounding_results.sh OUT_DIR}
BFCL=${BFCL_RESULTS:-../shared/data/bfcl-results}
V4=${BFCL_V4:-../shared/data/bfcl-results-v4/Qwen_Qwen3-8B}
T=${TOOLRM:-.venv/bin/toolrm}
mkdir -p "$OUT"
source "$(dirname "$0")/_step.sh"   # step NAME CMD...
lm() { echo "$1?cache_dir=$OUT/cache-$2&threads=1"; }   # an LM critic spec with its readings cache

# 1. data and critics (the data build takes ~1 min; the LM read of 250 records took ~40 min on 2 busy cores)
[[ -s data/pref-g2/pairs.jsonl ]] || $T data build --sources ../shared/data/train-sources --out data/pref-g2 \
    --max-records 450 --target-pairs 4000 --seed 1
[[ -s runs/cmp-g2/compare.json ]] || $T train disc --data data/pref-g2 --out runs/cmp-g2 --base default --compare \
    --lm-tools called --read-workers 2 --read-limit 250 --inputs features,relevance,lm_stats,hidden

# 2. dev: every choice (150 seeded pairs of the dev models for the LM heads; all dev pairs for the fast heads)
DEV=(--results "$BFCL" --split dev --limit 150 --seed 7)
step dev150-default  $T eval trbench "${DEV[@]}" --judge disc:default
for set in features+relevance lm_stats hidden features+relevance+lm_stats all; do
  step "dev150-$set" $T eval trbench "${DEV[@]}" --judge "$(lm "disc:runs/cmp-g2/$set" dev)"
done
$T train two-tier --first toolrm_agent/critics/default --second runs/cmp-g2/features+relevance+lm_stats \
    --out runs/two-tier --band 0.1,0.9
step dev150-two-tier-margin $T eval trbench "${DEV[@]}" --judge "$(lm "disc:runs/two-tier?route=margin" dev)"
step devfull-default      $T eval trbench --results "$BFCL" --split dev --seed 7 --judge disc:default
step devfull-fast-g2      $T eval trbench --results "$BFCL" --split dev --seed 7 --judge disc:runs/cmp-g2/features+relevance

# 3. test, once, for the critic chosen on dev (disc:grounded) and the fast one it extends (disc:default)
TEST=(--results "$BFCL" --split test --limit 200 --seed 7)
CALLS=(--category simple_python --category multiple --category parallel --category parallel_multiple
       --category live_simple --category live_multiple --category live_parallel --category live_parallel_multiple)
IRR=(--category irrelevance --category live_irrelevance --limit 100)
for j in default grounded; do
  spec=disc:$j; [[ $j == grounded ]] && spec=$(lm disc:grounded test)
  step "test200-$j" $T eval trbench "${TEST[@]}" --judge "$spec"
  spec=disc:$j; [[ $j == grounded ]] && spec=$(lm disc:grounded v4)
  step "v4calls-$j" $T eval trbench --results "$V4" --seed 7 "${CALLS[@]}" --judge "$spec"
  spec=disc:$j; [[ $j == grounded ]] && spec=$(lm disc:grounded v4irr)
  step "v4irr-$j"   $T eval trbench --results "$V4" --seed 7 "${IRR[@]}" --judge "$spec"
  spec=disc:$j; [[ $j == grounded ]] && spec=$(lm disc:grounded bon)
  step "bon60-$j"   $T eval bon --results "$BFCL" --split test --k 4 --limit 60 --seed 7 --judge "$spec"
done
