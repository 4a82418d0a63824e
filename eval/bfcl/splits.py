"""The dev / test split of recorded models: choose on one half, report once on the other.

Every choice about a critic (its inputs, its training data, its thresholds, which one
ships) is made on the ``dev`` models' recorded answers; the ``test`` models are read once,
at the end, for the figures we report. A model and its function-calling twin
(``gpt-4o-2024-05-13`` and ``gpt-4o-2024-05-13-FC``) answer alike, so the split is by
**family**: the model name less its ``-FC``/``-FC-Any``/``-FC-Auto`` suffix. A family goes
to ``dev`` or ``test`` by a hash of its name (stable across machines and Python runs),
balanced so that the two halves hold about as many models each.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Literal, TypeVar

__all__ = ["SPLITS", "Split", "family", "split_of", "select_split"]

Split = Literal["all", "dev", "test"]
SPLITS: tuple[Split, ...] = ("all", "dev", "test")

_FC_SUFFIX = re.compile(r"-(?:FC|fc)(?:-(?:Any|Auto|any|auto))?$")
_SALT = "toolrm-split-v1"

T = TypeVar("T")


def family(model: str) -> str:
    """The model's family: its name without the function-calling suffix."""
    return _FC_SUFFIX.sub("", model)


def _key(name: str) -> str:
    return hashlib.sha256(f"{_SALT}|{name}".encode()).hexdigest()


def split_of(model: str, models: Sequence[str] | None = None) -> Literal["dev", "test"]:
    """``dev`` or ``test`` for one model.

    With ``models`` (every model being split), families are ordered by hash and dealt
    alternately, so the halves are balanced; without it, the hash's parity decides.
    """
    fam = family(model)
    if models is None:
        return "dev" if int(_key(fam), 16) % 2 == 0 else "test"
    families = sorted({family(m) for m in models} | {fam}, key=_key)
    return "dev" if families.index(fam) % 2 == 0 else "test"


def select_split(items: Sequence[T], split: Split, name: str = "model") -> list[T]:
    """The items (objects with a ``model`` attribute, or names) in ``split``."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if split == "all":
        return list(items)

    def model_of(item: T) -> str:
        return item if isinstance(item, str) else str(getattr(item, name))

    names = [model_of(i) for i in items]
    families = sorted({family(m) for m in names}, key=_key)  # dealt once, as split_of deals them
    side = {fam: "dev" if k % 2 == 0 else "test" for k, fam in enumerate(families)}
    return [i for i, m in zip(items, names, strict=True) if side[family(m)] == split]
