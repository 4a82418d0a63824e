#!/usr/bin/env bash
# Issue 21 on a fresh machine, after record_live.sh (s10) has recorded the live dev set again: the shipped
# disc:grounded and the head rebuilt by reproduce.sh, on every pair of it. No choice is made here (written
# before the readings): the shipped critic stays whatever they say, since a new one would also need the
# best-of-4 and live grids, which do not fit this session. The readings say whether the live dev set
# itself came back the same, and how far a second run of the chosen recipe lands from the chosen head,
# which was the best of 16 candidates on these two dev sets (selection lifts the winner's figures).
set -euo pipefail
cd "$(dirname "$0")/../../.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
R=train/results/s11
for pair in "grounded devlive-shipped-fresh" "out/g/two-g6s-r devlive-two-g6s-r"; do
  read -r dir name <<<"$pair"
  [[ -s $R/$name.json ]] || .venv/bin/toolrm eval trbench --results out/dev-live --seed 7 \
      --judge "disc:$dir?cache_dir=out/g/cache-devlive&threads=${THREADS:-2}&suggest=false" --out $R/$name.json 2>&1 | tail -1
done
.venv/bin/python - <<'PY'
import json
R = "train/results/s11"
old = json.load(open("train/results/s10/devlive-g6s-frl.json"))
for name in ("devlive-shipped-fresh", "devlive-two-g6s-r"):
    d = json.load(open(f"{R}/{name}.json"))
    cats = {k: round(v["acc"], 3) for k, v in d["per_category"].items()}
    print(name, d["n_pairs"], round(d["w_avg"], 3), cats)
print("s10 g6s-frl", old["n_pairs"], round(old["w_avg"], 3))
PY
