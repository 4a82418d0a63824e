"""ACEBench preference pairs: the right answer against a policy's own failing answers.

From the runs of ``toolrm eval acebench`` (:class:`~eval.tasks.runner.TaskRun`, any arm):

* normal categories: **chosen** is the ground truth (its first alternative) as calls,
  **rejected** each distinct failing answer (the executed calls; an answer in prose is
  the empty proposal, as in :mod:`eval.pairs`);
* special categories: **chosen** is the right refusal (no call, ACEBench's answer format,
  :func:`~eval.acebench.checker.right_refusal`), **rejected** each distinct answer that
  called something (an answer in prose that named the wrong things is not a pair: both
  sides would be text, and judges compare calls).

The pairs are :class:`eval.pairs.Pair` (category = the ACEBench category, error type =
our checker's, model = ``<policy> (<arm>)``), so ``eval.pairs.export_pairs`` writes them in
the TRBench-BFCL layout and ``toolrm eval trbench``'s scoring applies unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from eval.acebench.checker import expected_calls, right_refusal
from eval.pairs import Pair
from eval.tasks.runner import AgentTask, TaskRun
from toolrm_agent.calls import Proposal, ToolCall
from toolrm_agent.context import JudgeContext

__all__ = ["chosen_proposal", "pairs_from_runs", "rejected_proposal"]


def chosen_proposal(question: object) -> Proposal:
    """The right answer to an ACEBench question, as a proposal."""
    category = str(getattr(question, "category", ""))
    truth = getattr(question, "ground_truth", None)
    if category.startswith("special_"):
        return Proposal(content=right_refusal(category, truth))
    answer = truth[0] if isinstance(truth, list) and truth else truth
    functions = list(getattr(question, "functions", []) or [])
    calls = tuple(
        ToolCall(name=name, arguments=dict(args), id=f"gt_{i}")
        for i, (name, args) in enumerate(expected_calls(functions, answer or {}))
    )
    return Proposal(calls=calls)


def rejected_proposal(run: TaskRun, category: str) -> Proposal | None:
    """What a failing run contributes to the rejected side (``None``: nothing)."""
    if run.valid:
        return None
    calls = tuple(
        ToolCall(name=name, arguments=dict(args))
        for item in run.executed
        for name, args in item.items()
        if isinstance(args, dict)
    )
    if category.startswith("special_") and not calls:
        return None
    return Proposal(calls=calls)


def pairs_from_runs(
    tasks: Sequence[AgentTask], runs: Sequence[TaskRun], *, policy: str
) -> list[Pair]:
    """One pair per question and distinct failing answer, over every arm's runs."""
    by_id = {t.id: t for t in tasks}
    pairs: list[Pair] = []
    seen: set[tuple[str, str]] = set()
    for run in runs:
        task = by_id.get(run.id)
        if task is None:
            continue
        rejected = rejected_proposal(run, task.category)
        if rejected is None:
            continue
        chosen = chosen_proposal(task.question)
        text = rejected.render()
        if text == chosen.render() or (run.id, text) in seen:
            continue
        seen.add((run.id, text))
        context = JudgeContext.from_messages(list(task.messages), list(task.specs))
        pairs.append(
            Pair(
                id=f"{run.id}#{hashlib.sha1(text.encode()).hexdigest()[:10]}",
                question_id=run.id,
                category=task.category,
                error_type=run.error_type or "unknown",
                model=f"{policy} ({run.arm})",
                context=context,
                chosen=chosen,
                rejected=rejected,
            )
        )
    return sorted(pairs, key=lambda p: p.id)
