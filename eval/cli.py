"""``toolrm eval ...``: measurements of critics on BFCL, offline.

Each command lives in its own module under :mod:`eval.commands` as a typer-annotated
function named ``command``; this file only registers them (``toolrm demo`` and ``toolrm
bench ...`` are groups of their own, see :mod:`toolrm_cli`). Heavy imports (torch,
the BFCL checker) happen inside the commands, so ``toolrm eval --help`` stays fast.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="toolrm eval",
    help="Benchmarks: BFCL re-scoring, TRBench pairwise accuracy, best-of-N, self-correction lift and judge cost.",
    no_args_is_help=True,
    add_completion=False,
)

# command name -> module defining ``command`` (each module owns its options)
COMMANDS: dict[str, str] = {
    "rescore": "eval.commands.rescore",
    "trbench": "eval.commands.trbench",
    "bon": "eval.commands.bon",
    "rejections": "eval.commands.rejections",
    "selfcorrect": "eval.commands.selfcorrect",
    "acebench": "eval.commands.acebench",
    "plot": "eval.commands.plot",
    "cost": "eval.commands.cost",
    "record": "eval.commands.record",
}

for _name, _module in COMMANDS.items():
    app.command(_name)(importlib.import_module(_module).command)
