"""House rules that the import-linter contracts (``lint-imports``, in ``pyproject.toml``)
cannot say; the contracts hold the rest (the runtime imports no wing and no test, the wings
no test, eval and train are independent, the runtime's layers point down):

* a test never imports from another test module or from a conftest: what tests share
  lives in :mod:`tests.fakes` (fixtures stay in conftest files, which import from there).
  A contract names whole modules only, not "every ``test_*``";
* the runtime names no wing even as a string (``importlib.import_module("eval.cli")``):
  a contract sees only import statements. ``toolrm_cli.py`` adds the wings' commands;
* no module imports itself round a cycle, deferred imports included: the layers contract
  lets modules of one layer import each other;
* ``tests.fakes`` loads no wing when imported (its imports of them are deferred).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

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


WING_MODULE = re.compile(r"^(eval|train|tests)(\.[A-Za-z_]\w*)+$")


def test_the_runtime_names_no_wing_module_even_as_a_string() -> None:
    offenders = {}
    for path in sorted((ROOT / "toolrm_agent").rglob("*.py")):
        named = [
            node.value
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and WING_MODULE.match(node.value)
        ]
        if named:
            offenders[str(path.relative_to(ROOT))] = named
    assert offenders == {}, f"register wing commands in toolrm_cli.py, not in the runtime: {offenders}"


KNOWN_CYCLES: list[set[str]] = [
    {"train.disc.cached", "train.disc.calibration"},  # train/ is being reworked; docs/architecture.md
]


def import_cycles(*packages: str) -> list[set[str]]:
    """The sets of modules that import each other round a cycle (deferred and
    ``TYPE_CHECKING`` imports included): the strongly connected components of the graph."""
    graph = grimp.build_graph(*packages, include_external_packages=False, cache_dir=None)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[set[str]] = []

    def visit(module: str) -> None:  # Tarjan
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in edges[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = set()
            while True:
                top = stack.pop()
                component.add(top)
                if top == module:
                    break
            if len(component) > 1:
                cycles.append(component)

    for module in edges:
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycle() -> None:
    cycles = import_cycles("toolrm_agent", "eval", "train")
    assert [c for c in cycles if c not in KNOWN_CYCLES] == []


def test_the_cycle_finder_finds_a_deferred_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Control: a cycle hidden by an import deferred into a function is found."""
    package = tmp_path / "cyc"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyc import b\n")
    (package / "b.py").write_text("def f():\n    from cyc import a\n    return a\n")
    (package / "c.py").write_text("from cyc import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("cyc") == [{"cyc.a", "cyc.b"}]


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


def test_the_wings_contract_names_every_private_module_of_the_runtime() -> None:
    """A module whose name starts with ``_`` is the runtime's own (docs/architecture.md): the
    ``forbidden`` contract that keeps the wings off them lists them one by one (import-linter
    has no ``_*`` pattern), so a new one must be added there."""
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (wings,) = [c for c in contracts if c["type"] == "forbidden" and c["source_modules"] == ["eval", "train"]
                and "tests" not in c["forbidden_modules"]]
    listed = set(wings["forbidden_modules"])
    private = set()
    for path in sorted((ROOT / "toolrm_agent").rglob("_*.py")):
        if path.name == "__init__.py":
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if not any(module == m or module.startswith(f"{m}.") for m in listed):
            private.add(module)
    assert private == set(), f"add to the wings' forbidden contract in pyproject.toml: {sorted(private)}"
