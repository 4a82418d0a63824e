#!/usr/bin/env bash
# Issue 21, item 2: more of a policy's own mistakes to train on. The offline 0.5B samples three
# answers at temperature 1.0 for 60 seeded records of the non-BFCL train sources (earlier builds:
# 0.7), scored by the rule-based scorer like every candidate; then its LM reading (0.5B trunk,
# called tools) and the merge onto the earlier builds (g2345). Resumable: each step skips what exists.
set -euo pipefail
cd "$(dirname "$0")/../../.."
T=${TOOLRM_LLAMACPP_THREADS:-1}
OUT=${OUT:-out/pref-g6s}  # s11/reproduce.sh runs the recipe again into another folder
TOOLRM_LLAMACPP_THREADS=$T .venv/bin/toolrm data build \
  --sources ../shared/data/train-sources --out "$OUT" --max-records 60 --seed 6 \
  --policy llamacpp:default --samples 3 --temperature 1.0 --target-pairs 1200
echo "== build done $(date +%T)"
