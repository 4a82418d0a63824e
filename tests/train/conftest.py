"""Fixtures of the data-stage tests: a hand-made record, a finished data build
(built with the record and dataset builders of :mod:`tests.fakes`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import make_record, write_dataset
from train.records import TrainRecord


@pytest.fixture
def record() -> TrainRecord:
    return make_record()


@pytest.fixture(scope="session")
def pref_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small finished `toolrm data build` folder (records, pairs, parquet)."""
    from train.build import BuildConfig, DataBuild

    root = tmp_path_factory.mktemp("pref")
    src = write_dataset(root / "mydata", n=12)
    DataBuild(BuildConfig(sources=(str(src),), target_pairs=60), root / "out", echo=lambda _: None).run()
    return root / "out"
