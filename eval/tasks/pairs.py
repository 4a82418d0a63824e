"""Preference pairs from live runs: the right answer against the policy's own failing answers.

The live benchmarks (``toolrm eval selfcorrect`` on BFCL, ``toolrm eval acebench``) run an
offline policy and check every answer; each failing answer is a real mistake of a third
model, and :func:`pairs_from_runs` turns them into TRBench-style pairs
(:class:`eval.pairs.Pair`), one per question and distinct failing rendering, over every arm:

* **chosen**: what the benchmark says is right (``chosen(task)``: BFCL's ground truth or
  no call for irrelevance; ACEBench's ground truth or the right refusal);
* **rejected**: the executed calls of the failing run (the empty proposal when the policy
  answered in prose). Where the right answer is no call (``no_call(task)``), only a
  failing answer that called something is a pair: both sides in prose tell a judge
  of calls nothing.

A run whose texts were removed (``TaskRun.texts_removed``, a resumed public report) has no
answer left and gives no pair.

The context is the conversation the policy saw (the task's messages, its tools); the pair's
model is ``<policy> (<arm>)``, its error type the checker's. ``eval.pairs.export_pairs``
writes them in the TRBench-BFCL layout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eval.pairs import Pair
from eval.tasks.runner import AgentTask, TaskRun
from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext

__all__ = ["executed_proposal", "pairs_from_runs"]


def executed_proposal(run: TaskRun) -> Proposal:
    """The calls a run executed (``run.executed``: ``[{name: {arg: value}}]``) as a proposal."""
    return Proposal(
        calls=tuple(
            ToolCall(name=name, arguments=dict(args))
            for item in run.executed
            for name, args in item.items()
            if isinstance(args, dict)
        )
    )


def pairs_from_runs(
    tasks: Sequence[AgentTask],
    runs: Sequence[TaskRun],
    *,
    policy: str,
    chosen: Callable[[AgentTask], Proposal],
    no_call: Callable[[AgentTask], bool] = lambda task: False,
) -> list[Pair]:
    """The pairs of the failing runs (see the module docstring), sorted by pair id."""
    by_id = {t.id: t for t in tasks}
    pairs: list[Pair] = []
    seen: set[tuple[str, str]] = set()
    for run in runs:
        task = by_id.get(run.id)
        if task is None or run.valid or run.texts_removed:  # no answer left to pair
            continue
        rejected = executed_proposal(run)
        if no_call(task) and not rejected.calls:
            continue
        right = chosen(task)
        text = rejected.render()
        if text == right.render() or (run.id, text) in seen:
            continue
        seen.add((run.id, text))
        context = JudgeContext.from_messages(list(task.messages), list(task.specs))
        pairs.append(
            Pair.of_rejected(
                run.id, rejected, right, context,
                category=task.category, error_type=run.error_type, model=f"{policy} ({run.arm})",
            )
        )
    return sorted(pairs, key=lambda p: p.id)
