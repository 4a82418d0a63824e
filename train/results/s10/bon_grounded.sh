#!/usr/bin/env bash
# Issue 21: best-of-4 on the test half for the disc:grounded chosen this session, with the judge alone
# (--consensus 0) and with the agreement term at the weight chosen on dev (0.3), the commands of
# train/results/s4/rerun_today.sh and bon_test.sh. LM readings cached in out/g/cache-bon.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export OMP_NUM_THREADS=1
R=${R:-train/results/s10} NAME=${NAME:-grounded} DIR=${DIR:-grounded}  # s12/schema_veto.sh writes its own reports
for c in 0 0.3; do
  out=$R/bon60-$NAME-c${c/./}.json
  [[ -s $out ]] || .venv/bin/toolrm eval bon --results ../shared/data/bfcl-results --split test --k 4 --limit 60 --seed 7 \
      --consensus $c --judge "disc:$DIR?cache_dir=out/g/cache-bon&threads=${THREADS:-1}&suggest=false" --out $out 2>&1 | tail -1
done
echo "== done $(date +%T)"
