#!/usr/bin/env bash
# A dev set with live-style mistakes (issue 21): the two offline policies answer one seeded draw
# of BFCL's live questions, and their answers are written as two recorded models of one results
# folder, which `toolrm eval trbench --results out/dev-live` reads like any other. BFCL questions:
# read for choosing, never trained on.
# Resumable: rerun it and each model goes on where it stopped.
# Usage: bash train/results/s10/record_live.sh [qwen2.5-coder-0.5b] [qwen2.5-coder-1.5b]
# (OUT=, SEED=, DRAW05=, DRAW15=, EXCLUDE= change the draw: s14/devlive2.sh)
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out/dev-live}
SEED=${SEED:-21}
# questions per category ("category:limit ..."); the 1.5B, twice as slow, answers about half as many
read -ra DRAW05 <<<"${DRAW05:-live_simple:80 live_multiple:100 live_parallel:16 live_parallel_multiple:24 live_irrelevance:60}"
read -ra DRAW15 <<<"${DRAW15:-live_simple:40 live_multiple:50 live_parallel:16 live_parallel_multiple:24 live_irrelevance:30}"
# EXCLUDE: results files whose questions the draw leaves out (s14/devlive2.sh: a second draw)
excluded=()
for f in ${EXCLUDE:-}; do excluded+=(--exclude "$f"); done
record() {  # policy-spec model-name category:limit...
  local spec=$1 name=$2
  shift 2
  for item in "$@"; do
    .venv/bin/toolrm eval record --policy "$spec" --category "${item%%:*}" --limit "${item#*:}" --seed "$SEED" \
        --out "$OUT/$name.jsonl" "${excluded[@]}"
  done
}
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(qwen2.5-coder-0.5b qwen2.5-coder-1.5b)
for m in "${models[@]}"; do
  case "$m" in
    qwen2.5-coder-0.5b) record llamacpp:default "$m" "${DRAW05[@]}" ;;
    qwen2.5-coder-1.5b) record llamacpp:qwen1.5b "$m" "${DRAW15[@]}" ;;
    *) echo "unknown model $m" >&2; exit 2 ;;
  esac
done
