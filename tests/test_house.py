"""House rules of the test suite, read from the source with ``ast``:

* a test never imports from another test module or from a conftest: what tests share
  lives in :mod:`tests.fakes` (fixtures stay in conftest files, which import from there);
* the library and its wings (``toolrm_agent``, ``eval``, ``train``) never import from
  ``tests``: benchmark harnesses live in ``eval/bench``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(source: str, package: str) -> list[str]:
    """Every module a source imports, and every ``from M import name`` as ``M.name``,
    relative imports resolved against ``package`` (the importing module's package)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.append(module)
            names.extend(f"{module}.{alias.name}" for alias in node.names)
    return names


def forbidden_test_imports(source: str, package: str) -> list[str]:
    """The imports of a test-suite file that reach into a test module or a conftest."""
    bad = []
    for name in imported_modules(source, package):
        parts = name.split(".")
        if parts[0] == "tests" and any(p.startswith("test_") or p == "conftest" for p in parts[1:]):
            bad.append(name)
        elif "conftest" in parts:
            bad.append(name)
    return bad


def _package_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).parent.parts)


def test_no_test_imports_from_a_test_module_or_a_conftest() -> None:
    offenders = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        bad = forbidden_test_imports(path.read_text(encoding="utf-8"), _package_of(path))
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}, f"import shared fakes from tests.fakes instead: {offenders}"


def test_the_checker_catches_every_form_of_the_import() -> None:
    """Control: the rule above sees absolute, relative, lazy and ``from tests import`` forms."""
    for source in (
        "from tests.test_critic import ASK",
        "import tests.test_pairs",
        "from tests import test_pairs",
        "from tests.train.conftest import make_record",
        "def f():\n    from tests.test_selfcorrect import area_tasks",
        "from .conftest import make_record",
        "from . import test_critic",
        "from ..test_pairs import write_results_dir",
    ):
        assert forbidden_test_imports(source, "tests.train"), source
    for source in ("from tests.fakes import ScriptedJudge", "from eval.bench.faults import run_cell", "import pytest"):
        assert forbidden_test_imports(source, "tests.train") == [], source


def test_the_library_and_its_wings_never_import_tests() -> None:
    offenders = {}
    for top in ("toolrm_agent", "eval", "train"):
        for path in sorted((ROOT / top).rglob("*.py")):
            names = imported_modules(path.read_text(encoding="utf-8"), _package_of(path))
            bad = [n for n in names if n == "tests" or n.startswith("tests.")]
            if bad:
                offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}, f"move what they need out of tests/: {offenders}"


def test_the_fixtures_module_loads_no_wing() -> None:
    """``tests.fakes`` imports ``eval`` and ``train`` inside its builders only, so the
    runtime's tests load neither wing (checked in a fresh interpreter)."""
    code = (
        "import json, sys, tests.fakes\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'eval', 'train'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
