"""``toolrm eval selfcorrect``: what a critic buys a live agent on BFCL.

The policy model runs as a LangGraph agent (:func:`toolrm_agent.critic.node.build_agent_graph`)
on BFCL questions twice: without a critic (the baseline) and with
:class:`~toolrm_agent.critic.node.ToolRMCritic` between the model and its tools. The executed
calls of each run are checked with BFCL's AST checker. The arms, their runner and the
report come from :mod:`eval.tasks.arms`, which ``toolrm demo`` runs too.

Modes
    ``retry``      a rejected proposal goes back to the model with the critique, at most
                   ``--max-retries`` times per question; then the last proposal runs.
    ``best_of_n``  before judging, ``--n - 1`` more proposals are sampled from the same
                   policy model at ``--temperature`` (one ``generate`` call with
                   ``num_return_sequences``) and the judge ranks all ``n``; the winner
                   replaces the proposal (and takes the retry path if rejected). The
                   policy's own proposal stays greedy, so the baseline is the same.
    ``resample``   the proposal is judged first; only when it is rejected are ``--n - 1``
                   more proposals sampled (as in best_of_n) and the best kept; when none
                   is accepted, as retry. Accepted proposals cost no extra policy call.

Decision bands (``--accept``, ``--uncertain``, ``--tool-band NAME=ACCEPT,UNCERTAIN``,
``--on-uncertain retry|resample|ask``, ``--on-ask-timeout approve|reject``)
    give the critic :class:`~toolrm_agent.DecisionBands`: the score decides, not the judge's
    own ``accepted``. Without them the judge's verdict decides, as before. ``ask`` runs
    unattended: each escalation is answered as a timeout (``--on-ask-timeout``, default
    reject). The report's ``bands`` key holds them (``null`` without).

Report (``--out``)
    ``baseline_acc``, ``critic_acc``, ``lift`` (critic − baseline, fractions), ``n``
    (questions), ``fixed`` / ``broken`` (ids whose verdict the critic flipped),
    ``policy_calls`` and ``policy_tokens`` per arm (best-of-N samples count as policy
    calls of the critic arm), ``critic_calls``, ``critic_tokens``, ``retries``,
    ``seconds`` (total) and ``arm_seconds``, the two arms' full summaries, one record
    per question, and every run (events, executed calls, checker verdict); then the
    arm report both commands write (``arms``, ``comparisons``, ``tasks``, ``machine``).
    ``--server-slots`` sets the llama.cpp server's slots for ``llamacpp:`` policies (1: in one check,
    seeded samples repeated; they share the prompt's cached prefix on a CPU).
    ``--pairs-out DIR`` also writes the policy's failing answers against the ground truth as
    TRBench pairs (:func:`write_policy_pairs`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from eval.options import (
    DEFAULT_JUDGE,
    AcceptOption,
    OnAskTimeoutOption,
    OnUncertainOption,
    ServerSlotsOption,
    ToolBandOption,
    UncertainOption,
    bands_from_options,
    bands_summary,
    llamacpp_server_options,
)
from eval.tasks.arms import BASELINE, arms_report, critic_arms, draws_samples, run_arms_live
from eval.tasks.runner import AgentTask, Arm, TaskRun, load_policy, load_tasks
from toolrm_agent import CriticOptions, ToolRMError

if TYPE_CHECKING:
    from toolrm_agent.critic.node import Mode

__all__ = [
    "BASELINE", "CRITIC", "build_arms", "command", "question_records", "selfcorrect_report", "write_policy_pairs",
]

CRITIC = "critic"
SLOT_CTX = 2048
"""Context tokens per llama.cpp server slot: BFCL's single-turn prompts fit (the server's
default, 8,192 tokens over 4 slots)."""


def build_arms(
    policy: Any,
    judge: Any,
    *,
    mode: Mode = "retry",
    max_retries: int = 2,
    n: int = 4,
    sampler: Any = None,
    bands: Any = None,
    consensus: float | None = None,
) -> list[Arm]:
    """The baseline arm and the critic arm over one policy model (one shared meter):
    :func:`eval.tasks.arms.critic_arms` with one judge, one mode and ``bands``
    (a :class:`~toolrm_agent.DecisionBands`, or ``None``)."""
    arms, _ = critic_arms(
        policy, {"judge": judge}, modes=[mode], max_retries=max_retries, n=n, sampler=sampler,
        name=lambda _mode, _spec: CRITIC, bands=bands, consensus=consensus,
    )
    return arms


def question_records(runs: Sequence[TaskRun]) -> list[dict[str, Any]]:
    """One row per question: both arms' verdicts side by side."""
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        row = rows.setdefault(run.id, {"id": run.id, "category": run.category})
        prefix = "baseline" if run.arm == BASELINE else "critic"
        row[f"{prefix}_valid"] = run.valid
        row[f"{prefix}_error_type"] = run.error_type
        row[f"{prefix}_executed"] = run.executed
        row[f"{prefix}_stop"] = run.stop
        if run.arm == CRITIC:
            row["retries"] = run.retries
            row["critiques"] = run.critiques
    return list(rows.values())


