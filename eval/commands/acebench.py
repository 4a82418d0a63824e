"""``toolrm eval acebench``: what a critic buys a live agent on ACEBench (not built on BFCL).

The policy runs as a LangGraph agent (the arm runner of :mod:`eval.tasks`, shared with
``toolrm eval selfcorrect`` and ``toolrm demo``) on ACEBench questions
(:mod:`eval.acebench`): without a critic (``baseline``) and with
:class:`~toolrm_agent.critic.node.ToolRMCritic` in each ``--arms`` mode and ``--judge``. Each run
is checked by our ACEBench checker (:mod:`eval.acebench.checker`).

Arms
    ``retry``      a rejected proposal goes back with the critique (``--max-retries``).
    ``best_of_n``  ``--n - 1`` more proposals sampled at ``--temperature``; the judge ranks.
    ``resample``   resample-on-reject, where the runtime's ``ToolRMCritic`` has that mode
                   (asked at start; a runtime without it says so).

Items: at most ``--limit`` questions per category, drawn with ``--seed`` (the same items for
every arm); ``--all`` runs every question. The ``agent_*`` categories need ACEBench's
simulated environment and are not run.

Report (``--out``, rewritten after every task, so a stopped run resumes from it): the arm
report (``arms``, ``comparisons`` with fixed/broken ids, ``runs``), ``per_category`` (exact
counts, accuracy and Wilson 95% interval per arm and category, and for the groups
``normal`` / ``special`` / ``all``), ``config`` and ``seconds``. ``--public-out`` writes the same
report without ACEBench's texts (:func:`eval.tasks.arms.without_texts`), to commit: a run on
another machine resumes from it (copy it to ``--out``). ``--pairs-out DIR`` writes
the failing answers as TRBench-style pairs (:mod:`eval.acebench.pairs`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from eval.options import DEFAULT_JUDGE, ServerSlotsOption, llamacpp_server_options

__all__ = ["ARM_MODES", "DEFAULT_POLICY", "command", "parse_arms"]

DEFAULT_POLICY = "llamacpp:default"
ARM_MODES: tuple[str, ...] = ("retry", "best_of_n", "resample")
"""Critic modes an arm may run (``resample`` only where the runtime has it)."""


def parse_arms(text: str) -> list[str]:
    """``retry,best_of_n`` → the critic modes to run (the baseline always runs)."""
    modes = [m.strip() for m in text.split(",") if m.strip() and m.strip() != "baseline"]
    unknown = [m for m in modes if m not in ARM_MODES]
    if unknown:
        raise typer.BadParameter(f"unknown arm {unknown[0]!r}; use {', '.join(ARM_MODES)}",
                                 param_hint="--arms")
    return list(dict.fromkeys(modes))


def _mode_available(mode: str) -> bool:
    """Does this runtime's ToolRMCritic take ``mode``? (``resample`` arrives with issue 18.)"""
    from toolrm_agent.core.errors import ToolRMError
    from toolrm_agent.critic.node import ToolRMCritic
    from toolrm_agent.judges.schema import SchemaJudge

    try:
        ToolRMCritic(SchemaJudge(), mode=mode)  # type: ignore[arg-type]
    except (ToolRMError, ValueError, TypeError):
        return False
    return True


