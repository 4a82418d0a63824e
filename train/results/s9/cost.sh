#!/usr/bin/env bash
# Issue 21, the options table's cost column: every option on the same 20 seeded dev contexts
# (`--split dev --limit 20 --seed 11`: the first is the warm-up), one after another, then one step
# of each offline policy on the same questions. Run it with nothing else on the machine: torch and
# llama.cpp use both cores. The heads under out/g and out/cmp-g2 are those of the table's rows
# (train/RESULTS.md §7); a fresh clone has the two shipped ones (disc:default, disc:grounded).
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=${1:-train/results/s9/cost-dev20.json}
J=(disc:default disc:out/g/fast-g1 disc:out/cmp-g2/features+relevance
   disc:out/cmp-g2/lm_stats disc:out/cmp-g2/hidden disc:grounded disc:out/cmp-g2/all
   disc:out/g/two-fr6 disc:out/g/two-fr6-wide
   "lik:default?reading=verify" disc:out/g/g23-frv disc:out/g/g23-frlv
   disc:out/g/g2-frl-15)
ARGS=()
for j in "${J[@]}"; do ARGS+=(--judge "$j"); done
uptime
.venv/bin/toolrm eval cost --results ../shared/data/bfcl-results --split dev --limit 20 --seed 11 "${ARGS[@]}" \
    --policy llamacpp:default --policy llamacpp:qwen1.5b --out "$OUT"
uptime
