#!/usr/bin/env bash
# Issue 21, tenth session: policy13.sh's four candidates (13a, 13b, 13ra, 13rab, fixed there) on the two dev
# sets, then the choice by s10/select.py's rule, with s12/read_dev.sh (reading caches, the shipped critic's
# reports, resumable: see there).
set -euo pipefail
cd "$(dirname "$0")/../../.."
R=train/results/s13 CANDIDATES="13a=out/g/two-13a 13b=out/g/two-13b 13ra=out/g/two-13ra 13rab=out/g/two-13rab" \
    bash train/results/s12/read_dev.sh
