"""Read recorded BFCL model outputs, in either of the two layouts we meet.

(a) A results directory like ``shared/data/bfcl-results/``: one ``<model>.jsonl.gz``
    (or ``.jsonl``) per model, one JSON object per line (``id``, ``result`` and
    optionally ``input_token_count``, ``output_token_count``, ``latency``), plus an
    optional ``manifest.json`` whose ``models`` list gives each model's ``style`` and
    ``recorded_accuracy``. Models missing from the manifest (or no manifest at all) are
    read too; their style is detected from their outputs.
(b) BFCL's own result tree for one model, as ``bfcl generate`` writes it:
    ``<group>/BFCL_v4_<category>_result.json`` (JSON lines; gzipped or not), optionally
    with a ``manifest.json`` (``model``, ``recorded_scores``) and BFCL score files
    (``BFCL_v4_<category>_score.json``, whose first line holds the accuracy) in the tree
    or in the sibling ``score/<model>/`` folder of a ``result/<model>/`` tree. A parent
    folder holding several such trees (``result/``) is read as one tree per model.

Example::

    for model in load_results("shared/data/bfcl-results"):
        print(model.model, model.style, len(model.entries), model.recorded)
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from eval.bfcl.decode import dominant_style
from eval.bfcl.questions import category_of
from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.core.jsonl import json_lines

__all__ = ["ModelResults", "RecordedOutput", "ResultsError", "load_results"]

_RESULT_FILE = re.compile(r"^BFCL_v\d+_(?P<category>.+?)_result\.json(?:l)?(?:\.gz)?$")
_SCORE_FILE = re.compile(r"^BFCL_v\d+_(?P<category>.+?)_score\.json(?:l)?(?:\.gz)?$")
_MODEL_FILE = re.compile(r"^(?P<model>.+?)\.jsonl?(?:\.gz)?$")
# Folders that group the result files of one model in a BFCL tree.
_GROUPS = frozenset({"non_live", "live", "multi_turn", "agentic", "memory", "web_search"})
# Categories whose results are single answers (their style says something about the model).
_MULTI_STEP_PREFIXES = ("multi_turn", "memory", "web_search", "agentic")


class ResultsError(ConfigurationError):
    """A results path that cannot be read (with what was expected there)."""


class RecordedOutput(BaseModel):
    """One recorded answer of a model to one BFCL question."""

    model_config = ConfigDict(frozen=True)

    id: str
    category: str
    raw: Any  # the ``result`` field exactly as recorded (str, FC list, or per-turn lists)
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency: float | None = None
    reasoning: str | None = None


class ModelResults(BaseModel):
    """All recorded outputs of one model, with its output style and recorded scores."""

    model_config = ConfigDict(frozen=True)

    model: str
    style: str
    recorded: dict[str, float] = Field(default_factory=dict)
    entries: dict[str, RecordedOutput] = Field(default_factory=dict)
    source: str = ""

    @property
    def categories(self) -> list[str]:
        """Categories present, in first-seen order."""
        seen: dict[str, None] = {}
        for entry in self.entries.values():
            seen.setdefault(entry.category, None)
        return list(seen)

    def by_category(self, category: str) -> list[RecordedOutput]:
        return [e for e in self.entries.values() if e.category == category]


# ----------------------------------------------------------------------------- reading


def _open_text(path: Path) -> str:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return fh.read()
    return path.read_text(encoding="utf-8")


def _records(path: Path) -> list[dict[str, Any]]:
    """JSON lines (or one JSON array) → records; a clear error names the bad line."""
    text = _open_text(path)
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            pass
        else:
            if isinstance(data, list):
                return [r for r in data if isinstance(r, dict)]
    return [r for r in json_lines(text.splitlines(), source=path, error=ResultsError) if isinstance(r, dict)]


def _total(value: Any) -> float | None:
    """Token counts and latencies: a number, or (multi-turn) nested lists of numbers."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (list, tuple)):
        parts = [_total(v) for v in value]
        nums = [p for p in parts if p is not None]
        return sum(nums) if nums else None
    return None


def _entry(record: dict[str, Any], category: str | None) -> RecordedOutput | None:
    rid = record.get("id")
    if not isinstance(rid, str):
        return None
    tokens_in = _total(record.get("input_token_count"))
    tokens_out = _total(record.get("output_token_count"))
    reasoning = record.get("reasoning_content")
    return RecordedOutput(
        id=rid,
        category=category or category_of(rid),
        raw=record.get("result"),
        input_tokens=int(tokens_in) if tokens_in is not None else None,
        output_tokens=int(tokens_out) if tokens_out is not None else None,
        latency=_total(record.get("latency")),
        reasoning=reasoning if isinstance(reasoning, str) else None,
    )


def _style(entries: Iterable[RecordedOutput]) -> str:
    single = [
        e.raw
        for e in entries
        if not e.category.startswith(_MULTI_STEP_PREFIXES) and e.raw is not None
    ]
    return dominant_style(single)


def _manifest_style(value: Any, entries: Iterable[RecordedOutput]) -> str:
    """The manifest's coarse style (``fc_list`` / ``prompt_string``) → a decoding style."""
    if value == "fc_list":
        return "fc_list"
    return _style(entries)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: unreadable manifest ({exc})") from None


