#!/bin/bash
# Issue 19: ACEBench with disc:default and every arm, 20 seeded questions of each normal and special
# category (300 questions), the offline 0.5B policy served by llama.cpp (one slot: on 2 cores the
# samples of a prompt then reuse its cached prefix), best-of-3.
#
# The run takes hours on 2 cores, so it spans sessions. The full report (with ACEBench's texts) stays
# in out/ (ignored); the committed eval/results/acebench/acebench-all.public.json holds every count
# without the texts. On a machine without out/acebench/acebench-all.json, the run resumes from the
# committed public report: the questions it holds are not run again.
set -euo pipefail
cd "$(dirname "$0")/../../.."
mkdir -p out/acebench
PUBLIC=eval/results/acebench/acebench-all.public.json
FULL=out/acebench/acebench-all.json
if [ ! -f "$FULL" ] && [ -f "$PUBLIC" ]; then cp "$PUBLIC" "$FULL"; fi
TOOLRM_LLAMACPP_THREADS=${TOOLRM_LLAMACPP_THREADS:-2} .venv/bin/toolrm eval acebench \
  --policy llamacpp:default --judge disc:default --arms retry,resample,best_of_n --n 3 \
  --limit 20 --seed 0 --server-slots 1 --out "$FULL" --public-out "$PUBLIC"
