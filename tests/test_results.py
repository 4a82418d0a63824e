"""Reading both results layouts (fixtures written to tmp_path by the tests)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from eval.bfcl.results import ModelResults, ResultsError, load_results

PROMPT_ROWS = [
    {
        "id": "simple_python_0",
        "result": "[calculate_triangle_area(base=10, height=5)]",
        "input_token_count": 315,
        "output_token_count": 12,
        "latency": 0.55,
    },
    {
        "id": "irrelevance_0",
        "result": "I cannot answer that.",
        "input_token_count": 200,
        "output_token_count": 7,
        "latency": 0.3,
    },
]
FC_ROWS = [
    {"id": "simple_python_0", "result": [{"calculate_triangle_area": '{"base": 10, "height": 5}'}]},
    {"id": "multiple_0", "result": [{"f": {"a": 1}}]},
]


def write_lines(path: Path, rows: list[dict], *, gz: bool) -> Path:
    text = "".join(json.dumps(r) + "\n" for r in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def by_name(models: list[ModelResults]) -> dict[str, ModelResults]:
    return {m.model: m for m in models}


@pytest.mark.parametrize("gz", [True, False])
def test_flat_layout_with_manifest(tmp_path: Path, gz: bool) -> None:
    ext = ".jsonl.gz" if gz else ".jsonl"
    write_lines(tmp_path / f"alpha{ext}", PROMPT_ROWS, gz=gz)
    write_lines(tmp_path / f"beta-FC{ext}", FC_ROWS, gz=gz)
    write_lines(tmp_path / f"gamma{ext}", PROMPT_ROWS[:1], gz=gz)  # not in the manifest
    manifest = {
        "models": [
            {
                "model": "alpha",
                "file": f"alpha{ext}",
                "style": "prompt_string",
                "recorded_accuracy": {"simple_python": 0.9, "irrelevance": 0.5},
            },
            {
                "model": "beta-FC",
                "file": f"beta-FC{ext}",
                "style": "fc_list",
                "recorded_accuracy": {"simple_python": 1.0},
            },
        ]
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    models = by_name(load_results(tmp_path))
    assert set(models) == {"alpha", "beta-FC", "gamma"}
    alpha = models["alpha"]
    assert alpha.style == "python"  # "prompt_string" → detected from the outputs
    assert alpha.recorded == {"simple_python": 0.9, "irrelevance": 0.5}
    entry = alpha.entries["simple_python_0"]
    assert entry.category == "simple_python" and entry.raw.startswith("[calculate")
    assert (entry.input_tokens, entry.output_tokens, entry.latency) == (315, 12, 0.55)
    assert alpha.categories == ["simple_python", "irrelevance"]
    assert [e.id for e in alpha.by_category("irrelevance")] == ["irrelevance_0"]
    beta = models["beta-FC"]
    assert beta.style == "fc_list" and beta.recorded == {"simple_python": 1.0}
    assert beta.entries["multiple_0"].raw == [{"f": {"a": 1}}]
    assert beta.entries["multiple_0"].input_tokens is None
    gamma = models["gamma"]
    assert gamma.recorded == {} and gamma.style == "python"


def test_flat_layout_without_manifest_detects_styles(tmp_path: Path) -> None:
    write_lines(tmp_path / "newmodel.jsonl.gz", FC_ROWS, gz=True)
    hermes = [
        {
            "id": "simple_python_0",
            "result": '<tool_call>\n{"name": "calculate_triangle_area", "arguments": {"base": 10}}\n</tool_call>',
        }
    ]
    write_lines(tmp_path / "hermesy.jsonl", hermes, gz=False)
    models = by_name(load_results(tmp_path))
    assert models["newmodel"].style == "fc_list"
    assert models["hermesy"].style == "hermes"
    # a single model file works too
    (one,) = load_results(tmp_path / "hermesy.jsonl")
    assert one.model == "hermesy" and set(one.entries) == {"simple_python_0"}


def _tree(root: Path, *, gz: bool) -> Path:
    suffix = ".gz" if gz else ""
    write_lines(
        root / "non_live" / f"BFCL_v4_simple_python_result.json{suffix}",
        [
            {
                "id": "simple_python_0",
                "result": "[calculate_triangle_area(base=10, height=5)]",
                "reasoning_content": "think",
                "input_token_count": 10,
                "output_token_count": 5,
                "latency": 1.0,
            }
        ],
        gz=gz,
    )
    write_lines(
        root / "live" / f"BFCL_v4_live_simple_result.json{suffix}",
        [{"id": "live_simple_0-0-0", "result": "[get_user_info(user_id=7890, special='black')]"}],
        gz=gz,
    )
    write_lines(
        root / "multi_turn" / f"BFCL_v4_multi_turn_base_result.json{suffix}",
        [
            {
                "id": "multi_turn_base_0",
                "result": [["[cd(folder='document')]"], []],
                "input_token_count": [[10, 20], [5]],
                "output_token_count": [[1, 2], [3]],
                "latency": [[0.5], [0.25]],
            }
        ],
        gz=gz,
    )
    return root


@pytest.mark.parametrize("gz", [True, False])
def test_bfcl_tree_for_one_model(tmp_path: Path, gz: bool) -> None:
    tree = _tree(tmp_path / "result" / "org_Model-1", gz=gz)
    score = tmp_path / "score" / "org_Model-1" / "live"
    score.mkdir(parents=True)
    (score / "BFCL_v4_live_simple_score.json").write_text(
        json.dumps({"accuracy": 0.75, "correct_count": 3, "total_count": 4}) + '\n{"id": 1}\n'
    )
    (model,) = load_results(tree)
    assert model.model == "org_Model-1" and model.style == "python"
    assert set(model.categories) == {"simple_python", "live_simple", "multi_turn_base"}
    assert model.recorded == {"live_simple": 0.75}
    assert model.entries["simple_python_0"].reasoning == "think"
    mt = model.entries["multi_turn_base_0"]
    assert mt.raw == [["[cd(folder='document')]"], []]
    assert (mt.input_tokens, mt.output_tokens, mt.latency) == (35, 6, 0.75)


def test_bfcl_tree_manifest_scores_and_name(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "some_dir", gz=True)
    (tree / "manifest.json").write_text(
        json.dumps(
            {
                "model": "Vendor/Model",
                "recorded_scores": {"simple_python": {"accuracy": 0.97, "correct_count": 388}},
            }
        )
    )
    (model,) = load_results(tree)
    assert model.model == "Vendor/Model" and model.recorded == {"simple_python": 0.97}


def test_parent_of_several_trees(tmp_path: Path) -> None:
    _tree(tmp_path / "m1", gz=True)
    _tree(tmp_path / "m2", gz=False)
    models = by_name(load_results(tmp_path))
    assert set(models) == {"m1", "m2"}
    assert all(len(m.entries) == 3 for m in models.values())
    # one result file alone
    (single,) = load_results(tmp_path / "m2" / "live" / "BFCL_v4_live_simple_result.json")
    assert set(single.entries) == {"live_simple_0-0-0"}


def test_a_json_array_file_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "t" / "BFCL_v4_simple_python_result.json"
    path.parent.mkdir()
    path.write_text(json.dumps([{"id": "simple_python_0", "result": "[f(a=1)]"}]))
    (model,) = load_results(tmp_path / "t")
    assert set(model.entries) == {"simple_python_0"}


def test_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="no such file"):
        load_results(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError, match="no model outputs"):
        load_results(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.jsonl").write_text('{"id": "simple_python_0", "result": "[f()]"}\n{not json\n')
    with pytest.raises(ResultsError, match=r"broken\.jsonl:2"):
        load_results(bad)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(ResultsError, match="not a results file"):
        load_results(notes)
