#!/usr/bin/env bash
# Issue 21, ninth session: disc:default's best-of-4 on the recorded answers (train/RESULTS.md §3's command)
# before the schema veto (OLD, the tree at the session's start, from a temporary git worktree, by the same
# venv) and after it (this tree), one after the other. Reports: train/results/s12/bon-default-{before,veto}.json.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
R=train/results/s12
source "$R/old_tree.sh"  # W: the tree before, a temporary worktree
ARGS=(--results "$ROOT/../shared/data/bfcl-results" --judge disc:default --k 4)
[[ -s $R/bon-default-before.json ]] || (cd "$W" && "$ROOT/.venv/bin/python" -m toolrm_cli eval bon "${ARGS[@]}" \
    --out "$ROOT/$R/bon-default-before.json" 2>&1 | tail -1)
[[ -s $R/bon-default-veto.json ]] || .venv/bin/toolrm eval bon "${ARGS[@]}" --out $R/bon-default-veto.json 2>&1 | tail -1