def selfcorrect_report(
    runs: Sequence[TaskRun],
    *,
    policy: str,
    judge: str,
    category: str,
    mode: Mode,
    max_retries: int,
    n_candidates: int | None = None,
    temperature: float | None = None,
    seconds: float,
    tasks: Sequence[AgentTask] | None = None,
    bands: Any = None,
) -> dict[str, Any]:
    """The JSON report of a self-correction run (keys in the module docstring): the
    flat baseline-vs-critic view, then the arm report of :func:`eval.tasks.arms.arms_report`
    (``arms``, ``comparisons``, ``tasks``, ``machine``; the keys both share are written once)."""
    samples = draws_samples(mode, bands)
    common = arms_report(
        tasks,
        runs,
        {BASELINE: (None, None), CRITIC: (mode, judge)},
        policy=policy,
        max_retries=max_retries,
        seconds=seconds,
        decoding="greedy policy; best-of-N samples at the given temperature",
        candidates=n_candidates if samples else None,
        extra={"bands": bands_summary(bands)},
    )
    lift = common["comparisons"][CRITIC]
    base, crit = lift["baseline"], lift["critic"]
    flat = {
        "policy": policy,
        "judge": judge,
        "category": category,
        "mode": mode,
        "max_retries": max_retries,
        "candidates": common["candidates"],
        "temperature": temperature if samples else None,
        "bands": common["bands"],
        "decoding": common["decoding"],
        "n": lift["n"],
        "baseline_acc": lift["baseline_acc"],
        "critic_acc": lift["critic_acc"],
        "lift": lift["lift"],
        "fixed": lift["fixed"],
        "broken": lift["broken"],
        "policy_calls": {BASELINE: base["policy_calls"], CRITIC: crit["policy_calls"]},
        "policy_tokens": {BASELINE: base["policy_tokens"], CRITIC: crit["policy_tokens"]},
        "critic_calls": crit["critic_calls"],
        "critic_tokens": crit["critic_tokens"],
        "retries": crit["retries"],
        "seconds": common["seconds"],
        "arm_seconds": {BASELINE: base["seconds"], CRITIC: crit["seconds"]},
        "system_prompt": common["system_prompt"],
        "baseline": base,
        "critic": crit,
        "questions": question_records(runs),
    }
    return {**flat, **{k: v for k, v in common.items() if k not in flat}}


def run_selfcorrect(
    tasks: Sequence[AgentTask],
    arms: Sequence[Arm],
    *,
    max_retries: int,
    on_run: Callable[[AgentTask, TaskRun], None] | None = None,
    console: Any = None,
    progress: bool = False,
    label: str = "selfcorrect",
) -> list[TaskRun]:
    """Both arms on every task (the shared runner, :func:`eval.tasks.arms.run_arms_live`)."""
    return run_arms_live(tasks, arms, max_retries=max_retries, console=console, on_run=on_run,
                         progress=progress, label=label, transient=False)


