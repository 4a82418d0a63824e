#!/bin/bash
# Issue 18: the shipped two-tier critic `disc:grounded` gets calibrated stages.
# - The LM stage (grounded/lm) is calibrated on the held-out records of its training data (out/pref-g2,
#   rebuilt by the recipe in train/RESULTS.md §7 if missing). Its accept threshold stays its
#   uncalibrated 0.754, mapped: the live figures of §4 were measured with that decision.
# - The first stage is the disc:default head, so it takes disc:default's calibration and threshold,
#   and its routing band (0.1, 0.9, uncalibrated) is mapped through the same map (the same proposals
#   are routed). About 5 minutes on 2 cores (the LM reads 41 held-out records).
set -euo pipefail
cd "$(dirname "$0")/../../.."
G=toolrm_agent/critics/grounded
.venv/bin/toolrm train calibrate --critic $G/lm --data out/pref-g2 --out $G/lm --accept-raw 0.754
cp toolrm_agent/critics/default/calibration.json $G/calibration.json
.venv/bin/python - <<'PY'
import json, math
from pathlib import Path
from toolrm_agent.judges.calibration import Calibration
g = Path("toolrm_agent/critics/grounded")
default = json.loads(Path("toolrm_agent/critics/default/critic.json").read_text())
cal = Calibration.load(g / "calibration.json")
m = json.loads((g / "critic.json").read_text())
lo, hi = m["metrics"].get("band_raw", m["band"])  # run again: map the uncalibrated band, not the mapped one
m["band"] = [round(cal(math.log(p / (1 - p))), 6) for p in (lo, hi)]
m["calibration"] = "calibration.json"
m["threshold"] = default["threshold"]
m["metrics"].update({k: default["metrics"][k] for k in ("threshold", "threshold_raw", "threshold_balanced", "calibration")})
m["metrics"]["band_raw"] = [lo, hi]
(g / "critic.json").write_text(json.dumps(m, indent=2) + "\n")
print("first stage: threshold", m["threshold"], "band", m["band"], "(was", [lo, hi], "uncalibrated)")
PY
