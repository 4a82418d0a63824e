"""The runtime's commands of ``toolrm``: ``version``, ``serve``, ``replay``.

The ``toolrm`` console script is :mod:`toolrm_cli` (outside the runtime package): it adds
``demo``, ``eval`` and ``bench`` (the ``eval`` wing) and ``data`` and ``train`` (the
``train`` wing) with :func:`add_lazy_group`, so the runtime never names, let alone imports,
a wing. ``python -m toolrm_agent.cli`` runs the runtime's commands alone.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from toolrm_agent.critic._options import DecisionBands

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


ACCEPT_HELP = "Decision bands: a call scoring at least this runs (default 0.5 once any band option is given)."
UNCERTAIN_HELP = (
    "Decision bands: calls scoring from this up to --accept are uncertain, below it rejected "
    "(default: equal to --accept, no uncertain band)."
)
TOOL_BAND_HELP = (
    "Decision bands of one tool, NAME=ACCEPT,UNCERTAIN (or NAME=ACCEPT: no uncertain band for it); "
    "repeatable; other tools take --accept / --uncertain."
)


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

    from toolrm_agent.core.errors import ToolRMError
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
    accept: Annotated[float | None, typer.Option("--accept", help=ACCEPT_HELP, min=0.0, max=1.0)] = None,
    uncertain: Annotated[float | None, typer.Option("--uncertain", help=UNCERTAIN_HELP, min=0.0, max=1.0)] = None,
    tool: Annotated[
        list[str] | None,
        typer.Option("--tool-band", "--tool", help=TOOL_BAND_HELP, metavar="NAME=ACCEPT,UNCERTAIN"),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write every row as JSON here.")] = None,
) -> None:
    """Re-score logged proposals with another critic or thresholds; print what would change."""
    import json

    from toolrm_agent.core.errors import ToolRMError
    from toolrm_agent.critic._decision_log import read_decisions
    from toolrm_agent.critic._decision_log import replay as replay_log

    try:
        bands = bands_from_cli(accept, uncertain, tool or [])
        entries = read_decisions(log)
        the_judge = None
        if judge is not None:
            from toolrm_agent.judges.loader import load_judge

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


def parse_tool_band(text: str) -> tuple[str, float, float]:
    """``NAME=ACCEPT,UNCERTAIN`` (or ``NAME=ACCEPT``: ``UNCERTAIN`` = ``ACCEPT``) as
    ``(name, accept, uncertain)``; anything else raises
    :class:`~toolrm_agent.core.errors.ConfigurationError` naming ``--tool-band``."""
    from toolrm_agent.core.errors import ConfigurationError

    name, sep, values = text.partition("=")
    name = name.strip()
    try:
        numbers = [float(v) for v in values.split(",")] if sep else []
    except ValueError:
        numbers = []
    if not name or not 1 <= len(numbers) <= 2 or not all(0.0 <= x <= 1.0 for x in numbers):
        raise ConfigurationError(
            f"--tool-band takes NAME=ACCEPT,UNCERTAIN (or NAME=ACCEPT) with scores in [0, 1], got {text!r}"
        )
    accept, uncertain = numbers[0], numbers[-1]
    if uncertain > accept:
        raise ConfigurationError(f"--tool-band {text!r}: UNCERTAIN ({uncertain}) must be <= ACCEPT ({accept})")
    return name, accept, uncertain


def bands_from_cli(
    accept: float | None,
    uncertain: float | None,
    tool_bands: Sequence[str] = (),
    *,
    on_uncertain: str | None = None,
    on_ask_timeout: str | None = None,
) -> DecisionBands | None:
    """The :class:`~toolrm_agent.DecisionBands` that the command-line options
    ``--accept``, ``--uncertain``, ``--tool-band`` (repeatable), ``--on-uncertain`` and
    ``--on-ask-timeout`` ask for, or ``None`` when none is given (the judge's own
    ``accepted`` decides). A missing ``--accept`` is 0.5, a missing ``--uncertain`` is
    ``--accept`` (no uncertain band). A value that cannot work raises
    :class:`~toolrm_agent.core.errors.ConfigurationError` naming the option: out of [0, 1],
    ``--uncertain`` above ``--accept``, a malformed or repeated ``--tool-band``,
    ``--on-uncertain`` with no uncertain band anywhere, ``--on-ask-timeout`` without
    ``--on-uncertain ask``."""
    from toolrm_agent.core.errors import ConfigurationError
    from toolrm_agent.critic._options import UNCERTAIN_ACTIONS, DecisionBands

    if accept is None and uncertain is None and not tool_bands and on_uncertain is None and on_ask_timeout is None:
        return None
    for option, value in (("--accept", accept), ("--uncertain", uncertain)):
        if value is not None and not 0.0 <= value <= 1.0:
            raise ConfigurationError(f"{option} must be in [0, 1], got {value}")
    a = 0.5 if accept is None else accept
    u = a if uncertain is None else uncertain
    if u > a:
        raise ConfigurationError(
            f"--uncertain ({u}) must be <= --accept ({a}{', the default' if accept is None else ''})"
        )
    per_tool: dict[str, tuple[float, float]] = {}
    for item in tool_bands:
        name, ta, tu = parse_tool_band(item)
        if name in per_tool:
            raise ConfigurationError(f"--tool-band names {name!r} twice")
        per_tool[name] = (ta, tu)
    if on_uncertain is not None:
        if on_uncertain not in UNCERTAIN_ACTIONS:
            raise ConfigurationError(f"--on-uncertain takes {', '.join(UNCERTAIN_ACTIONS)}, got {on_uncertain!r}")
        if u == a and all(tu == ta for ta, tu in per_tool.values()):
            raise ConfigurationError(
                f"--on-uncertain {on_uncertain} applies to no call: there is no uncertain band "
                "(give --uncertain below --accept, or a --tool-band NAME=ACCEPT,UNCERTAIN with UNCERTAIN < ACCEPT)"
            )
    if on_ask_timeout is not None:
        if on_ask_timeout not in ("approve", "reject"):
            raise ConfigurationError(f"--on-ask-timeout takes approve or reject, got {on_ask_timeout!r}")
        if on_uncertain != "ask":
            raise ConfigurationError("--on-ask-timeout applies only with --on-uncertain ask")
    return DecisionBands(
        accept=a,
        uncertain=u,
        tools=per_tool,
        on_uncertain=on_uncertain or "retry",  # type: ignore[arg-type]
        on_ask_timeout=on_ask_timeout or "reject",  # type: ignore[arg-type]
    )


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

    A library error (:class:`~toolrm_agent.core.errors.ToolRMError`: a missing checkpoint, a
    training input that cannot work, a misspelt judge) prints its message alone in one box
    and exits with 1, as option errors do; ``--debug`` (or ``TOOLRM_DEBUG=1``) shows the
    traceback instead.
    """
    import os

    from toolrm_agent.core.errors import ToolRMError

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
