"""The report of ``toolrm eval acebench``, and how a run resumes from it.

:func:`acebench_report` is the arm report every live benchmark writes
(:func:`eval.tasks.arms.arms_report`: ``arms``, ``comparisons``, ``runs``, ...) plus
``benchmark`` = ``"acebench"``, the run's ``config`` and ``per_category``: for each arm,
each category and the groups ``normal``, ``special`` and ``all``, the exact counts
(``correct``/``n``), the accuracy and its Wilson 95% interval.

Resuming (:func:`resume_runs`): a report written by an earlier run with the same
``config`` gives back its runs; a task that every arm has run is not run again, a task
only some arms ran is run again by all (its old runs dropped).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eval.acebench.data import CATEGORIES, NORMAL_CATEGORIES, SPECIAL_CATEGORIES
from eval.tasks.arms import arms_report
from eval.tasks.runner import AgentTask, TaskRun, wilson_interval
from toolrm_agent.core.errors import ConfigurationError

__all__ = ["acebench_report", "category_table", "resume_runs", "write_report"]


def _cell(runs: Sequence[TaskRun]) -> dict[str, Any]:
    n = len(runs)
    correct = sum(r.valid for r in runs)
    return {
        "n": n,
        "correct": correct,
        "accuracy": correct / n if n else None,
        "ci95": list(wilson_interval(correct, n)) if n else None,
    }


def category_table(runs: Sequence[TaskRun], arms: Sequence[str]) -> dict[str, dict[str, Any]]:
    """arm → {category or group → counts, accuracy, Wilson interval} (categories present)."""
    table: dict[str, dict[str, Any]] = {}
    for arm in arms:
        mine = [r for r in runs if r.arm == arm]
        row: dict[str, Any] = {}
        for category in CATEGORIES:
            of_cat = [r for r in mine if r.category == category]
            if of_cat:
                row[category] = _cell(of_cat)
        groups = {
            "normal": [r for r in mine if r.category in NORMAL_CATEGORIES],
            "special": [r for r in mine if r.category in SPECIAL_CATEGORIES],
            "all": mine,
        }
        for name, members in groups.items():
            if members:
                row[name] = _cell(members)
        table[arm] = row
    return table


def acebench_report(
    tasks: Sequence[AgentTask],
    runs: Sequence[TaskRun],
    arm_info: Mapping[str, tuple[str | None, str | None]],
    *,
    config: Mapping[str, Any],
    seconds: float,
) -> dict[str, Any]:
    """The JSON report (keys in the module docstring)."""
    report = arms_report(
        tasks,
        runs,
        arm_info,
        policy=str(config.get("policy")),
        max_retries=int(config.get("max_retries", 0)),
        seconds=seconds,
        decoding="greedy policy; best-of-N samples and answers to critiques at the given temperatures",
        candidates=config.get("n") if "best_of_n" in (config.get("modes") or ()) else None,
        extra={
            "benchmark": "acebench",
            "config": dict(config),
            "categories": sorted({t.category for t in tasks}, key=_order),
            "per_category": category_table(runs, list(arm_info)),
        },
    )
    # the agent's system prompt depends on the category (the arm report names BFCL's)
    report["system_prompt"] = "per category: eval/acebench/tasks.py NORMAL_PROMPT / SPECIAL_PROMPT"
    return report


def _order(category: str) -> int:
    return CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)


def resume_runs(
    path: Path, config: Mapping[str, Any], tasks: Sequence[AgentTask], arms: Sequence[str]
) -> tuple[list[TaskRun], list[AgentTask]]:
    """(runs kept from the report at ``path``, tasks still to run); see the module
    docstring. A report of another configuration is a usage error (say ``--no-resume``
    or another ``--out``)."""
    if not path.exists():
        return [], list(tasks)
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path}: cannot resume from it ({exc})") from exc
    if old.get("benchmark") != "acebench" or old.get("config") != json.loads(json.dumps(dict(config))):
        raise ConfigurationError(
            f"{path} holds a run of another configuration; use --no-resume to overwrite it "
            "or another --out"
        )
    runs = [TaskRun.model_validate(r) for r in old.get("runs") or []]
    done: dict[str, set[str]] = {}
    for run in runs:
        done.setdefault(run.id, set()).add(run.arm)
    finished = {tid for tid, got in done.items() if set(arms) <= got}
    wanted = {t.id for t in tasks}
    kept = [r for r in runs if r.id in finished and r.id in wanted and r.arm in arms]
    return kept, [t for t in tasks if t.id not in finished]


def write_report(path: Path, report: Mapping[str, Any]) -> None:
    """Write the report atomically (a crash mid-write leaves the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
