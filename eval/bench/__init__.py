"""``toolrm bench ...``: reliability, robustness and speed benchmarks (one module each,
each with its own typer ``app``; :mod:`eval.bench.cli` registers them lazily).

``reliability`` and ``resume`` run the fakes of ``tests/reliability`` at full scale, so
they need a source checkout: the checkout's root goes on ``sys.path`` here (``toolrm`` is
an installed script, which does not put the current directory there).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The source checkout this package lives in."""

if (ROOT / "tests" / "reliability").is_dir() and str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))
