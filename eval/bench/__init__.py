"""``toolrm bench ...``: reliability, robustness and speed benchmarks (one module each,
each with its own typer ``app``; :mod:`eval.bench.cli` registers them lazily)."""
