#!/bin/bash
# issue 18, again with the calibrated disc:default (its verdict: threshold 0.224 = uncalibrated 0.9001). Precision of rejections by BFCL's checker. Threshold chosen on dev (<=5% false rejections), read once on test.
cd "$(dirname "$0")/../../.."
export OMP_NUM_THREADS=1
R=../shared/data/bfcl-results
.venv/bin/toolrm eval rejections --results $R --split dev --judge disc:default --out train/results/s6/rej-dev-default.json
T=$(python3 -c "import json;print(json.load(open('train/results/s6/rej-dev-default.json'))['readings']['target']['threshold'])")
echo "dev threshold $T"
.venv/bin/toolrm eval rejections --results $R --split test --judge disc:default --accept $T --out train/results/s6/rej-test-default.json
.venv/bin/toolrm eval rejections --results ../shared/data/bfcl-results-v4/Qwen_Qwen3-8B --judge disc:default --accept $T --out train/results/s6/rej-v4-default.json
