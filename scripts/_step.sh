# Sourced by the results scripts: `step NAME CMD...` runs CMD --out "$OUT/NAME.json" unless
# that report exists (resumable), logging to "$OUT/NAME.log" and printing its wall time.
step() {
  local name=$1; shift
  if [[ -s "$OUT/$name.json" ]]; then echo "== $name: done"; return; fi
  echo "== $name: $*"; local t0=$SECONDS
  "$@" --out "$OUT/$name.json" > "$OUT/$name.log" 2>&1
  echo "   $((SECONDS - t0)) s"
}
