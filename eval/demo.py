"""``toolrm demo``: a real agent corrected by a real critic on BFCL tasks, offline.

The agent is a LangGraph ReAct graph (:func:`toolrm_agent.critic.build_agent_graph`:
model node → :class:`~toolrm_agent.critic.ToolRMCritic` → ``ToolNode``) whose policy is
the offline Qwen2.5-Coder-0.5B-Instruct served by llama.cpp (:data:`DEFAULT_POLICY`,
greedy). Its tools are stubs that record each call and answer with a short JSON ack
(:mod:`eval.agent_tasks`). Every task runs once per arm: without a critic, with the
critic in ``retry`` mode (answers to a critique sampled at ``--retry-temperature``) and in
``best_of_n`` mode (``--n - 1`` more proposals sampled at ``--temperature``, the best-ranked
kept). The demo prints, per task, the proposal, the critique, the revision, the executed
calls and BFCL's verdict on them, then a summary table (accuracy with its Wilson 95%
interval, policy and critic calls, tokens, retries and how many changed the call, seconds).

The task set (:data:`DEMO_TASKS`) is fixed; see :data:`SELECTION_RULE` for how it was
chosen. Several ``--judge`` options compare judges on the same tasks.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from eval.agent_tasks import (
    SYSTEM_PROMPT,
    AgentTask,
    Arm,
    TaskRun,
    UsageMeter,
    agent_arm,
    lift_report,
    load_policy,
    load_tasks,
    max_steps_for,
    run_arms,
    summarize,
)
from eval.options import DEFAULT_JUDGE as DEFAULT_CRITIC

__all__ = [
    "CATEGORIES",
    "DEFAULT_JUDGE",
    "DEMO_TASKS",
    "SELECTION_RULE",
    "app",
    "demo_tasks",
    "print_summary",
    "print_task",
    "run_demo",
]

DEMO_TASKS: dict[str, tuple[str, ...]] = {
    category: tuple(f"{category}_{i}" for i in range(5))
    for category in ("simple_python", "multiple", "parallel", "parallel_multiple")
}
"""The fixed task set, by BFCL v4 category, in BFCL order (see :data:`SELECTION_RULE`)."""

SELECTION_RULE = (
    "The first five ids (0-4) of each of BFCL v4's four single-turn call categories "
    "(simple_python, multiple, parallel, parallel_multiple), in BFCL order: 20 tasks, fixed "
    "before any run and not chosen by any model's outcome."
)
"""How :data:`DEMO_TASKS` was chosen (also written into the JSON report)."""

CATEGORIES: tuple[str, ...] = tuple(DEMO_TASKS)

DEFAULT_JUDGE = DEFAULT_CRITIC
"""The demo's judge unless told otherwise: the shipped trained critic (see
:data:`eval.options.DEFAULT_JUDGE` for what it measured against ``schema``)."""

DEFAULT_POLICY = "llamacpp:default"
"""The offline Qwen2.5-Coder-0.5B served by llama.cpp (see :data:`SECONDS_PER_RUN`)."""

DEFAULT_MODES: tuple[str, ...] = ("retry", "best_of_n")

SECONDS_PER_RUN: dict[str, float] = {"llamacpp:default": 4.6, "llamacpp:qwen1.5b": 12.4}
"""Measured seconds per (task, arm) run on this 2-core machine, by policy spec, for the
up-front estimate: the arms' seconds of ``toolrm demo --json`` reports divided by 60 runs
(``llamacpp:default``: 76.5 + 59.8 + 136.5 s with n=3; ``llamacpp:qwen1.5b``: 162.0 +
102.0 + 480.8 s with n=4, on a busier machine)."""


def expected_time(policy: str, tasks: int, arms: int) -> str:
    """What the run will take, from :data:`SECONDS_PER_RUN` (a line for the user)."""
    per_run = SECONDS_PER_RUN.get(policy)
    if per_run is None:
        return f"{tasks} tasks × {arms} arms; no timing measured for policy {policy!r}"
    minutes = per_run * tasks * arms / 60
    return (f"{tasks} tasks × {arms} arms: about {minutes:.0f} min on 2 cores, model loading aside "
            f"(measured {per_run:.1f} s per task and arm; slower on a busy machine)")


BASELINE = "baseline"

app = typer.Typer(
    name="toolrm demo",
    help="A real agent (offline Qwen2.5-Coder-0.5B) corrected by a real critic on BFCL tasks.",
    add_completion=False,
    no_args_is_help=False,
)


def demo_tasks(
    categories: Sequence[str] | None = None, limit: int | None = None
) -> list[AgentTask]:
    """The demo's tasks, in :data:`DEMO_TASKS` order, of ``categories`` (default all),
    the first ``limit`` of them."""
    chosen = list(categories or CATEGORIES)
    unknown = [c for c in chosen if c not in DEMO_TASKS]
    if unknown:
        raise ValueError(
            f"unknown demo category {unknown[0]!r}; choose from {', '.join(CATEGORIES)}"
        )
    tasks = [t for c in chosen for t in load_tasks(c, ids=DEMO_TASKS[c])]
    return tasks[:limit] if limit is not None else tasks


def critic_arm_name(mode: str, judge: str, several: bool) -> str:
    """``retry`` / ``best_of_n``, with ``[judge]`` when several judges are compared."""
    return f"{mode}[{judge}]" if several else mode


# ---------------------------------------------------------------------------- printing

_STEP_STYLE = {
    "proposal": "cyan",
    "critique": "yellow",
    "accepted": "green",
    "best_of_n": "magenta",
    "executed": "bold",
    "text": "dim",
    "halt": "red",
}


def _verdict(run: TaskRun) -> str:
    if run.valid:
        return "[bold green]✓ BFCL checker accepts[/]"
    why = run.error_type or run.stop
    return f"[bold red]✗ BFCL checker rejects[/] [dim]({escape(why)})[/]"


def print_task(console: Console, task: AgentTask, runs: Sequence[TaskRun]) -> None:
    """What each arm did on one task: proposal, critique, revision, executed, verdict."""
    console.print(
        f"\n[bold]{escape(task.id)}[/] ({escape(task.category)}) "
        f"[italic]{escape(_short(task.request, 300))}[/]"
    )
    table = Table(show_header=True, expand=True)
    table.add_column("arm", style="bold", no_wrap=True)
    table.add_column("step", no_wrap=True)
    table.add_column("content", overflow="fold", ratio=1)
    for run in runs:
        first = True
        proposals = 0
        for event in run.events:
            step = event.kind
            if step == "proposal":
                proposals += 1
                step = "proposal" if proposals == 1 else "revision"
            text = _short(event.text, 500) or "(empty)"
            table.add_row(
                escape(run.arm) if first else "",
                f"[{_STEP_STYLE.get(event.kind, '')}]{step}[/]",
                escape(text),
            )
            first = False
        if run.error:
            table.add_row(
                escape(run.arm) if first else "", "[red]error[/]", escape(_short(run.error, 300))
            )
            first = False
        table.add_row(escape(run.arm) if first else "", "verdict", _verdict(run), end_section=True)
    console.print(table)


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_summary(console: Console, report: Mapping[str, Any]) -> None:
    """The summary table of a demo report (one row per arm)."""
    modes = ", ".join(
        f"best_of_n n={report.get('candidates')}" if m == "best_of_n" else m for m in report.get("modes", [])
    )
    table = Table(
        title=f"toolrm demo · policy {escape(report['policy'])} · {report['n_tasks']} BFCL tasks · "
        f"{modes}, max {report['max_retries']} retries",
        box=box.SIMPLE_HEAD,
        caption="accuracy: correct/n, 95% Wilson interval · tokens: prompt+completion · "
        "retries changed: answers to a critique that differ from the rejected call",
    )
    for col in (
        "arm",
        "accuracy",
        "95% CI",
        "policy\ncalls",
        "policy\ntokens",
        "critic\ncalls",
        "retries\n(changed)",
        "seconds",
    ):
        table.add_column(
            col,
            justify="left" if col == "arm" else "right",
            no_wrap=col != "arm",
            min_width=15 if col == "arm" else None,
        )
    for arm in report["arms"]:
        s = arm["summary"]
        acc = "-" if s["accuracy"] is None else f"{s['correct']}/{s['n']} {s['accuracy']:.0%}"
        ci = s.get("accuracy_ci95")
        label = "no critic" if arm["judge"] is None else f"{arm['mode']} ({arm['judge']})"
        table.add_row(
            escape(label),
            acc,
            "-" if not ci else f"{ci[0]:.0%}–{ci[1]:.0%}",
            str(s["policy_calls"]),
            f"{s['policy_tokens']['prompt']}+{s['policy_tokens']['completion']}",
            str(s["critic_calls"]),
            f"{s['retries']} ({s.get('retries_changed', 0)}/{s.get('retry_answers', 0)})",
            f"{s['seconds']:.1f}",
        )
    console.print(table)
    for name, cmp in report["comparisons"].items():
        lift = cmp["lift"]
        lift_text = "-" if lift is None else f"{lift * 100:+.0f} points"
        console.print(
            f"[bold]{escape(name)}[/]: accuracy {_pct(cmp['baseline_acc'])} → {_pct(cmp['critic_acc'])} "
            f"({lift_text}); fixed: {', '.join(cmp['fixed']) or 'none'}; "
            f"broken: {', '.join(cmp['broken']) or 'none'}"
        )
    console.print(f"wall time {report['seconds']:.1f} s (model loading included)")


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


# ------------------------------------------------------------------------------- run


def run_demo(
    tasks: Sequence[AgentTask],
    policy: Any,
    judges: Mapping[str, Any],
    *,
    policy_name: str = "default",
    max_retries: int = 2,
    modes: Sequence[str] = ("retry",),
    n: int = 4,
    sampler: Any = None,
    retry_model: Any = None,
    console: Console | None = None,
    progress: bool = True,
    on_run: Callable[[AgentTask, TaskRun], None] | None = None,
) -> dict[str, Any]:
    """Run ``tasks`` without a critic and with a critic per (mode, judge); the report.

    ``judges`` maps a judge spec (its name in the report) to a built judge; ``modes`` are
    ``retry`` and/or ``best_of_n``. In best-of-N the critic ranks the policy's proposal
    and ``n - 1`` samples of ``sampler`` (a sampling copy of the policy). ``retry_model``
    (a sampling copy too) answers the critiques, so that a retry is not the rejected call
    again. The report holds the task set, an entry per arm (mode, judge, summary), a
    baseline-vs-arm comparison per critic arm (:func:`eval.agent_tasks.lift_report`) and
    every run.
    """
    from toolrm_agent.critic import ToolRMCritic

    console = console or Console(stderr=True)
    meter = UsageMeter()  # one meter on the one policy; each run resets and reads it
    arms: list[Arm] = [agent_arm(BASELINE, policy, meter=meter)]
    arm_info: dict[str, tuple[str | None, str | None]] = {BASELINE: (None, None)}
    for mode in modes:
        for spec, judge in judges.items():
            name = critic_arm_name(mode, spec, several=len(judges) > 1)
            critic = ToolRMCritic(
                judge, mode=mode, n=n, max_retries=max_retries, on_budget_exhausted="execute"
            )
            arms.append(agent_arm(name, policy, critic, sampler=sampler, retry_model=retry_model, meter=meter))
            arm_info[name] = (mode, spec)

    started = time.perf_counter()
    by_task: dict[str, list[TaskRun]] = {}

    def done(task: AgentTask, run: TaskRun) -> None:
        by_task.setdefault(task.id, []).append(run)
        if len(by_task[task.id]) == len(arms):
            print_task(console, task, by_task[task.id])
        if on_run is not None:
            on_run(task, run)

    runs = _run_with_progress(tasks, arms, max_retries, console, done, progress)
    seconds = time.perf_counter() - started
    return build_report(
        tasks,
        runs,
        arm_info,
        policy_name=policy_name,
        max_retries=max_retries,
        n=n if "best_of_n" in modes else None,
        retry_sampled=retry_model is not None,
        seconds=seconds,
    )


def _run_with_progress(
    tasks: Sequence[AgentTask],
    arms: Sequence[Arm],
    max_retries: int,
    console: Console,
    done: Callable[[AgentTask, TaskRun], None],
    show: bool,
) -> list[TaskRun]:
    if not show:
        return run_arms(tasks, arms, max_steps=max_steps_for(max_retries), on_run=done)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        total = len(tasks) * len(arms)
        job = bar.add_task("demo", total=total)
        order = [(t, a) for t in tasks for a in arms]
        bar.update(job, description=f"{order[0][0].id} · {order[0][1].name}" if order else "demo")

        def step(task: AgentTask, run: TaskRun) -> None:
            done(task, run)
            bar.advance(job)
            index = int(bar.tasks[0].completed)
            if index < len(order):
                nxt_task, nxt_arm = order[index]
                bar.update(job, description=f"{nxt_task.id} · {nxt_arm.name}")

        return run_arms(tasks, arms, max_steps=max_steps_for(max_retries), on_run=step)


def build_report(
    tasks: Sequence[AgentTask],
    runs: Sequence[TaskRun],
    arm_info: Mapping[str, tuple[str | None, str | None]],
    *,
    policy_name: str,
    max_retries: int,
    seconds: float,
    n: int | None = None,
    retry_sampled: bool = False,
) -> dict[str, Any]:
    """The demo's JSON report (see :func:`run_demo`); ``arm_info``: arm → (mode, judge)."""
    comparisons = {
        name: lift_report(runs, baseline=BASELINE, critic=name)
        for name, (mode, _) in arm_info.items()
        if mode is not None
    }
    return {
        "policy": policy_name,
        "decoding": "greedy proposals; best-of-N candidates and retries sampled"
        if retry_sampled else "greedy proposals; best-of-N candidates sampled",
        "modes": sorted({m for m, _ in arm_info.values() if m is not None}),
        "candidates": n,
        "max_retries": max_retries,
        "n_tasks": len(tasks),
        "selection_rule": SELECTION_RULE,
        "system_prompt": SYSTEM_PROMPT,
        "tasks": [{"id": t.id, "category": t.category, "request": t.request} for t in tasks],
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


# ---------------------------------------------------------------------------- command


@app.command()
def main(
    limit: Annotated[
        int | None, typer.Option("--limit", help="Run only the first N tasks of the set.", min=1)
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category", help=f"Only these categories (repeatable): {', '.join(CATEGORIES)}."
        ),
    ] = None,
    judge: Annotated[
        list[str] | None,
        typer.Option(
            "--judge",
            help=f"Judge spec of the critic (default {DEFAULT_JUDGE}, the best measured on this task set; "
            "e.g. schema, gen:default, cascade:schema,gen:default). Repeat to compare judges.",
        ),
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the full report (every run) to this JSON file."),
    ] = None,
    policy: Annotated[
        str,
        typer.Option(
            "--policy",
            help=f"Policy model (default {DEFAULT_POLICY}): llamacpp:<model> (a local llama.cpp server: "
            "default, qwen1.5b, smollm2), default (the offline Qwen on transformers), smollm2, a dir, "
            "or openai:<model>@<url>.",
        ),
    ] = DEFAULT_POLICY,
    max_retries: Annotated[
        int, typer.Option("--max-retries", help="Critiques sent back to the model per task.", min=0)
    ] = 2,
    max_new_tokens: Annotated[
        int, typer.Option("--max-new-tokens", help="Token limit of each policy answer.", min=16)
    ] = 256,
    mode: Annotated[
        list[str] | None,
        typer.Option(
            "--mode",
            help="Critic arms (repeatable; default both): retry (a rejected call goes back with "
            "the critique) and best_of_n (the critic also samples N-1 more proposals and keeps "
            "the best-ranked one).",
        ),
    ] = None,
    n: Annotated[
        int, typer.Option("--n", help="best_of_n: candidates, the policy's own included.", min=2)
    ] = 3,
    temperature: Annotated[
        float,
        typer.Option("--temperature", help="best_of_n: sampling temperature.", min=0.01),
    ] = 0.7,
    retry_temperature: Annotated[
        float,
        typer.Option(
            "--retry-temperature",
            help="Temperature of the answers to a critique (0: greedy, which often repeats the rejected call).",
            min=0.0,
        ),
    ] = 0.7,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", help="Only the summary (no per-task tables, no progress bar)."),
    ] = False,
) -> None:
    """Run a LangGraph agent on fixed BFCL tasks without and with the ToolRM critic."""
    from eval.options import judge_from_option

    console = Console()
    if not console.is_terminal:  # piped into a file: wide enough for the summary table
        console = Console(width=max(console.width, 120))
    modes = list(dict.fromkeys(mode or list(DEFAULT_MODES)))
    if any(m not in ("retry", "best_of_n") for m in modes):
        raise typer.BadParameter("use retry or best_of_n", param_hint="--mode")
    started = time.perf_counter()
    try:
        tasks = demo_tasks(category, limit)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--category") from exc
    specs = list(dict.fromkeys(judge or [DEFAULT_JUDGE]))
    judges: dict[str, Any] = {}
    for spec in specs:
        judges[spec] = judge_from_option(spec)
    from toolrm_agent.errors import ToolRMError

    load_started = time.perf_counter()
    with console.status(f"loading the policy model {policy!r} (a first use builds it once) …"):
        try:
            model = load_policy(policy, max_new_tokens=max_new_tokens)
            if hasattr(model, "load"):
                model.load()
            sampler = retry_model = None
            if "best_of_n" in modes:  # a sampling copy of the policy (weights are shared)
                sampler = load_policy(policy, max_new_tokens=max_new_tokens, temperature=temperature, seed=0)
            if retry_temperature > 0:
                retry_model = load_policy(
                    policy, max_new_tokens=max_new_tokens, temperature=retry_temperature, seed=1
                )
        except ToolRMError as exc:  # missing wheels, a bad checksum, a server that fails
            console.print(f"[red]cannot load the policy model {escape(policy)!r}:[/] {escape(str(exc))}")
            raise typer.Exit(2) from exc
    console.print(f"[dim]policy ready in {time.perf_counter() - load_started:.1f} s[/]")
    arms = 1 + len(modes) * len(specs)
    console.print(
        f"[bold]toolrm demo[/]: {len(tasks)} BFCL tasks · policy [cyan]{escape(policy)}[/] (greedy) · "
        f"critic judge{'s' if len(specs) > 1 else ''} [cyan]{escape(', '.join(specs))}[/] · "
        f"{', '.join(f'best_of_n (n={n}, T={temperature})' if m == 'best_of_n' else 'retry' for m in modes)} · "
        f"max {max_retries} retries{f' (answered at T={retry_temperature})' if retry_model else ''}"
    )
    console.print(f"[dim]{expected_time(policy, len(tasks), arms)}[/]")
    report = run_demo(
        tasks,
        model,
        judges,
        policy_name=policy,
        max_retries=max_retries,
        modes=modes,
        n=n,
        sampler=sampler,
        retry_model=retry_model,
        console=console if not quiet else Console(quiet=True),
        progress=not quiet,
    )
    report["seconds"] = round(time.perf_counter() - started, 3)
    print_summary(console, report)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        console.print(f"wrote {json_out}")


if __name__ == "__main__":  # pragma: no cover
    app()
