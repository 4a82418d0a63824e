"""ACEBench questions and ground truth, read from the public data set (never copied here).

The data folder holds ``data_<category>.json.gz`` (questions, JSON lines) and
``possible_answer/data_<category>.json.gz`` (ground truth), joined on ``id``. Where it is:
``--data``, else ``$TOOLRM_ACEBENCH``, else the first ``shared/data/acebench`` found beside
the working directory or the checkout (:func:`default_data_dir`).

A question is :class:`AceQuestion`: the dialogue as ACEBench writes it (``user: ...`` /
``system: ...`` lines), the offered functions (JSON-schema ``parameters``), the ``time``
and ``profile`` context some answers depend on, and the ground truth.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.core.specs import ToolSpec

__all__ = [
    "AGENT_CATEGORIES",
    "CATEGORIES",
    "NORMAL_CATEGORIES",
    "SPECIAL_CATEGORIES",
    "AceBenchDataError",
    "AceQuestion",
    "category_of",
    "default_data_dir",
    "dialogue_turns",
    "load_questions",
]

#: Categories whose right answer is one call or several (checked by value).
NORMAL_CATEGORIES: tuple[str, ...] = (
    "normal_single_turn_single_function",
    "normal_single_turn_parallel_function",
    "normal_similar_api",
    "normal_preference",
    "normal_atom_bool",
    "normal_atom_enum",
    "normal_atom_list",
    "normal_atom_number",
    "normal_atom_object_short",
    "normal_atom_object_deep",
    "normal_multi_turn_user_adjust",
    "normal_multi_turn_user_switch",
)
#: Categories whose right answer is no call: name what is missing or wrong, or decline.
SPECIAL_CATEGORIES: tuple[str, ...] = (
    "special_incomplete",
    "special_error_param",
    "special_irrelevant",
)
#: Stateful tasks that need ACEBench's simulated environment (not run here).
AGENT_CATEGORIES: tuple[str, ...] = ("agent_multi_turn", "agent_multi_step")
#: The categories ``toolrm eval acebench`` runs, in report order.
CATEGORIES: tuple[str, ...] = NORMAL_CATEGORIES + SPECIAL_CATEGORIES

_ENV = "TOOLRM_ACEBENCH"
_TURN = re.compile(r"^(user|system|assistant)\s*:\s?", re.MULTILINE)


class AceBenchDataError(ConfigurationError):
    """The ACEBench data cannot be found or read (a usage error: say where it is)."""


def default_data_dir() -> Path | None:
    """Where the data are: ``$TOOLRM_ACEBENCH``, else ``shared/data/acebench`` one or two
    levels above the working directory or this checkout (``None`` when nowhere)."""
    if os.environ.get(_ENV):
        return Path(os.environ[_ENV])
    roots = [Path.cwd(), Path(__file__).resolve().parents[2]]
    for root in roots:
        for up in (root.parent, root.parent.parent):
            candidate = up / "shared" / "data" / "acebench"
            if candidate.is_dir():
                return candidate
    return None


def category_of(id: str) -> str:  # noqa: A002 - ACEBench's own field name
    """``normal_multi_turn_user_adjust_3_1`` → ``normal_multi_turn_user_adjust``."""
    return re.sub(r"(_\d+)+$", "", id)


class AceQuestion(BaseModel):
    """One ACEBench question with its ground truth."""

    model_config = ConfigDict(frozen=True)

    id: str
    category: str
    question: str
    """The dialogue: ``user: ...`` / ``system: ...`` lines (see :func:`dialogue_turns`)."""
    functions: list[dict[str, Any]] = Field(default_factory=list)
    time: str = ""
    profile: str = ""
    ground_truth: Any = None
    """Normal: ``{name: {arg: value}}`` or a list of alternatives (names of repeated calls
    carry ``_1``, ``_2``); incomplete: ``{name: [missing params]}``; error_param:
    ``{param: [wrong values]}``; irrelevant: a sentence."""

    @cached_property
    def specs(self) -> tuple[ToolSpec, ...]:
        """The offered functions as :class:`ToolSpec`."""
        return tuple(ToolSpec.from_openai(doc) for doc in self.functions)

    @property
    def turns(self) -> list[tuple[str, str]]:
        return dialogue_turns(self.question)


def dialogue_turns(text: str) -> list[tuple[str, str]]:
    """ACEBench's dialogue text as ``(role, content)`` turns, roles ``user``/``assistant``.

    A line starting with ``user:`` opens a user turn, ``system:`` or ``assistant:`` an
    assistant turn (ACEBench calls the assistant "system"); other lines continue the
    turn before. Text with no role prefix is one user turn.
    """
    marks = list(_TURN.finditer(text))
    if not marks or text[: marks[0].start()].strip():
        return [("user", text.strip())]
    turns: list[tuple[str, str]] = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        role = "user" if mark.group(1) == "user" else "assistant"
        turns.append((role, text[mark.end() : end].strip()))
    return turns


def _read_gz_jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _file(folder: Path, category: str) -> Path:
    for name in (f"data_{category}.json.gz", f"data_{category}.json"):
        if (folder / name).exists():
            return folder / name
    raise AceBenchDataError(f"no ACEBench file for {category!r} in {folder}")


@cache
def _load(data_dir: str, category: str) -> tuple[AceQuestion, ...]:
    folder = Path(data_dir)
    questions = _read_gz_jsonl(_file(folder, category))
    answers = {a["id"]: a.get("ground_truth") for a in _read_gz_jsonl(_file(folder / "possible_answer", category))}
    out = []
    for q in questions:
        functions = q.get("function") or []
        out.append(
            AceQuestion(
                id=q["id"],
                category=category,
                question=str(q.get("question") or ""),
                functions=[f for f in functions if isinstance(f, dict)],
                time=str(q.get("time") or ""),
                profile=str(q.get("profile") or ""),
                ground_truth=answers.get(q["id"]),
            )
        )
    return tuple(out)


def load_questions(category: str, data_dir: Path | None = None) -> list[AceQuestion]:
    """The questions of one category in ACEBench's order, each with its ground truth."""
    if category in AGENT_CATEGORIES:
        raise AceBenchDataError(
            f"{category!r} needs ACEBench's simulated environment; it is not run here"
        )
    if category not in CATEGORIES:
        raise AceBenchDataError(f"unknown ACEBench category {category!r}; use one of {', '.join(CATEGORIES)}")
    folder = data_dir or default_data_dir()
    if folder is None or not Path(folder).is_dir():
        raise AceBenchDataError(
            "ACEBench data not found: pass --data DIR or set TOOLRM_ACEBENCH "
            "(the folder with data_<category>.json.gz and possible_answer/)"
        )
    return list(_load(str(Path(folder).resolve()), category))
