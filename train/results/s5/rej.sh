#!/bin/bash
# issue 18: precision of rejections by BFCL's checker. Threshold chosen on dev (<=5% false rejections), read once on test.
# Reports into $1 (default train/results/s5; the calibrated disc:default's read: `bash train/results/s5/rej.sh train/results/s6`).
cd "$(dirname "$0")/../../.."
export OMP_NUM_THREADS=1
OUT=${1:-train/results/s5}
R=../shared/data/bfcl-results
.venv/bin/toolrm eval rejections --results $R --split dev --judge disc:default --out $OUT/rej-dev-default.json
T=$(python3 -c "import json;print(json.load(open('$OUT/rej-dev-default.json'))['readings']['target']['threshold'])")
echo "dev threshold $T"
.venv/bin/toolrm eval rejections --results $R --split test --judge disc:default --accept $T --out $OUT/rej-test-default.json
.venv/bin/toolrm eval rejections --results ../shared/data/bfcl-results-v4/Qwen_Qwen3-8B --judge disc:default --accept $T --out $OUT/rej-v4-default.json
