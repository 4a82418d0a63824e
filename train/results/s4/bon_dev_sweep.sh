#!/usr/bin/env bash
# choose the consensus weight on the dev half (disc:default): best-of-4, 60 seeded questions, 5 draws
set -euo pipefail
cd "$(dirname "$0")/../../.." && mkdir -p out/s4
for w in 0 0.1 0.2 0.3 0.5 0.7 1; do
  f=out/s4/bon-dev-default-w$w.json
  [[ -s $f ]] || OMP_NUM_THREADS=1 .venv/bin/toolrm eval bon --results ../shared/data/bfcl-results --split dev --k 4 \
      --limit 60 --seed 7 --judge disc:default --consensus $w --out $f > /dev/null 2>&1
  .venv/bin/python -c "import json;d=json.load(open('$f'))['by_k']['4'];print('$w', round(d['overall']['gap_closed'],3), {c:round(m['gap_closed'],3) if m['gap_closed'] is not None else None for c,m in d['per_category'].items()})"
done
