#!/usr/bin/env bash
# Issue 21, cost (ninth session): disc:grounded's verdicts on the 20 seeded dev contexts of s9/cost.sh (the
# first is the warm-up), before and after the LM reader reuses a kept prefix's KV cache up to where a new
# prefix parts from it, side by side in one run, then one 0.5B policy step on the same questions. "Before"
# is the tree at the session's start (OLD, a temporary git worktree), run by the same venv. Run it with
# nothing else on the machine: torch and llama.cpp use both cores.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
OLD=${OLD:-d004957}
R=train/results/s12
W=$(mktemp -d)/old
git worktree add -q --detach "$W" "$OLD"
trap 'git -C "$ROOT" worktree remove --force "$W"' EXIT
ARGS=(--results "$ROOT/../shared/data/bfcl-results" --split dev --limit 20 --seed 11)
J=(--judge disc:grounded --judge "disc:grounded?suggest=false")
uptime
(cd "$W" && "$ROOT/.venv/bin/python" -m toolrm_cli eval cost "${ARGS[@]}" "${J[@]}" --out "$ROOT/$R/cost-before.json")
.venv/bin/toolrm eval cost "${ARGS[@]}" "${J[@]}" --policy llamacpp:default --out $R/cost-after.json
uptime
