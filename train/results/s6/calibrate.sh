#!/bin/bash
# Issue 18: the shipped critic `disc:default` (trained before the calibration step existed) gets its
# calibration map: the candidates of the held-out records of its own training data build (the split of
# its training config, by record id: records its head never trained on), scored as the runtime scores
# them, with absolute labels (rule score 1 = correct). The accept threshold is the one chosen on BFCL's
# dev half by `toolrm eval rejections` (train/results/s5/rej.sh: 0.9001, at most 5% of right answers
# rejected there), mapped through the map. About 3 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../../.."
[ -f out/pref-c4b/pairs.jsonl ] || .venv/bin/toolrm data build --sources ../shared/data/train-sources \
  --out out/pref-c4b --target-pairs 40000 --samples 0
.venv/bin/toolrm train calibrate --critic default --data out/pref-c4b --out toolrm_agent/critics/default \
  --accept-raw 0.9001
.venv/bin/python - <<'PY'
import json
m = json.load(open("toolrm_agent/critics/default/critic.json"))["metrics"]
json.dump({"threshold": m["threshold"], "threshold_raw": m["threshold_raw"],
           "threshold_balanced": m["threshold_balanced"], "calibration": m["calibration"]},
          open("train/results/s6/calibration-default.json", "w"), indent=2)
PY
