#!/usr/bin/env bash
# Issue 21: after policy06.sh, the LM reading of the new build, the merge onto every earlier build
# (g2345: corruptions, the 0.5B's and the 1.5B's samples) and the heads on it, as policy15.sh did.
# Resumable: each step skips what its output already holds.
set -euo pipefail
cd "$(dirname "$0")/../../.."
T=.venv/bin/toolrm
export OMP_NUM_THREADS=1
echo "== $(date +%T) LM read of g6s (0.5B trunk, called tools)"
[[ -s out/g/g6s-frl/critic.json ]] || $T train disc --data out/pref-g6s --out out/g/g6s-frl --base default \
    --inputs features,relevance,lm_stats --lm-tools called --read-workers "${WORKERS:-1}"
echo "== $(date +%T) merge g2345 + g6s"
[[ -s out/pref-g23456/pairs.jsonl ]] || $T data merge --from out/pref-g2345 --from out/pref-g6s \
    --out out/pref-g23456 --on-conflict keep-first
echo "== $(date +%T) head on g23456 (no new reading)"
[[ -s out/g/g23456-frl/critic.json ]] || $T train disc --data out/pref-g23456 --out out/g/g23456-frl --base default \
    --inputs features,relevance,lm_stats --lm-tools called --read-limit 1
[[ -s out/g/two-g23456/critic.json ]] || $T train two-tier --first toolrm_agent/critics/default \
    --second out/g/g23456-frl --out out/g/two-g23456 --band 0.1,0.9 --route always
echo "== $(date +%T) heads that add the hidden state, on g23456's read records"
for h in mean last; do
  [[ -s out/g/g23456-frlh-$h/critic.json ]] || $T train disc --data out/pref-g23456 --out out/g/g23456-frlh-$h \
      --base default --inputs features,relevance,lm_stats,hidden --hidden $h --lm-tools called --read-limit 1
  [[ -s out/g/two-g23456-frlh-$h/critic.json ]] || $T train two-tier --first toolrm_agent/critics/default \
      --second out/g/g23456-frlh-$h --out out/g/two-g23456-frlh-$h --band 0.1,0.9 --route always
done
echo "== $(date +%T) done"
