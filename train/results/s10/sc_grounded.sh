#!/usr/bin/env bash
# Issue 21's last live line, again, for the disc:grounded chosen this session (g6s's LM head): the same grid
# as train/results/s8/sc_grounded.sh (retry and best-of-3, the 0.5B policy, 15 + 15 parallel and multiple
# questions, issue 18's settings), its full reports in out/s10sc/. Summary:
# `python train/results/s6/sc_summary.py out/s10sc train/results/s10/sc-grounded.json "bash train/results/s10/sc_grounded.sh"`
OUT=out/s10sc exec bash "$(dirname "$0")/../s8/sc_grounded.sh"
