"""ACEBench preference pairs: the right answer against a policy's own failing answers.

:func:`acebench_pairs` is :func:`eval.tasks.pairs.pairs_from_runs` with ACEBench's right
answers (:func:`chosen_proposal`):

* normal categories: the ground truth (its first alternative) as calls, against each
  distinct failing answer (the executed calls; an answer in prose is the empty proposal);
* special categories: the right refusal (no call, ACEBench's answer format,
  :func:`~eval.acebench.checker.right_refusal`) against each distinct answer that called
  something.

The pairs are :class:`eval.pairs.Pair` (category = the ACEBench category, error type = our
checker's), so ``eval.pairs.export_pairs`` writes them in the TRBench-BFCL layout.
"""

from __future__ import annotations

from collections.abc import Sequence

from eval.acebench.checker import expected_calls, right_refusal
from eval.pairs import Pair
from eval.tasks.pairs import pairs_from_runs
from eval.tasks.runner import AgentTask, TaskRun
from toolrm_agent.core.calls import Proposal, ToolCall

__all__ = ["acebench_pairs", "chosen_proposal"]


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


def acebench_pairs(tasks: Sequence[AgentTask], runs: Sequence[TaskRun], *, policy: str) -> list[Pair]:
    """One pair per question and distinct failing answer, over every arm's runs."""
    return pairs_from_runs(
        tasks,
        runs,
        policy=policy,
        chosen=lambda task: chosen_proposal(task.question),
        no_call=lambda task: task.category.startswith("special_"),
    )
