"""``toolrm demo``: a real agent corrected by a real critic on BFCL tasks, offline.

The agent is a LangGraph ReAct graph (:func:`toolrm_agent.critic.node.build_agent_graph`:
model node → :class:`~toolrm_agent.critic.node.ToolRMCritic` → ``ToolNode``) whose policy is
the offline Qwen2.5-Coder-0.5B-Instruct served by llama.cpp (:data:`DEFAULT_POLICY`,
greedy). Its tools are stubs that record each call and answer with a short JSON ack
(:mod:`eval.tasks.runner`). Every task runs once per arm: without a critic, with the
critic in ``retry`` mode (answers to a critique sampled at ``--retry-temperature``), in
``resample`` mode (only a rejected proposal gets ``--n - 1`` more samples) and in
``best_of_n`` mode (``--n - 1`` more proposals sampled at ``--temperature``, the best-ranked
kept). The demo prints, per task, the proposal, the critique, the revision, the executed
calls and BFCL's verdict on them, then a summary table (accuracy with its Wilson 95%
interval, policy and critic calls, tokens, retries and how many changed the call, seconds).

The demo is a preset of the arm runner that ``toolrm eval selfcorrect`` uses
(:mod:`eval.tasks.arms`: the same arms, runner and report builder); what is its own is the
fixed task set, the default arms and policy, and the printout. The task set
(:data:`DEMO_TASKS`) is fixed; see :data:`SELECTION_RULE` for how it was chosen. Several
``--judge`` options compare judges on the same tasks. ``--out`` writes the JSON report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from eval.options import DEFAULT_JUDGE as DEFAULT_CRITIC
from eval.options import (
    AcceptOption,
    OnAskTimeoutOption,
    OnUncertainOption,
    ToolBandOption,
    UncertainOption,
    bands_from_options,
    bands_summary,
)
from eval.tasks.arms import SAMPLING_MODES, arms_report, critic_arms, draws_samples, run_arms_live
from eval.tasks.runner import AgentTask, TaskRun, load_policy, load_tasks

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
    category: tuple(f"{category}_{i}" for i in range(3))
    for category in ("simple_python", "multiple", "parallel", "parallel_multiple")
}
"""The fixed task set, by BFCL v4 category, in BFCL order (see :data:`SELECTION_RULE`)."""

SELECTION_RULE = (
    "The first three ids (0-2) of each of BFCL v4's four single-turn call categories "
    "(simple_python, multiple, parallel, parallel_multiple), in BFCL order: 12 tasks (four arms "
    "fit the five-minute budget; 20 tasks did until the resample arm came), fixed "
    "before any run and not chosen by any model's outcome."
)
"""How :data:`DEMO_TASKS` was chosen (also written into the JSON report)."""

CATEGORIES: tuple[str, ...] = tuple(DEMO_TASKS)

DEFAULT_JUDGE = DEFAULT_CRITIC
"""The demo's judge unless told otherwise: the shipped trained critic (see
:data:`eval.options.DEFAULT_JUDGE` for what it measured against ``schema``)."""

DEFAULT_POLICY = "llamacpp:default"
"""The offline Qwen2.5-Coder-0.5B served by llama.cpp (see :data:`SECONDS_PER_RUN`)."""

DEFAULT_MODES: tuple[str, ...] = ("retry", "resample", "best_of_n")
MODES: tuple[str, ...] = ("retry", "resample", "best_of_n")

SECONDS_PER_RUN: dict[str, float] = {"llamacpp:default": 3.6, "llamacpp:qwen1.5b": 12.4}
"""Measured seconds per (task, arm) run on this 2-core machine, by policy spec, for the
up-front estimate: ``llamacpp:default``: 172.9 s wall for the 12 tasks × 4 arms of
``toolrm demo --out out/s3/demo-12.json`` (quiet machine, model loading included);
``llamacpp:qwen1.5b``: 162.0 + 102.0 + 480.8 s for 20 tasks × 3 arms with n=4, on a busier
machine, an earlier session."""


def expected_time(policy: str, tasks: int, arms: int) -> str:
    """What the run will take, from :data:`SECONDS_PER_RUN` (a line for the user)."""
    per_run = SECONDS_PER_RUN.get(policy)
    if per_run is None:
        return f"{tasks} tasks × {arms} arms; no timing measured for policy {policy!r}"
    minutes = per_run * tasks * arms / 60
    return (f"{tasks} tasks × {arms} arms: about {minutes:.0f} min on 2 cores, model loading aside "
            f"(measured {per_run:.1f} s per task and arm; slower on a busy machine)")


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


# ---------------------------------------------------------------------------- printing

_STEP_STYLE = {
    "proposal": "cyan",
    "critique": "yellow",
    "accepted": "green",
    "best_of_n": "magenta",
    "ask": "blue",
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
            step: str = event.kind
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
        f"{m} n={report.get('candidates')}" if m in SAMPLING_MODES else m for m in report.get("modes", [])
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
    bands: Any = None,
) -> dict[str, Any]:
    """Run ``tasks`` without a critic and with a critic per (mode, judge); the report.

    The demo's preset of the arm runner (:mod:`eval.tasks.arms`, as ``toolrm eval
    selfcorrect`` uses it): :func:`~eval.tasks.arms.critic_arms` over ``judges`` (judge
    spec → built judge) and ``modes``, run by :func:`~eval.tasks.arms.run_arms_live` with
    each task's printout (:func:`print_task`) once all its arms ran, reported by
    :func:`build_report`. ``bands`` (a :class:`~toolrm_agent.DecisionBands`, or ``None``)
    go to every critic arm.
    """
    console = console or Console(stderr=True)
    arms, arm_info = critic_arms(
        policy, judges, modes=modes, max_retries=max_retries, n=n, sampler=sampler,
        retry_model=retry_model, bands=bands,
    )
    started = time.perf_counter()
    by_task: dict[str, list[TaskRun]] = {}

    def done(task: AgentTask, run: TaskRun) -> None:
        by_task.setdefault(task.id, []).append(run)
        if len(by_task[task.id]) == len(arms):
            print_task(console, task, by_task[task.id])
        if on_run is not None:
            on_run(task, run)

    runs = run_arms_live(tasks, arms, max_retries=max_retries, console=console, on_run=done,
                         progress=progress, label="demo")
    seconds = time.perf_counter() - started
    return build_report(
        tasks,
        runs,
        arm_info,
        policy_name=policy_name,
        max_retries=max_retries,
        n=n if any(draws_samples(m, bands) for m in modes) else None,
        retry_sampled=retry_model is not None,
        seconds=seconds,
        bands=bands,
    )


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
    bands: Any = None,
) -> dict[str, Any]:
    """The demo's JSON report: :func:`eval.tasks.arms.arms_report` with the selection rule
    and the critic's decision bands (``null`` without)."""
    return arms_report(
        tasks,
        runs,
        arm_info,
        policy=policy_name,
        max_retries=max_retries,
        seconds=seconds,
        decoding="greedy proposals; best-of-N candidates and retries sampled"
        if retry_sampled else "greedy proposals; best-of-N candidates sampled",
        candidates=n,
        extra={"selection_rule": SELECTION_RULE, "bands": bands_summary(bands)},
    )


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
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the full report (every run) to this JSON file (--json, its old name, still works).",
        ),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", hidden=True, help="Deprecated: use --out.")
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
            help="Critic arms (repeatable; default all three): retry (a rejected call goes back with "
            "the critique), resample (only a rejected proposal gets N-1 more samples, the best "
            "kept, then retry) and best_of_n (the critic always samples N-1 more proposals and "
            "keeps the best-ranked one).",
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
    accept: AcceptOption = None,
    uncertain: UncertainOption = None,
    tool_band: ToolBandOption = None,
    on_uncertain: OnUncertainOption = None,
    on_ask_timeout: OnAskTimeoutOption = None,
) -> None:
    """Run a LangGraph agent on fixed BFCL tasks without and with the ToolRM critic."""
    from eval.options import judge_from_option

    console = Console()
    if not console.is_terminal:  # piped into a file: wide enough for the summary table
        console = Console(width=max(console.width, 120))
    modes = list(dict.fromkeys(mode or list(DEFAULT_MODES)))
    if any(m not in MODES for m in modes):
        raise typer.BadParameter(f"use {', '.join(MODES)}", param_hint="--mode")
    bands = bands_from_options(accept, uncertain, tool_band, on_uncertain, on_ask_timeout)
    started = time.perf_counter()
    try:
        tasks = demo_tasks(category, limit)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--category") from exc
    specs = list(dict.fromkeys(judge or [DEFAULT_JUDGE]))
    judges: dict[str, Any] = {}
    for spec in specs:
        judges[spec] = judge_from_option(spec)
    from toolrm_agent.core.errors import ToolRMError

    load_started = time.perf_counter()
    with console.status(f"loading the policy model {policy!r} (a first use builds it once) …"):
        try:
            model = load_policy(policy, max_new_tokens=max_new_tokens)
            if hasattr(model, "load"):
                model.load()
            sampler = retry_model = None
            if any(draws_samples(m, bands) for m in modes):  # a sampling copy of the policy (weights are shared)
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
        f"{', '.join(f'{m} (n={n}, T={temperature})' if m in SAMPLING_MODES else m for m in modes)} · "
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
        bands=bands,
    )
    report["seconds"] = round(time.perf_counter() - started, 3)
    print_summary(console, report)
    out = out or json_out
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        console.print(f"wrote {out}")


if __name__ == "__main__":  # pragma: no cover
    app()
