"""Dataset readers: each turns one dataset folder into :class:`TrainRecord` objects.

:data:`READERS` maps a dataset folder name to its reader (``read(path)``); ``openai``
reads a user's dataset of JSON lines in the OpenAI tools format (or already in the
record shape). :func:`discover` finds the datasets under the given paths.

The readers only translate: they skip what the record cannot represent and leave the
quality filters (ground truth against its own schema, calls after an error, repeated
calls, duplicates, BFCL leaks) to the stage after them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from toolrm_agent.core.errors import TrainingError
from train.records import TrainRecord
from train.sources import hammerbench, nestful, openai_format, seal_tools, toolalpaca, toolrl

Reader = Callable[[Path], Iterator[TrainRecord]]

READERS: dict[str, Reader] = {
    "hammerbench": hammerbench.read,
    "seal-tools": seal_tools.read,
    "nestful": nestful.read,
    "toolrl": toolrl.read,
    "toolalpaca": toolalpaca.read,
    "openai": openai_format.read,
}
OPENAI = "openai"


def _kind(path: Path) -> str | None:
    """The reader a dataset folder (or JSON-lines file) needs; None when it is not one."""
    if path.is_dir() and path.name in READERS and path.name != OPENAI:
        return path.name
    if path.is_file() and path.name.endswith((".jsonl", ".jsonl.gz")):
        return OPENAI
    if path.is_dir() and openai_format.files(path):
        return OPENAI
    return None


def discover(paths: Sequence[Path]) -> list[tuple[str, Path]]:
    """``(reader name, path)`` for every dataset under ``paths``.

    A path is a dataset folder (its name is a key of :data:`READERS`, or it holds
    ``*.jsonl`` files in the OpenAI format) or a folder of dataset folders (every child
    that is a dataset, sorted by name). Anything else raises ``ValueError``.
    """
    found: list[tuple[str, Path]] = []
    for path in map(Path, paths):
        kind = _kind(path)
        if kind is not None:
            found.append((kind, path))
            continue
        children = sorted(path.iterdir()) if path.is_dir() else []
        datasets = [(k, c) for c in children if c.is_dir() and (k := _kind(c)) is not None]
        if not datasets:
            raise TrainingError(
                f"{path}: not a dataset folder nor a folder of datasets "
                f"(known: {', '.join(sorted(READERS))}; or *.jsonl files in the OpenAI format)"
            )
        found.extend(datasets)
    return found


def read_source(name: str, path: Path) -> Iterator[TrainRecord]:
    """The records of the dataset at ``path`` read with the reader ``name``."""
    try:
        reader = READERS[name]
    except KeyError:
        raise TrainingError(
            f"unknown dataset {name!r} (known: {', '.join(sorted(READERS))})"
        ) from None
    return reader(Path(path))


__all__ = ["READERS", "Reader", "discover", "read_source"]
