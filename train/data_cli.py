"""``toolrm data ...``: preference data for critic training (see :mod:`train.build`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="toolrm data",
    help="Preference data: trajectories → candidates → scores → balanced pairs → parquet.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _group() -> None:
    """Preference data for critic training."""


@app.command()
def build(
    sources: Annotated[
        list[Path],
        typer.Option("--sources", help="Dataset folders, or a parent of them (repeatable)."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder (resumable).")],
    policy: Annotated[
        list[str] | None,
        typer.Option("--policy", help="Policy spec: default, smollm2, a local dir, llamacpp:<model> (a local "
                     "llama.cpp server, the fast CPU path), openai:<model>@<url> (repeatable)."),
    ] = None,
    samples: Annotated[int, typer.Option(help="Samples per record from each policy; 0 = corruptions only.")] = 0,
    temperature: Annotated[float, typer.Option(help="Sampling temperature of the policies.")] = 0.8,
    corruptions: Annotated[int, typer.Option("--corruptions", help="Corrupted candidates per record.")] = 6,
    target_pairs: Annotated[int, typer.Option("--target-pairs", help="Pairs after balancing.")] = 20000,
    irrelevance_share: Annotated[
        float,
        typer.Option("--irrelevance-share", help="Share of records that also give no-call variants."),
    ] = 0.25,
    compose_share: Annotated[
        float,
        typer.Option("--compose-share", help="Share of single-turn records joined with another request."),
    ] = 0.25,
    max_records: Annotated[
        int | None,
        typer.Option("--max-records", help="Keep at most this many records (seeded)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random draw.")] = 0,
    stage: Annotated[list[str] | None, typer.Option("--stage", help="Run only these stages (default: all).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Delete --out and start over.")] = False,
) -> None:
    """Build GenRM and Disc preference data (stages resume from their outputs)."""
    from train.build import STAGES, BuildConfig, DataBuild

    config = BuildConfig(
        sources=tuple(str(s) for s in sources),
        policies=tuple(policy or ()),
        samples=samples,
        temperature=temperature,
        corruptions_per_record=corruptions,
        target_pairs=target_pairs,
        irrelevance_share=irrelevance_share,
        compose_share=compose_share,
        max_records=max_records,
        seed=seed,
    )
    DataBuild(config, out, force=force, echo=typer.echo).run(tuple(stage or STAGES))
    typer.echo(f"wrote {out}/disc.parquet and {out}/genrm.parquet (stats: {out}/stats.json)")


@app.command()
def merge(
    inputs: Annotated[list[Path], typer.Option("--from", help="A `toolrm data build` folder (repeat: two or more).")],
    out: Annotated[Path, typer.Option("--out", help="The merged folder (records, pairs, parquet, stats).")],
    on_conflict: Annotated[
        str,
        typer.Option(
            "--on-conflict",
            help="A record id two inputs hold with different content: error (default), or keep-first "
            "(keep the first input's; leave the later one out with its pairs, counted in the stats).",
        ),
    ] = "error",
) -> None:
    """Merge build folders into one training folder: every record and pair once."""
    from train.merge import ON_CONFLICT, merge_builds

    if on_conflict not in ON_CONFLICT:
        raise typer.BadParameter(f"one of {', '.join(ON_CONFLICT)}, got {on_conflict!r}", param_hint="--on-conflict")
    merge_builds(inputs, out, on_conflict=on_conflict, echo=typer.echo)
