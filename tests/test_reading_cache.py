"""The LM readings cache on disk: a row this version cannot read is a miss, never a failure."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from toolrm_agent.judges.trained.trained import ReadingCache


def test_a_reading_comes_back_as_it_was_stored(tmp_path: Path) -> None:
    cache = ReadingCache(tmp_path)
    key = ReadingCache.key("m", [1, 2], [3])
    assert cache.get(key) is None
    cache.put(key, {"logprobs": [-0.5, -1.25]})
    assert ReadingCache(tmp_path).get(key) == {"logprobs": [-0.5, -1.25]}


@pytest.mark.parametrize(
    "stored",
    [
        b"ctoolrm_agent_moved_away_module\nLMReading\n.",  # a class that lived elsewhere in an older version
        b"\x80\x04\x95",  # a row cut short
    ],
)
def test_an_unreadable_row_is_a_miss_and_is_made_again(
    tmp_path: Path, stored: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ReadingCache(tmp_path)
    keys = [ReadingCache.key("m", [i], [0]) for i in range(2)]
    for key in keys:
        cache._db.execute("insert into r values (?, ?)", (key, stored))
    with caplog.at_level(logging.WARNING):
        assert cache.get(keys[0]) is None and cache.get(keys[1]) is None
    assert len([r for r in caplog.records if "cannot be read" in r.getMessage()]) == 1  # said once
    cache.put(keys[0], "fresh")
    assert cache.get(keys[0]) == "fresh"
