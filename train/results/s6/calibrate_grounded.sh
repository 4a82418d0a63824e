#!/bin/bash
# Issue 18: the shipped two-tier critic `disc:grounded` gets calibrated stages.
# - The LM stage is calibrated on the held-out records of its training data (out/pref-g2, the recipe
#   in train/RESULTS.md §7). Its accept threshold stays its uncalibrated 0.754, mapped: the live
#   figures of §4 were measured with that decision.
# - The first stage is the disc:default head: the critic is assembled again from the calibrated
#   disc:default (its map and threshold) and the calibrated LM stage, with its routing band (0.1, 0.9,
#   uncalibrated) mapped through the first stage's map (`--band-raw`: the same proposals are routed).
# About 5 minutes on 2 cores (the LM reads 41 held-out records). Run bash train/results/s6/calibrate.sh first.
set -euo pipefail
cd "$(dirname "$0")/../../.."
G=toolrm_agent/critics/grounded
mkdir -p out/s6
.venv/bin/toolrm train calibrate --critic $G/lm --data out/pref-g2 --out out/s6/grounded-lm --accept-raw 0.754
.venv/bin/toolrm train two-tier --first toolrm_agent/critics/default --second out/s6/grounded-lm --out $G \
  --band 0.1,0.9 --band-raw --route always