def command(
    policy: Annotated[
        str,
        typer.Option("--policy", help=f"Policy model (default {DEFAULT_POLICY}): llamacpp:<model>, "
                     "default (transformers), a dir, or openai:<model>@<url>."),
    ] = DEFAULT_POLICY,
    judge: Annotated[
        list[str] | None,
        typer.Option("--judge", help=f"Judge spec of the critic (default {DEFAULT_JUDGE}); repeat to compare."),
    ] = None,
    arms: Annotated[
        str,
        typer.Option("--arms", help="Critic arms, comma-separated: retry, best_of_n, resample "
                     "(the no-critic baseline always runs)."),
    ] = "retry,best_of_n",
    category: Annotated[
        list[str] | None,
        typer.Option("--category", help="ACEBench category (repeatable; default: every normal and special one)."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="Questions per category (a seeded draw, the same for every arm).", min=1)
    ] = 20,
    all_items: Annotated[
        bool, typer.Option("--all", help="Every question of each category (overrides --limit).")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the item draw.")] = 0,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="ACEBench data folder (default: $TOOLRM_ACEBENCH or ../shared/data/acebench)."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Report JSON file.")] = Path("acebench.json"),
    public_out: Annotated[
        Path | None,
        typer.Option("--public-out", help="Also write the report without ACEBench's texts (requests, answers, "
                     "checker messages), fit to commit; a later run resumes from it as --out."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", help="Go on from the runs already in --out.")
    ] = True,
    pairs_out: Annotated[
        Path | None,
        typer.Option("--pairs-out", help="Write the policy's failing answers as preference pairs into this dir."),
    ] = None,
    max_retries: Annotated[
        int, typer.Option("--max-retries", help="Critiques sent back per question.", min=0)
    ] = 2,
    n: Annotated[int, typer.Option("--n", help="best_of_n: candidates, the policy's own included.", min=2)] = 4,
    temperature: Annotated[
        float, typer.Option("--temperature", help="best_of_n: sampling temperature.", min=0.01)
    ] = 0.7,
    retry_temperature: Annotated[
        float, typer.Option("--retry-temperature", help="Temperature of the answers to a critique (0: greedy).",
                            min=0.0)
    ] = 0.7,
    max_new_tokens: Annotated[
        int, typer.Option("--max-new-tokens", help="Token limit of each policy answer.", min=16)
    ] = 256,
    slot_ctx: Annotated[
        int,
        typer.Option("--slot-ctx", help="llamacpp: policies: context tokens per server slot (ACEBench's "
                     "prompts with their function schemas run past 2,000 tokens).", min=1024),
    ] = 6144,
    server_slots: ServerSlotsOption = 4,
    lenient_special: Annotated[
        bool,
        typer.Option("--lenient-special", help="Special categories: pass a refusal in any words "
                     "(default: ACEBench's answer formats, the reference's rule)."),
    ] = False,
) -> None:
    """ACEBench: the policy as a LangGraph agent, without a critic and with ToolRMCritic per arm."""
    from rich.console import Console

    from eval.acebench.data import CATEGORIES
    from eval.acebench.report import acebench_report, resume_runs, write_report
    from eval.acebench.tasks import load_ace_tasks
    from eval.options import judge_from_option
    from eval.tasks.arms import critic_arms, run_arms_live, without_texts
    from eval.tasks.runner import TaskRun, load_policy
    from toolrm_agent.core.errors import ConfigurationError, ToolRMError

    modes = parse_arms(arms)
    for mode in modes:
        if not _mode_available(mode):
            raise typer.BadParameter(
                f"this runtime's ToolRMCritic has no {mode!r} mode", param_hint="--arms"
            )
    categories = list(dict.fromkeys(category or CATEGORIES))
    bad = [c for c in categories if c not in CATEGORIES]
    if bad:
        raise typer.BadParameter(
            f"{bad[0]!r} is not run here; use one of {', '.join(CATEGORIES)}", param_hint="--category"
        )
    specs = list(dict.fromkeys(judge or [DEFAULT_JUDGE]))
    judges = {spec: judge_from_option(spec) for spec in specs}
    try:
        tasks = load_ace_tasks(categories, data_dir=data, limit=None if all_items else limit, seed=seed,
                               phrases=not lenient_special)
    except ConfigurationError as exc:
        raise typer.BadParameter(str(exc), param_hint="--data") from exc
    config: dict[str, Any] = {
        "policy": policy, "judges": specs, "modes": modes, "categories": categories,
        "limit": None if all_items else limit, "seed": seed, "max_retries": max_retries, "n": n,
        "temperature": temperature, "retry_temperature": retry_temperature,
        "max_new_tokens": max_new_tokens, "special_check": "lenient" if lenient_special else "reference",
        "data": str(data) if data else None, "slot_ctx": slot_ctx if policy.startswith("llamacpp:") else None,
    }
    console = Console(stderr=True)
    started = time.perf_counter()
    # one server, --server-slots slots, for the policy and its samplers
    server = llamacpp_server_options(policy, server_slots, slot_ctx)
    try:
        model = load_policy(policy, max_new_tokens=max_new_tokens, **server)
        sampler = retry_model = None
        if "best_of_n" in modes:
            sampler = load_policy(policy, max_new_tokens=max_new_tokens, temperature=temperature, seed=0,
                                  **server)
        if retry_temperature > 0:
            retry_model = load_policy(policy, max_new_tokens=max_new_tokens, temperature=retry_temperature,
                                      seed=1, **server)
    except ToolRMError as exc:
        console.print(f"cannot load the policy model {policy!r}: {exc}")
        raise typer.Exit(2) from exc
    arm_list, info = critic_arms(model, judges, modes=modes, max_retries=max_retries, n=n,
                                 sampler=sampler, retry_model=retry_model)
    names = list(info)
    try:
        runs, todo = resume_runs(out, config, tasks, names) if resume else ([], list(tasks))
    except ConfigurationError as exc:
        raise typer.BadParameter(str(exc), param_hint="--out") from exc
    if runs:
        console.print(f"resuming {out}: {len(tasks) - len(todo)} of {len(tasks)} questions already run")
    earlier = sum(r.seconds for r in runs)

    def report() -> dict[str, Any]:
        return acebench_report(tasks, runs, info, config=config,
                               seconds=earlier + time.perf_counter() - started)

    def on_run(task: Any, run: TaskRun) -> None:
        runs.append(run)
        if run.arm == names[-1]:  # a task's last arm: save
            save(report())

    def save(current: dict[str, Any]) -> None:
        write_report(out, current)
        if public_out is not None:
            write_report(public_out, without_texts(current))

    run_arms_live(todo, arm_list, max_retries=max_retries, console=console, on_run=on_run,
                  label="acebench", transient=False)
    final = report()
    save(final)
    print_summary(console, final)
    if pairs_out is not None:
        from eval.acebench.pairs import acebench_pairs
        from eval.pairs import export_pairs

        pairs = acebench_pairs(tasks, runs, policy=policy)
        path = export_pairs(pairs, pairs_out, name="acebench_pairs")
        console.print(f"wrote {len(pairs)} pairs to {path}")
    console.print(f"wrote {out}")


