"""The runtime's commands of ``toolrm``: ``version``, ``serve``, ``replay``.

The ``toolrm`` console script is :mod:`toolrm_cli` (outside the runtime package): it adds
``demo``, ``eval`` and ``bench`` (the ``eval`` wing) and ``data`` and ``train`` (the
``train`` wing) with :func:`add_lazy_group`, so the runtime never names, let alone imports,
a wing. ``python -m toolrm_agent.cli`` runs the runtime's commands alone.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

SUMMARY = "toolrm-agent: a tool-use reward model that critiques agent function calls."
DEBUG_HELP = "A library error prints its message alone; add --debug (anywhere) for its traceback."

app = typer.Typer(
    name="toolrm",
    help=f"{SUMMARY}\n\n{DEBUG_HELP}",
    no_args_is_help=True,
    add_completion=False,
)

LAZY_GROUPS: dict[str, str] = {}
"""Group name -> the module holding its typer ``app``, imported only when the group is
asked for; filled by :func:`add_lazy_group` (:mod:`toolrm_cli` adds the wings' groups)."""


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


@app.command()
def replay(
    log: Annotated[Path, typer.Argument(help="A decision log (JSONL) a critic wrote with decision_log=PATH.")],
    judge: Annotated[
        str | None,
        typer.Option("--judge", help="Re-judge the logged proposals with this judge spec (default: logged scores)."),
    ] = None,
    accept: Annotated[
        float | None, typer.Option("--accept", help="Accept band: calls scoring at least this run.")
    ] = None,
    uncertain: Annotated[
        float | None,
        typer.Option("--uncertain", help="Uncertain band from this score up to --accept (default: none)."),
    ] = None,
    tool: Annotated[
        list[str] | None, typer.Option("--tool", help="Per-tool thresholds NAME=ACCEPT[,UNCERTAIN] (repeatable).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write every row as JSON here.")] = None,
) -> None:
    """Re-score logged proposals with another critic or thresholds; print what would change."""
    import json

    from toolrm_agent._internal.decision_log import read_decisions
    from toolrm_agent._internal.decision_log import replay as replay_log
    from toolrm_agent.errors import ToolRMError

    try:
        bands = _bands(accept, uncertain, tool or [])
        entries = read_decisions(log)
        the_judge = None
        if judge is not None:
            from toolrm_agent.judges.specs import load_judge

            the_judge = load_judge(judge)
        rows = replay_log(entries, judge=the_judge, bands=bands)
    except (ToolRMError, ValueError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    changed = [r for r in rows if r["changed"]]
    now_run = sum(1 for r in changed if r["after"]["band"] == "accept")
    for r in changed:
        before, after = r["before"], r["after"]
        typer.echo(
            f"#{r['index']} {r['message_id']}: {before['band']} ({_score(before['score'])}) -> "
            f"{after['band']} ({_score(after['score'])})  {r['calls']}"
        )
    setup = f"judge {judge}" if judge else "the logged scores"
    if bands is not None:
        setup += f", bands accept {bands.accept} uncertain {bands.uncertain}" + (
            f", {len(bands.tools)} per-tool" if bands.tools else "")
    typer.echo(
        f"{len(rows)} logged proposals re-decided with {setup}: {len(changed)} would change "
        f"({now_run} would now run, {len(changed) - now_run} would now be stopped)"
    )
    if out is not None:
        out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _bands(accept: float | None, uncertain: float | None, tools: list[str]) -> Any:
    """The :class:`DecisionBands` the replay options ask for, or ``None``."""
    from toolrm_agent._internal.policy import DecisionBands

    if accept is None and uncertain is None and not tools:
        return None
    per_tool: dict[str, tuple[float, float]] = {}
    for item in tools:
        name, _, values = item.partition("=")
        parts = [float(v) for v in values.split(",") if v.strip()]
        if not name or not 1 <= len(parts) <= 2:
            from toolrm_agent.errors import ConfigurationError

            raise ConfigurationError(f"--tool takes NAME=ACCEPT[,UNCERTAIN], got {item!r}")
        per_tool[name] = (parts[0], parts[1] if len(parts) == 2 else parts[0])
    a = 0.5 if accept is None else accept
    return DecisionBands(accept=a, uncertain=a if uncertain is None else uncertain, tools=per_tool)


def add_lazy_group(name: str, module: str, summary: str, *, help_option: bool = False) -> None:
    """Add the group ``toolrm NAME``: the typer ``app`` of ``module``, imported only when
    the group is asked for. It is listed in `toolrm --help` with ``summary``; :func:`main`
    dispatches it before typer sees the arguments, so `toolrm NAME --help` shows the
    group's own help."""
    LAZY_GROUPS[name] = module

    def group(ctx: typer.Context) -> None:
        loaded = importlib.import_module(LAZY_GROUPS[name])
        loaded.app(args=ctx.args, prog_name=f"toolrm {name}", standalone_mode=True)

    group.__doc__ = summary
    app.command(name, context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
                add_help_option=help_option)(group)

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
