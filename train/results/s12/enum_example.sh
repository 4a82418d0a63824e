#!/usr/bin/env bash
# Issue 21, ninth session: enum_example.py on the tree before the schema veto (OLD, the session's start, from a
# temporary git worktree, its modules first on the path) and on this tree. Reports:
# train/results/s12/enum-example-{before,veto}.json.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
R=train/results/s12
source "$R/old_tree.sh"  # W: the tree before, a temporary worktree
(cd "$W" && PYTHONPATH="$W" "$ROOT/.venv/bin/python" "$ROOT/$R/enum_example.py" "$ROOT/$R/enum-example-before.json")
.venv/bin/python $R/enum_example.py $R/enum-example-veto.json
