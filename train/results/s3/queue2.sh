#!/usr/bin/env bash
cd /work/main
T=.venv/bin/toolrm
run() { # name judge category mode
  local out=out/s3/sc-$1-$3-$4.json
  [[ -s $out ]] && return 0
  echo "== $(date +%T) $1 $3 $4"
  /usr/bin/time -f "%e s wall" $T eval selfcorrect --policy llamacpp:default --judge "$2" --category $3 --limit 15 \
      --mode $4 --n 3 --out $out 2>&1 | grep -v "^\s*$" | tail -12
}
for c in parallel multiple; do run grounded "disc:grounded?threads=1" $c retry; done
for c in parallel multiple; do run default disc:default $c resample; done
for c in parallel multiple; do run default disc:default $c best_of_n; done
echo "== done $(date +%T)"
