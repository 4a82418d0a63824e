"""``toolrm eval ...``: benchmarks of critics on BFCL, offline.

Each command lives in its own module as a typer-annotated function named ``command``;
this file only registers them. Heavy imports (torch, the BFCL checker) happen inside the
commands, so ``toolrm eval --help`` stays fast.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="toolrm eval",
    help="Benchmarks: BFCL re-scoring, TRBench pairwise accuracy, best-of-N and self-correction lift.",
    no_args_is_help=True,
    add_completion=False,
)

# command name -> module defining ``command`` (each module owns its options)
COMMANDS: dict[str, str] = {
    "rescore": "eval.rescore",
    "trbench": "eval.trbench",
    "bon": "eval.bon",
    "selfcorrect": "eval.selfcorrect",
    "plot": "eval.plot",
}

for _name, _module in COMMANDS.items():
    app.command(_name)(importlib.import_module(_module).command)
