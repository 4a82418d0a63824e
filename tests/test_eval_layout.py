"""The eval wing's layout: `toolrm bench ...`, lazy groups, commands that import only rooms."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]


def _probe(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_runtime_and_its_cli_loads_no_wing() -> None:
    loaded = _probe(
        "import json, sys, toolrm_agent, toolrm_agent.cli; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'eval', 'train'})))"
    )
    assert loaded == []


def test_the_console_script_registers_the_wings_groups_without_importing_them() -> None:
    """``toolrm_cli`` (the ``toolrm`` script) lists every group; a wing loads only when its
    group runs. The runtime's own app lists only the runtime's commands."""
    result = _probe(
        "import json, sys, toolrm_cli\n"
        "from toolrm_agent import cli\n"
        "print(json.dumps({'groups': sorted(cli.LAZY_GROUPS),\n"
        "  'loaded': sorted({m.split('.')[0] for m in sys.modules} & {'eval', 'train'})}))"
    )
    assert result == {"groups": ["bench", "data", "demo", "eval", "train"], "loaded": []}


def test_bench_help_lists_every_benchmark_without_importing_one() -> None:
    result = _probe(
        "import contextlib, io, json, sys\n"
        "from toolrm_cli import main\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    try: main(['bench', '--help'])\n"
        "    except SystemExit as e: code = e.code\n"
        "print(json.dumps({'code': code, 'out': buf.getvalue(),\n"
        "  'loaded': sorted(m for m in sys.modules if m.startswith('eval.bench.') and m != 'eval.bench.cli')}))"
    )
    from eval.bench.cli import BENCHES

    assert result["code"] == 0 and result["loaded"] == []
    for name in BENCHES:
        assert name in result["out"]


@pytest.mark.parametrize(
    "name", ["reliability", "resume", "concurrency", "injection", "fuzz", "schema", "local-model", "vllm"]
)
def test_each_bench_shows_its_own_options(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    from toolrm_cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["bench", name, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"toolrm bench {name}" in out and "--out" in out


def test_the_commands_import_only_from_rooms() -> None:
    """``eval/commands/*`` never import each other (shared helpers live in a room)."""
    for path in sorted((ROOT / "eval" / "commands").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            assert not any(n.startswith("eval.commands") for n in names), (path.name, names)


def test_demo_takes_out_and_still_reads_the_old_json_flag() -> None:
    from eval.commands import demo

    help_text = CliRunner().invoke(demo.app, ["--help"]).output
    assert "--out" in help_text
    for flag in ("--out", "--json"):  # parsed (a bad judge stops it before any model loads)
        result = CliRunner().invoke(demo.app, [flag, "x.json", "--judge", "nonsense:x", "--limit", "1"])
        assert result.exit_code != 0 and "no such option" not in result.output.lower()
        assert "judge" in result.output.lower()


def test_the_arm_runner_with_its_progress_bar_gives_the_same_runs() -> None:
    """Demo and selfcorrect show a bar: the bar's path runs the same arms."""
    from rich.console import Console

    from eval.commands import selfcorrect
    from tests.fakes import area_policy, area_tasks
    from toolrm_agent.judges.schema import SchemaJudge

    console = Console(record=True, width=160, force_terminal=True)
    arms = selfcorrect.build_arms(area_policy(), SchemaJudge(), max_retries=2)
    runs = selfcorrect.run_selfcorrect(area_tasks(2), arms, max_retries=2, console=console, progress=True)
    assert [(r.id, r.arm) for r in runs] == [
        (f"simple_python_800{i}", arm) for i in (1, 2) for arm in ("baseline", "critic")
    ]
    assert [r.valid for r in runs] == [False, True, True, True]
