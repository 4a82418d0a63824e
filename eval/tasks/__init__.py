"""BFCL questions as live agent tasks, and the arm runner that runs them.

- :mod:`eval.tasks.runner`: one task, one run of a LangGraph agent with stub tools, checked
  by BFCL; per-arm summaries and the baseline-vs-critic lift.
- :mod:`eval.tasks.arms`: the arms (no critic, and a critic per mode and judge), the runner
  with its progress bar, and the one report builder; ``toolrm eval selfcorrect`` and
  ``toolrm demo`` (a preset: fixed tasks, retry and best-of-N) both use it.
"""
