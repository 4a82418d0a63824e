"""Importing the runtime never loads torch, transformers or vLLM (checked in a fresh
interpreter, module by module, so a failure names the module that pulled them in)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "vllm")

# Modules an agent imports at runtime; each must stay light on its own.
RUNTIME_MODULES = (
    "toolrm_agent",
    "toolrm_agent.critic.node",
    "toolrm_agent.critic.middleware",
    "toolrm_agent.critic._engine",
    "toolrm_agent.prompting._calling",
    "toolrm_agent.critic._options",
    "toolrm_agent.critic._state",
    "toolrm_agent.judges",
    "toolrm_agent.judges.base",
    "toolrm_agent.judges.schema",
    "toolrm_agent.judges.generative.generative",
    "toolrm_agent.judges.cascade",
    "toolrm_agent.judges.trained.discriminative",
    "toolrm_agent.judges.features",
    "toolrm_agent.judges.trained.lm_scoring",
    "toolrm_agent.judges.relevance",
    "toolrm_agent.judges.trained.trained",
    "toolrm_agent.judges.likelihood",
    "toolrm_agent.judges.loader",
    "toolrm_agent.critics",
    "toolrm_agent.models.policy",
    "toolrm_agent.core.parsing",
    "toolrm_agent.core.specs",
    "toolrm_agent.core.context",
    "toolrm_agent.core.verdicts",
)

PROBE = r"""
import importlib, json, sys
heavy, modules = json.loads(sys.argv[1])
report = {"loaded": {}, "missing": []}
def check(label):
    pulled = [h for h in heavy if h in sys.modules]
    if pulled:
        report["loaded"][label] = pulled
        print(json.dumps(report)); sys.exit(0)
for name in modules:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:  # the module exists but one of its imports does not
            raise
        report["missing"].append(name)
        continue
    check(name)
import toolrm_agent
for name in toolrm_agent.__all__:  # the public surface, resolved through the lazy exports
    getattr(toolrm_agent, name)
    check(f"toolrm_agent.{name}")
print(json.dumps(report))
"""


def test_runtime_imports_no_torch_transformers_or_vllm() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([HEAVY, RUNTIME_MODULES])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["loaded"] == {}, f"heavy modules imported by: {report['loaded']}"
    assert report["missing"] == [], f"listed runtime modules that do not exist: {report['missing']}"


def test_the_probe_detects_a_heavy_import() -> None:
    """Control: the same probe reports a module that does import a heavy package."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([["json"], ["toolrm_agent", "json"]])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["loaded"] == {"toolrm_agent": ["json"]}
