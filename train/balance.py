"""Stage 4 of ``toolrm data build``: balanced multi-dimensional sampling of the pairs.

A pair falls in one cell of three dimensions: the record's **task complexity**
(simple, multiple, parallel, parallel_multiple, multi_turn, irrelevance), the
**preference intensity** (the score gap between chosen and rejected, binned: ``low``
up to 1/3, ``mid`` up to 2/3, ``high`` above) and the **data source**. The target is
shared equally among the cells; a cell with fewer pairs than its share gives all it has
and the rest goes to the other cells, harder cells (lower intensity) first. Inside a
cell the pairs are drawn with a seeded shuffle that takes one pair per record before a
second from any record, so no single record dominates.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence

from train.pairs import TrainPair

INTENSITY_BINS: tuple[tuple[str, float], ...] = (("low", 1 / 3), ("mid", 2 / 3), ("high", 1.0))
_HARDNESS = {name: i for i, (name, _) in enumerate(INTENSITY_BINS)}

Cell = tuple[str, str, str]
"""(complexity, intensity, source)"""


def intensity(gap: float) -> str:
    for name, upper in INTENSITY_BINS:
        if gap <= upper + 1e-9:
            return name
    return INTENSITY_BINS[-1][0]


def cell_of(pair: TrainPair) -> Cell:
    return (pair.complexity, intensity(pair.gap), pair.source)


def _spread(pairs: list[TrainPair], rng: random.Random) -> list[TrainPair]:
    """Seeded shuffle, then round-robin over records (first pair of each record first)."""
    rng.shuffle(pairs)
    seen: Counter[str] = Counter()
    ranked = []
    for p in pairs:
        ranked.append((seen[p.record_id], p))
        seen[p.record_id] += 1
    return [p for _, p in sorted(ranked, key=lambda x: x[0])]


def allocate(sizes: dict[Cell, int], target: int) -> dict[Cell, int]:
    """How many pairs each cell gives (water-filling; harder cells first on leftovers)."""
    quota = {c: 0 for c in sizes}
    left = min(target, sum(sizes.values()))
    active = sorted((c for c in sizes if sizes[c] > 0), key=lambda c: (_HARDNESS[c[1]], c))
    while left > 0 and active:
        share = max(1, left // len(active))
        still: list[Cell] = []
        for c in active:
            if left == 0:
                break
            take = min(share, sizes[c] - quota[c], left)
            quota[c] += take
            left -= take
            if quota[c] < sizes[c]:
                still.append(c)
        active = still
    return quota


def balance(pairs: Sequence[TrainPair], target: int, seed: int = 0) -> list[TrainPair]:
    """At most ``target`` pairs, balanced over the cells (see the module docstring)."""
    if target <= 0:
        raise ValueError(f"target pairs must be > 0, got {target}")
    cells: dict[Cell, list[TrainPair]] = defaultdict(list)
    for p in pairs:
        cells[cell_of(p)].append(p)
    quota = allocate({c: len(v) for c, v in cells.items()}, target)
    out: list[TrainPair] = []
    for c in sorted(cells):
        rng = random.Random(f"{seed}|balance|{'/'.join(c)}")
        out.extend(_spread(list(cells[c]), rng)[: quota[c]])
    random.Random(f"{seed}|balance|order").shuffle(out)
    return out


def histograms(pairs: Sequence[TrainPair]) -> dict[str, dict[str, int]]:
    """Pair counts along each dimension."""
    dims: dict[str, Counter[str]] = {
        "complexity": Counter(),
        "intensity": Counter(),
        "source": Counter(),
        "rejected_origin": Counter(),
    }
    for p in pairs:
        complexity, inten, source = cell_of(p)
        dims["complexity"][complexity] += 1
        dims["intensity"][inten] += 1
        dims["source"][source] += 1
        dims["rejected_origin"][p.rejected.origin] += 1
    return {k: dict(sorted(v.items())) for k, v in dims.items()}


__all__ = ["INTENSITY_BINS", "allocate", "balance", "cell_of", "histograms", "intensity"]