def command(
    policy: Annotated[
        str,
        typer.Option(
            "--policy",
            help="Policy model: default (offline Qwen), smollm2, a dir, or openai:<model>@<url>.",
        ),
    ] = "default",
    judge: Annotated[
        str,
        typer.Option(
            "--judge",
            help=f"Judge spec (default {DEFAULT_JUDGE}): schema, disc:default, gen:default, "
            "cascade:schema,gen:default, openai:<m>@<url>, disc:<dir>.",
        ),
    ] = DEFAULT_JUDGE,
    category: Annotated[
        str, typer.Option("--category", help="BFCL v4 single-turn category.")
    ] = "simple_python",
    limit: Annotated[
        int | None, typer.Option("--limit", help="The first N questions of the category.", min=1)
    ] = None,
    max_retries: Annotated[
        int, typer.Option("--max-retries", help="Critiques sent back per question.", min=0)
    ] = 2,
    out: Annotated[Path, typer.Option("--out", help="Report JSON file.")] = Path(
        "selfcorrect.json"
    ),
    mode: Annotated[str, typer.Option("--mode", help="retry, resample or best_of_n.")] = "retry",
    n: Annotated[
        int,
        typer.Option(
            "--n", help="best_of_n / resample: candidates per proposal (the policy's own included).", min=2
        ),
    ] = 4,
    temperature: Annotated[
        float,
        typer.Option(
            "--temperature",
            help="best_of_n / resample: sampling temperature of the extra candidates.",
            min=0.0,
        ),
    ] = 0.7,
    seed: Annotated[int | None, typer.Option("--seed", help="best_of_n / resample: seed of the sampler.")] = 0,
    consensus: Annotated[
        float | None,
        typer.Option("--consensus", help="best_of_n / resample: weight of the samples' agreement in the pick "
                     "(default: the critic's, 0: the judge alone; 0.3 was chosen on recorded answers).", min=0.0),
    ] = None,
    max_new_tokens: Annotated[
        int, typer.Option("--max-new-tokens", help="Token limit of each policy answer.", min=16)
    ] = 256,
    pairs_out: Annotated[
        Path | None,
        typer.Option("--pairs-out", help="Write the policy's failing answers vs the ground truth as "
                     "TRBench pairs into this dir."),
    ] = None,
    accept: AcceptOption = None,
    uncertain: UncertainOption = None,
    tool_band: ToolBandOption = None,
    on_uncertain: OnUncertainOption = None,
    on_ask_timeout: OnAskTimeoutOption = None,
    server_slots: ServerSlotsOption = 4,
) -> None:
    """Live self-correction: the policy as a LangGraph agent without and with ToolRMCritic."""
    from rich.console import Console

    from eval.bfcl.questions import AST_CATEGORIES, IRRELEVANCE_CATEGORIES
    from eval.options import judge_from_option

    if mode not in ("retry", "resample", "best_of_n"):
        raise typer.BadParameter("use retry, resample or best_of_n", param_hint="--mode")
    if category not in AST_CATEGORIES | IRRELEVANCE_CATEGORIES:
        raise typer.BadParameter(
            f"{category!r} is not a single-turn BFCL category "
            f"({', '.join(sorted(AST_CATEGORIES | IRRELEVANCE_CATEGORIES))})",
            param_hint="--category",
        )
    bands = bands_from_options(accept, uncertain, tool_band, on_uncertain, on_ask_timeout)
    samples = draws_samples(mode, bands)
    if samples and temperature <= 0:
        raise typer.BadParameter(
            f"{mode if mode != 'retry' else '--on-uncertain resample'} needs a sampling temperature > 0",
            param_hint="--temperature",
        )
    the_judge = judge_from_option(judge)
    tasks = load_tasks(category, limit=limit)
    if not tasks:
        raise typer.BadParameter(f"no questions in {category!r}", param_hint="--category")

    console = Console(stderr=True)
    started = time.perf_counter()
    server = llamacpp_server_options(policy, server_slots, SLOT_CTX)  # one server for the policy and its sampler
    try:
        model = load_policy(policy, max_new_tokens=max_new_tokens, **server)
        sampler = None
        if samples:
            sampler = load_policy(policy, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed,
                                  **server)
    except ToolRMError as exc:
        console.print(f"cannot load the policy model {policy!r}: {exc}")
        raise typer.Exit(2) from exc
    arms = build_arms(model, the_judge, mode=mode, max_retries=max_retries, n=n, sampler=sampler,  # type: ignore[arg-type]
                      bands=bands, consensus=consensus)

    runs = run_selfcorrect(tasks, arms, max_retries=max_retries, console=console, progress=True,
                           label=f"selfcorrect {category}")
    report = selfcorrect_report(
        runs,
        policy=policy,
        judge=judge,
        category=category,
        mode=mode,  # type: ignore[arg-type]
        max_retries=max_retries,
        n_candidates=n,
        temperature=temperature,
        seconds=time.perf_counter() - started,
        tasks=tasks,
        bands=bands,
    )
    report["consensus"] = (consensus if consensus is not None else CriticOptions().consensus) if samples else None
    report["server_slots"] = server_slots if server else None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_summary(console, report)
    typer.echo(f"wrote {out}", err=True)
    if pairs_out is not None:
        path, count = write_policy_pairs(tasks, runs, policy=policy, out_dir=pairs_out)
        typer.echo(f"wrote {count} pairs to {path}", err=True)


