"""``toolrm eval record``: a policy answers BFCL questions, and its answers become a results file.

The file is one model of a results directory (layout (a) of :mod:`eval.bfcl.results`): one JSON
line per question, ``{"id", "result", "latency", "input_token_count", "output_token_count"}``,
where ``result`` is the answer as a function-calling API records it (``[{name: arguments as
JSON}]``, BFCL's names) or, when the policy called nothing, its text. So ``toolrm eval trbench
--results DIR`` reads the policy's mistakes as it reads any recorded model's: the pairs are BFCL's
ground truth against each answer the checker rejects.

Why: the recorded models of ``shared/data/bfcl-results`` answered the non-live questions only,
so a dev set drawn from them has no live request in it. Answers of the offline policies to the
live questions give a dev set with live-style mistakes (long tool lists, real users' phrasing)
from models that are in no test set. These are BFCL questions: read them, never train on them.

Each question is one agent step (the messages and stub tools of ``toolrm eval selfcorrect``,
greedy by default). ``--limit`` questions per category are drawn by ``--seed`` from BFCL's ids,
less those answered (or listed as failed) in the ``--exclude`` results files: a second dev draw
holds no question of the first.
The run resumes: questions already in ``--out`` are skipped, and each answer is appended and
flushed as soon as it is made. A question whose step raises (a prompt longer than the server's
context, a backend that fails) gets no answer: its id and the error go to ``<out>.errors`` (JSON
lines), the run goes on, and a resumed run skips it too (delete that file to try those again).
A ``llamacpp:`` policy's server gets ``--server-slots`` slots of ``--slot-ctx`` tokens each: live
prompts with many tools run past 2,048 tokens.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from eval.options import ServerSlotsOption, llamacpp_server_options
from eval.tasks.runner import AgentTask, agent_step
from toolrm_agent.core.calls import Proposal

LIVE_CATEGORIES = (
    "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple", "live_irrelevance",
)


def recorded_result(proposal: Proposal) -> Any:
    """The answer as a function-calling API records it: ``[{name: JSON arguments}]``, a call that
    could not be parsed as its raw text in place of the arguments, or the text when nothing was
    called."""
    if proposal.is_empty:
        return proposal.content
    calls: list[dict[str, str]] = [
        {c.name: json.dumps(c.arguments, ensure_ascii=False, default=str)} for c in proposal.calls
    ]
    calls += [{f.name or "": f.raw} for f in proposal.failures]
    return calls


def answer(model: Any, task: AgentTask) -> tuple[Any, dict[str, Any]]:
    """One agent step of ``model`` on ``task``: (the recorded result, its usage and latency)."""
    from toolrm_agent.core.parsing import proposal_from_message

    start = time.perf_counter()
    message, toolbox = agent_step(model, task)
    latency = time.perf_counter() - start
    proposal = toolbox.to_original_proposal(proposal_from_message(message))
    usage = getattr(message, "usage_metadata", None) or {}
    return recorded_result(proposal), {
        "latency": round(latency, 3),
        "input_token_count": usage.get("input_tokens"),
        "output_token_count": usage.get("output_tokens"),
    }


def errors_path(out: Path) -> Path:
    """Where the questions that could not be answered are listed (not a results file: the
    results loader reads ``*.jsonl`` only)."""
    return out.with_name(out.name + ".errors")


def _ids(path: Path) -> set[str]:
    if not path.exists():
        return set()
    done: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            done.add(record["id"])
    return done


def recorded_ids(out: Path) -> set[str]:
    """Ids already answered in ``out`` or listed in its errors file (none when neither exists); a
    torn last line (a run killed mid-write) is ignored, and its question is answered again."""
    return _ids(out) | _ids(errors_path(out))


def _open_append(path: Path) -> Any:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
        with path.open("a", encoding="utf-8") as fh:  # close a torn last line
            fh.write("\n")
    return path.open("a", encoding="utf-8")


def _append(path: Path, record: dict[str, Any]) -> None:
    """One JSON line appended to ``path`` (a torn last line closed first), flushed at once."""
    with _open_append(path) as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def record(model: Any, tasks: Iterable[AgentTask], out: Path, *, progress: Any = None) -> tuple[int, int]:
    """Answer each task not yet in ``out`` and append its line: (answered now, failed now). A step
    that raises is listed in :func:`errors_path` with its error, and the run goes on."""
    done = recorded_ids(out)
    answered = failed = 0
    for task in tasks:
        if task.id not in done:
            try:
                result, meta = answer(model, task)
            except Exception as exc:  # noqa: BLE001 - one question the policy cannot answer must not end the run
                _append(errors_path(out), {"id": task.id, "error": f"{type(exc).__name__}: {exc}"[:2000]})
                failed += 1
            else:
                _append(out, {"id": task.id, "result": result, **meta})
                answered += 1
        if progress is not None:
            progress()
    return answered, failed


def command(
    policy: Annotated[str, typer.Option("--policy", help="The policy that answers: llamacpp:default, ...")],
    out: Annotated[Path, typer.Option("--out", help="The results file (JSON lines) to write or resume.")],
    categories: Annotated[
        list[str] | None,
        typer.Option("--category", help=f"BFCL v4 category (repeatable; default: {', '.join(LIVE_CATEGORIES)})."),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Questions per category (default: all).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the question draw.")] = 0,
    temperature: Annotated[float, typer.Option("--temperature", help="Sampling temperature (0: greedy).")] = 0.0,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="The answer's length.")] = 256,
    server_slots: ServerSlotsOption = 1,
    slot_ctx: Annotated[
        int, typer.Option("--slot-ctx", help="llamacpp: policies: context tokens per server slot.", min=512)
    ] = 8192,
    exclude: Annotated[
        list[Path] | None,
        typer.Option(
            "--exclude",
            help="A results file whose questions are left out of the draw (repeatable): a second draw disjoint "
            "from a first.",
        ),
    ] = None,
) -> None:
    """A policy answers BFCL questions; its answers are written as a recorded model's results."""
    from rich.progress import Progress

    from eval.tasks.runner import load_policy, load_tasks

    excluded: set[str] = set()
    for path in exclude or []:
        if not path.is_file():
            raise typer.BadParameter(f"no results file at {path}", param_hint="--exclude")
        excluded |= recorded_ids(path)
    chosen: list[AgentTask] = []
    for category in categories or list(LIVE_CATEGORIES):
        try:  # an unknown category, or a multi-turn one (no single step)
            chosen += load_tasks(category, limit=limit, seed=seed, exclude=excluded)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--category") from None
    done = recorded_ids(out)
    todo = [t for t in chosen if t.id not in done]
    typer.echo(f"{len(chosen)} questions, {len(chosen) - len(todo)} already in {out}", err=True)
    if not todo:
        return
    model = load_policy(policy, max_new_tokens=max_new_tokens, temperature=temperature,
                        **llamacpp_server_options(policy, server_slots, slot_ctx))
    with Progress(transient=True) as bar:
        job = bar.add_task(f"{policy} answering", total=len(todo))
        answered, failed = record(model, todo, out, progress=lambda: bar.advance(job))
    typer.echo(f"answered {answered}; wrote {out}", err=True)
    if failed:
        typer.echo(f"{failed} questions could not be answered: listed in {errors_path(out)}", err=True)


__all__ = [
    "LIVE_CATEGORIES", "answer", "command", "errors_path", "record", "recorded_ids", "recorded_result",
]
