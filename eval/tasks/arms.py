"""The arm runner and its report: what ``toolrm eval selfcorrect`` and ``toolrm demo`` run.

An *arm* is the policy model run as a LangGraph agent over the task set: without a
critic (the baseline, :data:`BASELINE`) or with a :class:`~toolrm_agent.critic.node.ToolRMCritic`
in one mode (``retry`` / ``resample`` / ``best_of_n``) and one judge.

1. :func:`critic_arms` builds the baseline and one critic arm per (mode, judge) over one
   policy model (one shared :class:`~eval.tasks.runner.UsageMeter`), and says which mode
   and judge each arm has (:data:`ArmInfo`).
2. :func:`run_arms_live` runs every task in every arm
   (:func:`eval.tasks.runner.run_arms`), with a progress bar or without.
3. :func:`arms_report` is the one report builder: the task set, one entry per arm
   (mode, judge, summary), a baseline-vs-arm comparison per critic arm
   (:func:`eval.tasks.runner.lift_report`), every run, the seconds and the machine.

``toolrm eval selfcorrect`` is one critic arm on a BFCL category (its report adds a flat
baseline-vs-critic view); ``toolrm demo`` is a preset: 20 fixed tasks, the ``retry`` and
``best_of_n`` arms, a per-task printout.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from eval.tasks.runner import (
    SYSTEM_PROMPT,
    AgentTask,
    Arm,
    TaskRun,
    UsageMeter,
    agent_arm,
    lift_report,
    max_steps_for,
    run_arms,
    summarize,
)

__all__ = [
    "BASELINE",
    "ArmInfo",
    "SAMPLING_MODES",
    "arms_report",
    "critic_arm_name",
    "critic_arms",
    "draws_samples",
    "run_arms_live",
    "without_texts",
]

BASELINE = "baseline"
"""The name of the arm without a critic."""

SAMPLING_MODES: tuple[str, ...] = ("best_of_n", "resample")
"""Modes that draw extra proposals from the sampler."""

ArmInfo = dict[str, tuple[str | None, str | None]]
"""Arm name → (mode, judge spec); ``(None, None)`` for the baseline."""


def draws_samples(mode: str, bands: Any = None) -> bool:
    """A critic arm in ``mode`` with ``bands`` samples extra proposals (so its command
    needs a sampling copy of the policy): ``best_of_n``, ``resample``, or an uncertain band
    that resamples."""
    return mode in SAMPLING_MODES or getattr(bands, "on_uncertain", None) == "resample"


def critic_arm_name(mode: str, judge: str, several: bool) -> str:
    """``retry`` / ``best_of_n``, with ``[judge]`` when several judges are compared."""
    return f"{mode}[{judge}]" if several else mode


def critic_arms(
    policy: Any,
    judges: Mapping[str, Any],
    *,
    modes: Sequence[str] = ("retry",),
    max_retries: int = 2,
    n: int = 4,
    sampler: Any = None,
    retry_model: Any = None,
    name: Callable[[str, str], str] | None = None,
    bands: Any = None,
    consensus: float | None = None,
) -> tuple[list[Arm], ArmInfo]:
    """The baseline arm and a critic arm per (mode, judge), over one policy model.

    ``judges`` maps a judge spec (its name in the report) to a built judge. In
    ``best_of_n`` the critic ranks the policy's proposal and ``n - 1`` samples of
    ``sampler`` (a sampling copy of the policy); in ``resample`` it draws them only when
    the proposal is rejected; ``retry_model`` (a sampling copy too)
    answers the critiques. ``name(mode, spec)`` names a critic arm (default
    :func:`critic_arm_name`). ``bands`` (a :class:`~toolrm_agent.DecisionBands`, or
    ``None``: the judge's own ``accepted`` decides) go to every critic; with
    ``on_uncertain="resample"`` a ``retry`` arm samples too, with ``"ask"`` every arm's graph
    gets a checkpointer and each escalation is answered as a timeout
    (:func:`eval.tasks.runner.run_task`). ``consensus``: the weight of the samples' agreement
    in a best-of-N pick (``None``: the critic's default, :attr:`~toolrm_agent.CriticOptions.consensus`).
    One meter counts every policy call of every arm.
    """
    from toolrm_agent.critic.node import ToolRMCritic

    several = len(judges) > 1
    meter = UsageMeter()
    arms: list[Arm] = [agent_arm(BASELINE, policy, meter=meter)]
    info: ArmInfo = {BASELINE: (None, None)}
    for mode in modes:
        for spec, judge in judges.items():
            arm = name(mode, spec) if name is not None else critic_arm_name(mode, spec, several)
            critic = ToolRMCritic(
                judge, mode=mode, n=n, max_retries=max_retries, on_budget_exhausted="execute",  # type: ignore[arg-type]
                bands=bands,
            )
            if consensus is not None:
                critic = critic.override(consensus=consensus)
            arms.append(
                agent_arm(
                    arm,
                    policy,
                    critic,
                    sampler=sampler if critic.options.draws_samples else None,
                    retry_model=retry_model,
                    meter=meter,
                )
            )
            info[arm] = (mode, spec)
    return arms, info


def run_arms_live(
    tasks: Sequence[AgentTask],
    arms: Sequence[Arm],
    *,
    max_retries: int,
    console: Any = None,
    on_run: Callable[[AgentTask, TaskRun], None] | None = None,
    progress: bool = True,
    label: str = "run",
    transient: bool = True,
) -> list[TaskRun]:
    """Every task in every arm (task by task, arms in order); ``on_run`` after each run.

    With ``progress``, a bar on ``console`` shows the next task and arm and how many
    tasks each arm got right so far.
    """
    max_steps = max_steps_for(max_retries)
    if not progress:
        return run_arms(tasks, arms, max_steps=max_steps, on_run=on_run)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    order = [(t.id, a.name) for t in tasks for a in arms]
    correct = {a.name: 0 for a in arms}

    def note(index: int) -> str:
        counts = ", ".join(f"{name} {k}" for name, k in correct.items())
        upcoming = f"{order[index][0]} · {order[index][1]} · " if index < len(order) else ""
        return f"{upcoming}correct: {counts}"

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
        console=console,
        transient=transient,
    ) as bar:
        job = bar.add_task(label, total=len(order), note=note(0))

        def step(task: AgentTask, run: TaskRun) -> None:
            correct[run.arm] += run.valid
            if on_run is not None:
                on_run(task, run)
            bar.advance(job)
            bar.update(job, note=note(int(bar.tasks[0].completed)))

        return run_arms(tasks, arms, max_steps=max_steps, on_run=step)


def _task_rows(tasks: Sequence[AgentTask] | None, runs: Sequence[TaskRun]) -> list[dict[str, Any]]:
    if tasks is not None:
        return [{"id": t.id, "category": t.category, "request": t.request} for t in tasks]
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        rows.setdefault(run.id, {"id": run.id, "category": run.category})
    return list(rows.values())


def arms_report(
    tasks: Sequence[AgentTask] | None,
    runs: Sequence[TaskRun],
    arm_info: Mapping[str, tuple[str | None, str | None]],
    *,
    policy: str,
    max_retries: int,
    seconds: float,
    decoding: str,
    candidates: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The report of an arm run (JSON-ready).

    Keys: ``policy``, ``decoding``, ``modes``, ``candidates`` (best-of-N ``n``, else
    ``None``), ``max_retries``, ``n_tasks``, then ``extra`` (a command's own keys), then
    ``system_prompt``, ``tasks`` (id, category, request; without ``tasks``, id and
    category from the runs), ``arms`` (name, mode, judge, summary), ``comparisons``
    (critic arm → :func:`~eval.tasks.runner.lift_report` against :data:`BASELINE`),
    ``runs``, ``seconds`` and ``machine``.
    """
    task_rows = _task_rows(tasks, runs)
    comparisons = {
        name: lift_report(runs, baseline=BASELINE, critic=name)
        for name, (mode, _) in arm_info.items()
        if mode is not None
    }
    return {
        "policy": policy,
        "decoding": decoding,
        "modes": sorted({m for m, _ in arm_info.values() if m is not None}),
        "candidates": candidates,
        "max_retries": max_retries,
        "n_tasks": len(task_rows),
        **(extra or {}),
        "system_prompt": SYSTEM_PROMPT,
        "tasks": task_rows,
        "arms": [
            {"name": name, "mode": mode, "judge": judge, "summary": summarize(runs, name).model_dump()}
            for name, (mode, judge) in arm_info.items()
        ],
        "comparisons": comparisons,
        "runs": [r.model_dump(mode="json") for r in runs],
        "seconds": round(seconds, 3),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
    }


def without_texts(report: Mapping[str, Any]) -> dict[str, Any]:
    """An arm report (:func:`arms_report`, or a command's report built on it) with the
    benchmark's texts taken out, fit to commit where the benchmark's data may not go: the
    tasks keep their id and category, every run is :meth:`~eval.tasks.runner.TaskRun.without_texts`.
    Every count, comparison and summary stays as it was; a command that resumes from its
    report resumes from this one too (the runs it holds count as done)."""
    public = dict(report)
    public["tasks"] = [{"id": t["id"], "category": t["category"]} for t in report.get("tasks") or []]
    public["runs"] = [TaskRun.model_validate(r).without_texts().model_dump(mode="json")
                      for r in report.get("runs") or []]
    public["texts"] = "removed: requests, answers and checker messages (proposals as sha256 digests)"
    return public

