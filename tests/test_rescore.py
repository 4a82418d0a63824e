"""``toolrm eval rescore`` end to end on tiny fixture directories (written by the tests)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from eval.bfcl.questions import ground_truth_turns, load_questions
from eval.commands.rescore import command
from toolrm_agent.core.parsing import to_bfcl_string

runner = CliRunner()


def app() -> typer.Typer:
    """The command as ``eval/cli.py`` registers it (without importing the other commands)."""
    cli = typer.Typer()
    cli.command("rescore")(command)
    cli.command("noop")(lambda: None)  # keep typer in multi-command mode: `rescore ...`
    return cli


def test_cli_registers_rescore() -> None:
    from eval.cli import COMMANDS

    assert COMMANDS["rescore"] == "eval.commands.rescore"


def write_gz(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)


@pytest.fixture
def flat_dir(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    good = [
        {"id": "simple_python_0", "result": "[calculate_triangle_area(base=10, height=5)]"},
        {"id": "simple_python_1", "result": "[math.factorial(number=5)]"},
        {"id": "simple_python_2", "result": "[math.hypot(x=4, y=6)]"},  # wrong value
        {
            "id": "simple_python_3",
            "result": "```python\n[algebra.quadratic_roots(a=1, b=-3, c=2)]\n```",
        },
        {"id": "irrelevance_0", "result": "I cannot do that."},
        {"id": "irrelevance_1", "result": "[some_function(a=1)]"},
    ]
    fc = [
        {
            "id": "simple_python_0",
            "result": [{"calculate_triangle_area": '{"base": 10, "height": 5}'}],
        },
        {"id": "simple_python_1", "result": [{"math_factorial": '{"number": 5}'}]},
        {"id": "irrelevance_0", "result": "The answer is 42."},
        {"id": "no_such_category_9", "result": "[f()]"},
    ]
    write_gz(root / "prompt-model.jsonl.gz", good)
    write_gz(root / "fc-model.jsonl.gz", fc)
    write_gz(root / "unseen-model.jsonl.gz", good[:2])
    (root / "manifest.json").write_text(
        json.dumps(
            {
                "models": [
                    {
                        "model": "prompt-model",
                        "file": "prompt-model.jsonl.gz",
                        "style": "prompt_string",
                        "recorded_accuracy": {"simple_python": 0.5, "irrelevance": 0.5},
                    },
                    {
                        "model": "fc-model",
                        "file": "fc-model.jsonl.gz",
                        "style": "fc_list",
                        "recorded_accuracy": {"simple_python": 0.0, "irrelevance": 1.0},
                    },
                ]
            }
        )
    )
    return root


def test_report_schema_and_values(flat_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(app(), ["rescore", "--results", str(flat_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert set(report) >= {"models", "summary", "styles", "settings", "seconds"}
    models = report["models"]
    assert set(models) == {"prompt-model", "fc-model", "unseen-model"}
    # 2 of 4 right (a wrong value; a ```python fence is a format error when strict)
    assert models["prompt-model"]["simple_python"] == {"n": 4, "recorded": 0.5, "rescored": 0.5}
    assert models["prompt-model"]["irrelevance"] == {"n": 2, "recorded": 0.5, "rescored": 0.5}
    # FC names a_b are mapped back to a.b; an FC text answer is no call
    assert models["fc-model"]["simple_python"] == {"n": 2, "recorded": 0.0, "rescored": 1.0}
    assert models["fc-model"]["irrelevance"]["rescored"] == 1.0
    assert models["unseen-model"]["simple_python"] == {"n": 2, "recorded": None, "rescored": 1.0}
    assert report["styles"] == {
        "prompt-model": "python",
        "fc-model": "fc_list",
        "unseen-model": "python",
    }
    for table in models.values():
        for row in table.values():
            assert 0.0 <= row["rescored"] <= 1.0 and isinstance(row["n"], int)

    summary = report["summary"]
    assert summary["rows"] == 5 and summary["compared"] == 4 and summary["within"] == 3
    assert summary["share_within"] == 0.75 and summary["tolerance"] == 0.03
    (exc,) = summary["exceptions"]
    assert (exc["model"], exc["category"], exc["diff"]) == ("fc-model", "simple_python", 1.0)
    assert "100.0 points above" in exc["reason"]


def test_lenient_reading_and_category_filter(flat_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "lenient.json"
    result = runner.invoke(
        app(),
        [
            "rescore",
            "--results",
            str(flat_dir),
            "--out",
            str(out),
            "--lenient",
            "-c",
            "simple_python",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["settings"] == {"categories": ["simple_python"], "lenient": True}
    assert report["models"]["prompt-model"] == {
        "simple_python": {"n": 4, "recorded": 0.5, "rescored": 0.75}
    }
    (exc,) = [e for e in report["summary"]["exceptions"] if e["model"] == "prompt-model"]
    assert "strict reading" in exc["reason"] and "0.500" in exc["reason"]


def test_bfcl_tree_with_multi_turn_and_several_results(flat_dir: Path, tmp_path: Path) -> None:
    q = load_questions("multi_turn_base")["multi_turn_base_0"]
    steps = [[to_bfcl_string(turn)] for turn in ground_truth_turns(q)]
    wrong = [list(s) for s in steps]
    wrong[0] = ["[cd(folder='document')]"]
    tree = tmp_path / "result" / "org_Model"
    write_gz(
        tree / "multi_turn" / "BFCL_v4_multi_turn_base_result.json.gz",
        [
            {"id": "multi_turn_base_0", "result": steps},
            {"id": "multi_turn_base_1", "result": wrong},
        ],
    )
    write_gz(
        tree / "non_live" / "BFCL_v4_simple_python_result.json.gz",
        [{"id": "simple_python_0", "result": "[calculate_triangle_area(base=10, height=5)]"}],
    )
    (tree / "manifest.json").write_text(
        json.dumps({"recorded_scores": {"multi_turn_base": {"accuracy": 0.5}}})
    )
    out = tmp_path / "tree.json"
    result = runner.invoke(
        app(), ["rescore", "--results", str(tree), "--results", str(flat_dir), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["models"]["org_Model"]["multi_turn_base"] == {
        "n": 2,
        "recorded": 0.5,
        "rescored": 0.5,
    }
    assert report["models"]["org_Model"]["simple_python"]["rescored"] == 1.0
    assert len(report["models"]) == 4


def _flat(text: str) -> str:
    """CLI output without rich's box drawing and line wrapping."""
    return " ".join(text.replace("│", " ").split())


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    result = runner.invoke(
        app(), ["rescore", "--results", str(tmp_path / "nope"), "--out", str(out)]
    )
    assert result.exit_code != 0 and "no such file" in _flat(result.output)
    (tmp_path / "d").mkdir()
    write_gz(tmp_path / "d" / "m.jsonl.gz", [{"id": "simple_python_0", "result": "[f()]"}])
    result = runner.invoke(
        app(),
        ["rescore", "--results", str(tmp_path / "d"), "--out", str(out), "-c", "simple_cobol"],
    )
    assert result.exit_code != 0 and "unsupported categories" in _flat(result.output)
    assert not out.exists()
