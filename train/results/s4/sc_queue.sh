#!/usr/bin/env bash
# live best-of-3 with and without the consensus term (llamacpp:default policy, disc:default), 15 parallel + 15 multiple
cd "$(dirname "$0")/../../.." && mkdir -p out/s4
T=.venv/bin/toolrm
export TOOLRM_LLAMACPP_THREADS=1 OMP_NUM_THREADS=1
run() { # category mode consensus
  local out=out/s4/sc-default-$1-$2-c$3.json
  [[ -s $out ]] && return 0
  echo "== $(date +%T) $1 $2 consensus $3"
  /usr/bin/time -f "%e s wall" $T eval selfcorrect --policy llamacpp:default --judge disc:default --category $1 --limit 15 \
      --mode $2 --n 3 --consensus $3 --out $out 2>&1 | grep -v "^\s*$" | tail -12
}
for c in parallel multiple; do run $c best_of_n 0.3; done
for c in parallel multiple; do run $c best_of_n 0; done
for c in parallel multiple; do run $c resample 0.3; done
echo "== done $(date +%T)"
