"""The ``toolrm`` command.

``toolrm demo`` runs the main job. ``toolrm eval ...`` and ``toolrm train ...`` are the
benchmark and training groups; they live in the ``eval`` and ``train`` packages and are
imported only when asked for, so the runtime never imports them at module level.
"""

from __future__ import annotations

import importlib
import sys

import typer

app = typer.Typer(
    name="toolrm",
    help="toolrm-agent: a tool-use reward model that critiques agent function calls.\n\n"
    "Groups: `toolrm eval --help` (benchmarks), `toolrm data --help` (preference data), `toolrm train --help` (critic training).",
    no_args_is_help=True,
    add_completion=False,
)

# group name -> module holding its typer app (imported lazily). ``demo`` is dispatched the
# same way, so that `toolrm demo --help` shows the demo's own options.
LAZY_GROUPS: dict[str, str] = {
    "eval": "eval.cli",
    "train": "train.cli",
    "data": "train.data_cli",
    "demo": "eval.demo",
}


@app.command()
def version() -> None:
    """Print the version."""
    from toolrm_agent import __version__

    typer.echo(__version__)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def demo(ctx: typer.Context) -> None:
    """A real agent corrected by a real critic on BFCL tasks (see `toolrm demo --help`)."""
    module = importlib.import_module("eval.demo")
    module.app(args=ctx.args, prog_name="toolrm demo", standalone_mode=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: dispatch lazy groups, else the runtime app."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in LAZY_GROUPS:
        module = importlib.import_module(LAZY_GROUPS[args[0]])
        module.app(args=args[1:], prog_name=f"toolrm {args[0]}")
        return
    app(args=args, prog_name="toolrm")


if __name__ == "__main__":
    main()
