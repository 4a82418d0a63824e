"""The ``toolrm`` command.

``toolrm demo`` runs the main job. ``toolrm eval ...`` (measurements on BFCL), ``toolrm
bench ...`` (reliability and speed benchmarks), ``toolrm data ...`` and ``toolrm train ...``
are groups that live in the ``eval`` and ``train`` packages; they are imported only when
asked for, so the runtime never imports them at module level.
"""

from __future__ import annotations

import importlib
import sys

import typer

app = typer.Typer(
    name="toolrm",
    help="toolrm-agent: a tool-use reward model that critiques agent function calls.\n\n"
    "Groups: `toolrm eval --help` (measurements on BFCL), `toolrm bench --help` (reliability and "
    "speed benchmarks), `toolrm data --help` (preference data), `toolrm train --help` (critic training).\n\n"
    "A library error prints its message alone; add --debug (anywhere) for its traceback.",
    no_args_is_help=True,
    add_completion=False,
)

# group name -> module holding its typer app (imported lazily). ``demo`` is dispatched the
# same way, so that `toolrm demo --help` shows the demo's own options.
LAZY_GROUPS: dict[str, str] = {
    "eval": "eval.cli",
    "bench": "eval.bench.cli",
    "train": "train.cli",
    "data": "train.data_cli",
    "demo": "eval.commands.demo",
}


@app.command()
def version() -> None:
    """Print the version."""
    from toolrm_agent import __version__

    typer.echo(__version__)


@app.command()
def serve(
    model: str = typer.Option("default", help="An offline model (default, qwen1.5b, smollm2) or a .gguf file."),
    port: int = typer.Option(8080, help="Port on 127.0.0.1 (0: any free port)."),
    parallel: int = typer.Option(4, help="Requests decoded at once."),
    ctx: int = typer.Option(8192, help="Context tokens shared by the parallel requests."),
    threads: int = typer.Option(0, help="CPU threads (0: all cores)."),
) -> None:
    """Serve a model with llama.cpp's OpenAI-compatible server (the fast CPU path)."""
    import signal
    import time

    from toolrm_agent.errors import ToolRMError
    from toolrm_agent.integrations.llamacpp_server import (
        LlamaCppServerConfig,
        start_llamacpp_server,
    )

    config = LlamaCppServerConfig(model=model, port=port or None, n_parallel=parallel, n_ctx=ctx,
                                  threads=threads or None)
    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # stop the server on `kill` too
    try:
        server = start_llamacpp_server(config)
    except ToolRMError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"serving {server.gguf} as {server.model!r} at {server.base_url} "
               f"(ready in {server.startup_s:.1f} s; log {server.log_path})")
    typer.echo(f"  policy or judge spec: openai:{server.model}@{server.base_url}   (Ctrl-C stops it)")
    try:
        while server.alive:
            time.sleep(1.0)
        error = server.crash_error()
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def demo(ctx: typer.Context) -> None:
    """A real agent corrected by a real critic on BFCL tasks (see `toolrm demo --help`)."""
    module = importlib.import_module("eval.commands.demo")
    module.app(args=ctx.args, prog_name="toolrm demo", standalone_mode=True)


def _group_command(name: str, summary: str) -> None:
    """List a lazy group in `toolrm --help` (``main`` dispatches it before typer sees it)."""

    def group(ctx: typer.Context) -> None:
        module = importlib.import_module(LAZY_GROUPS[name])
        module.app(args=ctx.args, prog_name=f"toolrm {name}", standalone_mode=True)

    group.__doc__ = summary
    app.command(name, context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
                add_help_option=False)(group)


_group_command("eval", "Measurements on BFCL: trbench, bon, selfcorrect, rescore, plot (`toolrm eval --help`).")
_group_command("bench", "Reliability and speed benchmarks (`toolrm bench --help`).")
_group_command("data", "Preference data for critic training: `toolrm data build` (`toolrm data --help`).")
_group_command("train", "Train critics: disc (Bradley-Terry), gen (GRPO) (`toolrm train --help`).")

DEBUG_FLAG = "--debug"
"""Anywhere on the command line (or ``TOOLRM_DEBUG=1``): show the traceback of a library error."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: dispatch lazy groups, else the runtime app.

    A library error (:class:`~toolrm_agent.errors.ToolRMError`: a missing checkpoint, a
    training input that cannot work, a misspelt judge) prints its message alone in one box
    and exits with 1, as option errors do; ``--debug`` (or ``TOOLRM_DEBUG=1``) shows the
    traceback instead.
    """
    import os

    from toolrm_agent.errors import ToolRMError

    args = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in args or os.environ.get("TOOLRM_DEBUG", "") not in ("", "0")
    args = [a for a in args if a != DEBUG_FLAG]
    try:
        if args and args[0] in LAZY_GROUPS:
            module = importlib.import_module(LAZY_GROUPS[args[0]])
            module.app(args=args[1:], prog_name=f"toolrm {args[0]}")
            return
        app(args=args, prog_name="toolrm")
    except ToolRMError as exc:
        if debug:
            raise
        print_error(exc)
        raise SystemExit(1) from None


def print_error(exc: BaseException) -> None:
    """``exc``'s message in one box on stderr, like typer's option errors."""
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    body = Text(str(exc) or type(exc).__name__)
    body.append(f"\n({type(exc).__name__}; add {DEBUG_FLAG} for the traceback)", style="dim")
    Console(stderr=True).print(Panel(body, title="Error", title_align="left", border_style="red"))


if __name__ == "__main__":
    main()
