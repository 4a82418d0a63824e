#!/usr/bin/env bash
# The newcomer walkthrough (docs/walkthrough.md) as one timed script: from a clone where
# `make setup` has run to "my agent, my tool, critic on", against the real offline model.
#
#     bash examples/walkthrough.sh            # PY=/path/to/python to use another interpreter
#
# 1. provision the offline Qwen2.5-Coder-0.5B GGUF (what `make model` does; once, cached)
# 2. serve it with llama.cpp (`toolrm serve`), in the background, on a free port
# 3. run examples/your_own_agent.py against it: a currency tool, the critic on
# 4. stop the server; print the wall time of every step
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8089}
LOG=$(mktemp -t toolrm-serve-XXXX.log)
t0=$(date +%s)
stamp() { echo "[walkthrough] $1 at +$(( $(date +%s) - t0 )) s"; }

"$PY" -c "from toolrm_agent import resolve_gguf; print(resolve_gguf('default'))"
stamp "model provisioned"

"$PY" -m toolrm_agent.cli serve --model default --port "$PORT" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do
    grep -q "^serving" "$LOG" && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$LOG"; exit 1; }
    sleep 0.5
done
grep "^serving" "$LOG" || { cat "$LOG"; exit 1; }
stamp "llama.cpp server ready"

"$PY" examples/your_own_agent.py --base-url "http://127.0.0.1:$PORT/v1" "$@"
stamp "agent done (my agent, my tool, critic on)"
