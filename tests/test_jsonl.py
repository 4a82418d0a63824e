"""The one JSON-lines reader and writer (``toolrm_agent.core.jsonl``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.core.jsonl import json_lines, read_models, write_models


class Row(BaseModel):
    id: str
    n: int


class BadResults(ConfigurationError):
    pass


def test_blank_lines_are_skipped_and_values_kept_in_order() -> None:
    assert json_lines(['{"a": 1}', "", "  ", "[2]", '"x"'], source="f.jsonl") == [{"a": 1}, [2], "x"]


def test_a_bad_line_is_named_by_file_and_line_in_the_callers_error() -> None:
    with pytest.raises(ConfigurationError, match=r"^f\.jsonl:3: not a JSON line"):
        json_lines(['{"a": 1}', "", "{oops"], source="f.jsonl")
    with pytest.raises(BadResults, match="log:1"):
        json_lines(["nope"], source="log", error=BadResults)


def test_models_round_trip_and_the_write_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "rows.jsonl"
    assert write_models([Row(id="a", n=1), Row(id="b", n=2)], path) == 2
    assert write_models([Row(id="c", n=3)], path) == 1
    assert list(read_models(path, Row)) == [Row(id="c", n=3)]
    assert not list(tmp_path.glob("sub/*.tmp"))