# --------------------------------------------------------------- layout (a): per model


def _model_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and _MODEL_FILE.match(p.name) and p.name != "manifest.json"
    )


def _load_flat(folder: Path, files: list[Path]) -> list[ModelResults]:
    manifest_path = folder / "manifest.json"
    manifest = _read_json(manifest_path) if manifest_path.exists() else {}
    known: dict[str, dict[str, Any]] = {}
    for item in manifest.get("models", []) if isinstance(manifest, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("file"), str):
            known[item["file"]] = item
    out = []
    for path in files:
        meta = known.get(path.name, {})
        name = meta.get("model") or _MODEL_FILE.match(path.name).group("model")  # type: ignore[union-attr]
        entries = {}
        for record in _records(path):
            entry = _entry(record, None)
            if entry is not None:
                entries[entry.id] = entry
        recorded = {
            str(k): float(v)
            for k, v in (meta.get("recorded_accuracy") or {}).items()
            if isinstance(v, (int, float))
        }
        out.append(
            ModelResults(
                model=str(name),
                style=_manifest_style(meta.get("style"), entries.values()),
                recorded=recorded,
                entries=entries,
                source=str(path),
            )
        )
    return out


# -------------------------------------------------------------- layout (b): BFCL tree


def _result_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and _RESULT_FILE.match(p.name))


def _score_files(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        yield from (p for p in folder.rglob("*") if p.is_file() and _SCORE_FILE.match(p.name))


def _recorded_scores(tree: Path, model: str, manifest: dict[str, Any]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for key in ("recorded_scores", "recorded_accuracy"):
        for cat, value in (manifest.get(key) or {}).items():
            if isinstance(value, dict) and isinstance(value.get("accuracy"), (int, float)):
                scores[str(cat)] = float(value["accuracy"])
            elif isinstance(value, (int, float)):
                scores[str(cat)] = float(value)
    # BFCL score files: inside the tree, or score/<model>/ beside result/<model>/.
    candidates = [tree, tree.parent.parent / "score" / tree.name]
    for folder in candidates:
        for path in _score_files(folder):
            category = _SCORE_FILE.match(path.name).group("category")  # type: ignore[union-attr]
            try:
                first = _open_text(path).splitlines()[0]
                value = json.loads(first).get("accuracy")
            except (IndexError, json.JSONDecodeError, AttributeError, OSError):
                continue
            if isinstance(value, (int, float)):
                scores.setdefault(category, float(value))
    return scores


def _load_tree(tree: Path, files: list[Path]) -> ModelResults:
    manifest_path = tree / "manifest.json"
    manifest = _read_json(manifest_path) if manifest_path.exists() else {}
    if not isinstance(manifest, dict):
        manifest = {}
    model = str(manifest.get("model") or tree.name)
    entries: dict[str, RecordedOutput] = {}
    for path in files:
        category = _RESULT_FILE.match(path.name).group("category")  # type: ignore[union-attr]
        for record in _records(path):
            entry = _entry(record, category)
            if entry is not None:
                entries[entry.id] = entry
    return ModelResults(
        model=model,
        style=_style(entries.values()),
        recorded=_recorded_scores(tree, tree.name, manifest),
        entries=entries,
        source=str(tree),
    )


# ------------------------------------------------------------------------------ public


def load_results(path: str | Path) -> list[ModelResults]:
    """Every model's recorded outputs under ``path`` (see the module docstring).

    ``path`` may be a results directory (layout a), one model file of it, a BFCL result
    tree for one model (layout b), or a folder holding several such trees. Raises
    :class:`ResultsError` when nothing readable is there.
    """
    path = Path(path)
    if not path.exists():
        raise ResultsError(f"{path}: no such file or directory")
    if path.is_file():
        if _RESULT_FILE.match(path.name):
            return [_load_tree(path.parent, [path])]
        if _MODEL_FILE.match(path.name):
            return _load_flat(path.parent, [path])
        raise ResultsError(
            f"{path}: not a results file (<model>.jsonl[.gz] or BFCL_v4_*_result.json)"
        )
    flat = _model_files(path)
    if flat:
        return _load_flat(path, flat)
    subdirs = sorted(p for p in path.iterdir() if p.is_dir())
    here = any(p.is_file() and _RESULT_FILE.match(p.name) for p in path.iterdir())
    if here or (path / "manifest.json").exists() or any(d.name in _GROUPS for d in subdirs):
        files = _result_files(path)
        if files:
            return [_load_tree(path, files)]
    models: list[ModelResults] = []
    for sub in subdirs:  # a folder of several models' trees (BFCL's result/)
        files = _result_files(sub)
        if files:
            models.append(_load_tree(sub, files))
        elif _model_files(sub):
            models.extend(_load_flat(sub, _model_files(sub)))
    if not models:
        raise ResultsError(
            f"{path}: no model outputs found (expected <model>.jsonl[.gz] files, or "
            "BFCL result trees with BFCL_v4_<category>_result.json files)"
        )
    return models
