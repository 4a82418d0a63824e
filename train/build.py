"""``toolrm data build``: preference data from trajectories, in stages that resume.

::

    normalize   sources → records.jsonl              (train.normalize; counts in stats.json)
    candidates  records → candidates.jsonl           (train.candidates; appended per record)
    pairs       candidates → pairs_all.jsonl         (train.pairs: scores, difficulty filter)
    balance     pairs_all → pairs.jsonl              (train.balance; histograms in stats.json)
    export      pairs → disc.parquet, genrm.parquet  (train.export)

Each stage writes its output atomically and marks itself done in ``build.json``; a
rerun skips the stages that are done and the candidates stage continues after the last
record it finished, so a killed build restarts where it stopped. ``build.json`` also
holds the options; rerunning into the same folder with different options is refused
(use another ``--out``, or ``--force`` to start over).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from toolrm_agent.core.errors import TrainingError
from train.records import TrainRecord, read_records, write_records

STAGES = ("normalize", "candidates", "pairs", "balance", "export")


class BuildError(TrainingError):
    """A data build that cannot go on (bad options, a folder built with other options)."""


@dataclass(frozen=True)
class BuildConfig:
    """Every option of a data build (saved in ``build.json``)."""

    sources: tuple[str, ...]
    policies: tuple[str, ...] = ()
    samples: int = 0
    """Samples per record from each policy (0: corruptions only, no model)."""
    temperature: float = 0.8
    corruptions_per_record: int = 6
    target_pairs: int = 20000
    irrelevance_share: float = 0.25
    """Share of the records that also give irrelevance variants (train.augment)."""
    compose_share: float = 0.25
    """Share of the single-turn records joined with another request (train.augment)."""
    max_records: int | None = None
    """Keep at most this many records (seeded draw), for quick builds and tests."""
    seed: int = 0

    def check(self) -> None:
        if not self.sources:
            raise BuildError("no --sources given")
        if self.samples < 0:
            raise BuildError(f"--samples must be >= 0, got {self.samples}")
        if self.samples > 0 and not self.policies:
            raise BuildError("--samples > 0 needs at least one --policy")
        if self.target_pairs <= 0:
            raise BuildError(f"--target-pairs must be > 0, got {self.target_pairs}")
        for name in ("irrelevance_share", "compose_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise BuildError(f"--{name.replace('_', '-')} must be in [0, 1]")


@dataclass
class BuildState:
    config: dict[str, Any]
    done: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


class DataBuild:
    """One build into one folder (see the module docstring)."""

    def __init__(self, config: BuildConfig, out: Path, *, force: bool = False,
                 echo: Callable[[str], None] = print) -> None:
        config.check()
        self.config = config
        self.out = out
        self.echo = echo
        manifest = out / "build.json"
        if force and out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
        wanted = json.loads(json.dumps(asdict(config)))
        if manifest.exists():
            state = json.loads(manifest.read_text())
            if state.get("config") != wanted:
                raise BuildError(
                    f"{out} was built with other options ({manifest}); "
                    "use another --out or --force to start over"
                )
            self.state = BuildState(**state)
        else:
            self.state = BuildState(config=wanted)
            self._save()

    # -- bookkeeping ------------------------------------------------------------------

    def _save(self) -> None:
        tmp = self.out / "build.json.tmp"
        tmp.write_text(json.dumps(asdict(self.state), indent=2, sort_keys=True) + "\n")
        tmp.replace(self.out / "build.json")
        (self.out / "stats.json").write_text(
            json.dumps(self.state.stats, indent=2, sort_keys=True) + "\n"
        )

    def _finish(self, stage: str, start: float, stats: Any) -> None:
        self.state.stats[stage] = stats
        self.state.seconds[stage] = round(time.perf_counter() - start, 2)
        if stage not in self.state.done:
            self.state.done.append(stage)
        self._save()
        self.echo(f"[{stage}] done in {self.state.seconds[stage]:.1f} s")

    def records(self) -> list[TrainRecord]:
        return list(read_records(self.out / "records.jsonl"))

    # -- stages -----------------------------------------------------------------------

    def run(self, stages: Sequence[str] = STAGES) -> dict[str, Any]:
        for stage in stages:
            if stage not in STAGES:
                raise BuildError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
            if stage in self.state.done:
                self.echo(f"[{stage}] already done, skipped")
                continue
            getattr(self, f"stage_{stage}")()
        return self.state.stats

    def stage_normalize(self) -> None:
        import random

        from train.normalize import NormalizeStats, normalize
        from train.sources import discover, read_source

        start = time.perf_counter()
        found = discover([Path(s) for s in self.config.sources])
        stats = NormalizeStats()

        def read_all() -> Any:
            for name, path in found:
                self.echo(f"[normalize] reading {name} from {path}")
                yield from read_source(name, path)

        records = normalize(
            read_all(), irrelevance_share=self.config.irrelevance_share,
            compose_share=self.config.compose_share, seed=self.config.seed, stats=stats,
        )
        if not records:  # an empty build would only fail later, inside a trainer
            sources = ", ".join(self.config.sources)
            raise TrainingError(
                f"no trajectories under --sources {sources}: "
                + (f"{len(found)} dataset(s) found ({', '.join(n for n, _ in found)}) but "
                   f"{sum(stats.read.values())} record(s) read and none kept"
                   if found else "no dataset folder or conversation file found there")
                + " (expected dataset folders such as ../shared/data/train-sources/*, or .jsonl "
                "files of conversations in the OpenAI tools format)"
            )
        if self.config.max_records is not None and len(records) > self.config.max_records:
            rng = random.Random(f"{self.config.seed}|max_records")
            records = sorted(rng.sample(records, self.config.max_records), key=lambda r: r.id)
        write_records(records, self.out / "records.jsonl")
        out: dict[str, Any] = stats.to_dict()
        out["records"] = len(records)
        out["by_complexity"] = _count(r.complexity for r in records)
        self.echo(f"[normalize] read {sum(stats.read.values())}, kept {len(records)}; "
                  f"dropped {out['dropped']}")
        self._finish("normalize", start, out)

    def stage_candidates(self) -> None:
        from rich.progress import Progress

        from train.candidates import build_candidates, origins, read_candidates
        from train.corruptions import value_pool

        start = time.perf_counter()
        records = self.records()
        policies = [
            (spec, _policy(spec, self.config.temperature)) for spec in self.config.policies
        ] if self.config.samples > 0 else []
        path = self.out / "candidates.jsonl"
        with Progress(transient=True) as progress:
            task = progress.add_task("candidates", total=len(records))
            from train.candidates import done_ids

            progress.update(task, completed=len(done_ids(path)))
            build_candidates(
                records, path, policies=policies, samples=self.config.samples,
                corruptions_per_record=self.config.corruptions_per_record,
                pool=value_pool(records), seed=self.config.seed,
                progress=lambda: progress.advance(task),
            )
        counts = origins(read_candidates(path))
        self.echo(f"[candidates] {sum(counts.values())} candidates: {counts}")
        self._finish("candidates", start, {"origins": counts})

    def stage_pairs(self) -> None:
        from train.candidates import read_candidates
        from train.pairs import CandidatePairStats, make_pairs, write_pairs

        start = time.perf_counter()
        records = {r.id: r for r in self.records()}
        stats = CandidatePairStats()
        write_pairs(
            make_pairs(records, read_candidates(self.out / "candidates.jsonl"), stats),
            self.out / "pairs_all.jsonl",
        )
        self.echo(f"[pairs] {stats.to_dict()}")
        self._finish("pairs", start, stats.to_dict())

    def stage_balance(self) -> None:
        from train.balance import balance, histograms
        from train.pairs import read_pairs, write_pairs

        start = time.perf_counter()
        pairs = list(read_pairs(self.out / "pairs_all.jsonl"))
        chosen = balance(pairs, self.config.target_pairs, seed=self.config.seed)
        write_pairs(chosen, self.out / "pairs.jsonl")
        before, after = histograms(pairs), histograms(chosen)
        print_histograms(before, after, self.echo)
        self._finish("balance", start, {"before": before, "after": after, "pairs": len(chosen)})

    def stage_export(self) -> None:
        from train.export import export
        from train.pairs import read_pairs

        start = time.perf_counter()
        records = {r.id: r for r in self.records()}
        pairs = list(read_pairs(self.out / "pairs.jsonl"))
        paths = export(pairs, records, self.out)
        self._finish("export", start, {k: str(v.name) for k, v in paths.items()})


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return dict(sorted(out.items()))


def _policy(spec: str, temperature: float) -> Any:
    from toolrm_agent.models import resolve_model
    from toolrm_agent.models.policy import load_chat_model

    target = spec
    if not spec.startswith(("openai:", "llamacpp:")):  # a served policy is named as it is
        target = str(resolve_model(spec))
    return load_chat_model(target, temperature=temperature, max_new_tokens=256)


def print_histograms(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]],
    echo: Callable[[str], None] = print,
) -> None:
    """The pair counts per dimension before and after balancing, as text bars."""
    for dim in ("complexity", "intensity", "source"):
        echo(f"[balance] {dim}: before → after")
        keys = sorted(set(before.get(dim, {})) | set(after.get(dim, {})))
        top = max([1, *before.get(dim, {}).values()])
        for k in keys:
            b, a = before.get(dim, {}).get(k, 0), after.get(dim, {}).get(k, 0)
            bar = "#" * max(0, round(30 * b / top))
            echo(f"  {k:<24} {b:>7} → {a:>6}  {bar}")


__all__ = ["STAGES", "BuildConfig", "BuildError", "DataBuild", "print_histograms"]
