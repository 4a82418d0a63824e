"""The critic's fault matrix, every cell: ``toolrm bench reliability --out FILE.json``.

Runs the cells of :mod:`eval.bench.faults` (judge backend faults x failure
policies x adapters x modes x sync/async, plus malformed proposals) against a local
OpenAI-compatible server on 127.0.0.1, prints one row per fault and policy (cells
survived / run, per adapter) and writes the JSON report: a summary (cells, survived,
passes per invariant, failed cells) and one
entry per cell (its invariants, why a failed one failed, counts). Offline; about two
minutes on two cores (``--fast`` leaves out the slow faults).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Annotated, Any

import typer

from eval.bench.faults import (
    ADAPTERS,
    INVARIANTS,
    SLOW_FAULTS,
    CellResult,
    OpenAIStub,
    all_cells,
    run_cell,
    summarize,
)


def _table(results: list[CellResult]) -> Any:
    from rich.table import Table

    table = Table(title="toolrm critic fault matrix (survived / cells)")
    table.add_column("fault")
    table.add_column("policy")
    for adapter in ADAPTERS:
        table.add_column(adapter, justify="right")
    table.add_column("failed invariants")
    rows: dict[tuple[str, str], dict[str, list[CellResult]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        fault = r.cell.fault if r.cell.shape == "normal" else f"{r.cell.fault}/{r.cell.shape}"
        rows[(fault, r.cell.policy)][r.cell.adapter].append(r)
    for (fault, policy), by_adapter in rows.items():
        cells = [f"{sum(x.survived for x in rs)}/{len(rs)}" for rs in (by_adapter.get(a, []) for a in ADAPTERS)]
        broken = sorted({k for rs in by_adapter.values() for x in rs for k, v in x.invariants.items() if not v})
        table.add_row(fault, policy, *cells, ", ".join(broken))
    return table


app = typer.Typer(add_completion=False, help=__doc__.splitlines()[0] if __doc__ else None)


@app.command()
def main(
    out: Annotated[Path, typer.Option(help="where to write the JSON report")],
    fast: Annotated[bool, typer.Option("--fast", help="leave out the slow faults (timeouts, hangs, stalls)")] = False,
    hows: Annotated[str, typer.Option(help="comma-separated: sync, async")] = "sync,async",
) -> None:
    """Run every cell of the fault matrix; exit 1 when a cell fails outside the known limits."""
    logging.disable(logging.WARNING)  # every judge failure logs a warning

    cells = all_cells(tuple(h for h in hows.split(",") if h))
    if fast:
        cells = [c for c in cells if c.fault not in SLOW_FAULTS]
    start = time.perf_counter()
    results: list[CellResult] = []
    with OpenAIStub(stall_s=0.6) as server:
        for i, cell in enumerate(cells, start=1):
            results.append(run_cell(cell, server))
            if i % 50 == 0:
                print(f"  {i}/{len(cells)} cells", file=sys.stderr)
    summary = summarize(results)
    summary["wall_seconds"] = round(time.perf_counter() - start, 2)
    summary["invariants"] = list(INVARIANTS)

    from rich.console import Console

    console = Console()
    console.print(_table(results))
    console.print(
        f"cells: {summary['cells']}  survived: {summary['survived']}  "
        f"failed: {len(summary['failed'])}  "
        f"wall: {summary['wall_seconds']} s"
    )
    for name, passed in summary["per_invariant_passed"].items():
        console.print(f"  {name}: {passed}/{summary['cells']}")
    report = {"summary": summary, "cells": [r.summary() for r in results]}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str))
    console.print(f"wrote {out}")
    if summary["failed"]:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
