"""What the benchmark harnesses' reports share: where the run ran, and the ``--out`` file."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

ReportPath = Annotated[Path | None, typer.Option("--out", help="where to write the JSON report")]
"""The ``--out`` option of a harness whose report file is optional."""


def run_environment() -> dict[str, str]:
    """The Python version, the machine and the command line of this run."""
    return {"python": platform.python_version(), "machine": platform.machine(), "command": " ".join(sys.argv)}


def write_report(report: dict[str, Any], path: Path | None) -> None:
    """Write ``report`` as indented JSON to ``path`` (its folder made); nothing when ``path`` is None."""
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2))