def write_policy_pairs(
    tasks: Sequence[AgentTask], runs: Sequence[TaskRun], *, policy: str, out_dir: Path
) -> tuple[Path, int]:
    """The failing answers of every arm as TRBench pairs (:func:`eval.tasks.pairs.pairs_from_runs`:
    BFCL's ground truth, or no call for irrelevance, against each distinct failing answer)."""
    from eval.bfcl.questions import IRRELEVANCE_CATEGORIES
    from eval.pairs import chosen_proposal, export_pairs
    from eval.tasks.pairs import pairs_from_runs

    pairs = pairs_from_runs(
        tasks, runs, policy=policy,
        chosen=lambda task: chosen_proposal(task.question, task.answer),
        no_call=lambda task: task.category in IRRELEVANCE_CATEGORIES,
    )
    return export_pairs(pairs, out_dir, name="selfcorrect_pairs"), len(pairs)


def print_summary(console: Any, report: dict[str, Any]) -> None:
    """A one-table summary of a self-correction report."""
    from rich import box
    from rich.table import Table

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.1%}"

    def tokens(t: dict[str, int]) -> str:
        return f"{t['prompt']}+{t['completion']}"

    title = (
        f"self-correction · {report['policy']} · {report['judge']} ({report['mode']}) · "
        f"{report['category']} n={report['n']}"
    )
    table = Table(title=title, box=box.SIMPLE_HEAD, caption="tokens: prompt+completion")
    for col in (
        "arm",
        "accuracy",
        "policy\ncalls",
        "policy\ntokens",
        "critic\ncalls",
        "critic\ntokens",
        "seconds",
    ):
        table.add_column(col, justify="left" if col == "arm" else "right", no_wrap=True)
    for arm in (BASELINE, CRITIC):
        s = report[arm]
        critic_arm = arm == CRITIC
        table.add_row(
            arm,
            pct(s["accuracy"]),
            str(s["policy_calls"]),
            tokens(s["policy_tokens"]),
            str(s["critic_calls"]) if critic_arm else "-",
            tokens(s["critic_tokens"]) if critic_arm else "-",
            f"{s['seconds']:.1f}",
        )
    console.print(table)
    lift = report["lift"]
    console.print(
        f"lift {'-' if lift is None else f'{lift * 100:+.1f} points'}; "
        f"fixed {len(report['fixed'])}, broken {len(report['broken'])}; "
        f"{report['retries']} critiques sent back; {report['seconds']:.1f} s in all"
    )
