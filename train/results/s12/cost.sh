#!/usr/bin/env bash
# Issue 21, cost (ninth session): s11/cost.sh again, "before" being the tree at this session's start
# (d004957) and "after" this tree, where the LM reader reuses a kept prefix's KV cache up to where a new
# prefix parts from it. The same 20 seeded dev contexts, side by side in one run, then one 0.5B policy
# step on the same questions. Run it with nothing else on the machine.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OLD=${OLD:-d004957} R=train/results/s12 bash train/results/s11/cost.sh
