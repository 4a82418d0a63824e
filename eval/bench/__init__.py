"""``toolrm bench ...``: reliability, robustness and speed benchmarks (one module each,
each with its own typer ``app``; :mod:`eval.bench.cli` registers them lazily).

``reliability`` runs the fault matrix of :mod:`eval.bench.faults` and ``resume`` kills and
resumes :mod:`eval.bench.crash_worker`; ``tests/reliability`` runs small slices of both.
"""