def print_summary(console: Any, report: dict[str, Any]) -> None:
    """Accuracy per arm and category: ``correct/n`` and the Wilson 95% interval."""
    from rich import box
    from rich.table import Table

    table = Table(title=f"ACEBench · {report['policy']}", box=box.SIMPLE_HEAD,
                  caption="correct/n (95% Wilson interval)")
    arms = list(report["per_category"])
    table.add_column("category")
    for arm in arms:
        table.add_column(arm, justify="right")
    rows = list(report["categories"]) + ["normal", "special", "all"]
    for row in rows:
        cells = []
        for arm in arms:
            cell = report["per_category"][arm].get(row)
            cells.append("-" if not cell else
                         f"{cell['correct']}/{cell['n']} ({cell['ci95'][0]:.0%}–{cell['ci95'][1]:.0%})")
        if any(c != "-" for c in cells):
            table.add_row(row, *cells)
    console.print(table)
    for arm in report["arms"]:
        s = arm["summary"]
        console.print(
            f"{arm['name']}: policy {s['policy_calls']} calls, "
            f"{s['policy_tokens']['prompt']}+{s['policy_tokens']['completion']} tokens; "
            f"critic {s['critic_calls']} calls; {s['seconds']:.1f} s"
        )
    console.print(f"{report['seconds']:.1f} s in all")
