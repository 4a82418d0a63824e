"""``toolrm data merge``: build folders become one training folder, every record and pair once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fakes import make_record
from toolrm_agent.core.calls import Proposal, ToolCall
from train.merge import MergeError, merge_builds
from train.pairs import ScoredCandidate, TrainPair, read_pairs, write_pairs
from train.records import TrainRecord, read_records, write_records


def _pair(record: TrainRecord, origin: str) -> TrainPair:
    right = Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Paris"}),))
    wrong = Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Lyon"}),))
    return TrainPair(
        id=f"{record.id}|{origin}", record_id=record.id, source=record.source, complexity="simple",
        chosen=ScoredCandidate(origin="ground_truth", proposal=right, score=1.0, message=""),
        rejected=ScoredCandidate(origin=origin, proposal=wrong, score=0.0, message="wrong city"),
    )


def _build(folder: Path, records: list[TrainRecord], origin: str) -> Path:
    folder.mkdir(parents=True)
    write_records(records, folder / "records.jsonl")
    write_pairs([_pair(r, origin) for r in records], folder / "pairs.jsonl")
    return folder


def test_records_and_pairs_are_kept_once_and_counted(tmp_path: Path) -> None:
    shared = make_record("t/s/0/0")
    a = _build(tmp_path / "a", [shared, make_record("t/s/0/1")], "corruption:swap_values")
    b = _build(tmp_path / "b", [shared, make_record("t/s/0/2")], "policy:llamacpp:default")
    stats = merge_builds([a, b], tmp_path / "ab", echo=lambda _: None)
    assert [r.id for r in read_records(tmp_path / "ab" / "records.jsonl")] == ["t/s/0/0", "t/s/0/1", "t/s/0/2"]
    pairs = list(read_pairs(tmp_path / "ab" / "pairs.jsonl"))
    assert len(pairs) == 4  # the shared record's pairs differ by origin: both stay
    assert stats["inputs"][str(b)] == {"records": 1, "pairs": 2}
    assert stats["rejected_origin"] == {"corruption:swap_values": 2, "policy:llamacpp:default": 2}
    assert json.loads((tmp_path / "ab" / "stats.json").read_text()) == stats
    assert (tmp_path / "ab" / "disc.parquet").is_file() and (tmp_path / "ab" / "genrm.parquet").is_file()


def test_a_record_with_two_contents_is_an_error(tmp_path: Path) -> None:
    a = _build(tmp_path / "a", [make_record("t/s/0/0")], "corruption:swap_values")
    b = _build(tmp_path / "b", [make_record("t/s/0/0", text="Weather in Rome?")], "corruption:swap_values")
    with pytest.raises(MergeError, match="differs"):
        merge_builds([a, b], tmp_path / "ab", echo=lambda _: None)
    with pytest.raises(MergeError, match="has no records.jsonl"):
        merge_builds([a, tmp_path], tmp_path / "ab", echo=lambda _: None)
    with pytest.raises(MergeError, match="one of the inputs"):
        merge_builds([a, b], a, echo=lambda _: None)


def test_keep_first_leaves_the_later_record_out_with_its_pairs(tmp_path: Path) -> None:
    """Two builds' far irrelevance variants share an id and differ in the tools their seed drew."""
    first = make_record("t/s/0/0#irrelevant-far")
    later = make_record("t/s/0/0#irrelevant-far", text="Weather in Rome?")
    a = _build(tmp_path / "a", [first], "corruption:swap_values")
    b = _build(tmp_path / "b", [later, make_record("t/s/0/2")], "policy:llamacpp:qwen1.5b")
    lines: list[str] = []
    stats = merge_builds([a, b], tmp_path / "ab", on_conflict="keep-first", echo=lines.append)
    assert list(read_records(tmp_path / "ab" / "records.jsonl")) == [first, make_record("t/s/0/2")]
    pairs = list(read_pairs(tmp_path / "ab" / "pairs.jsonl"))
    # the later build's pair on its own version of the record is not fitted to the first's
    assert [p.id for p in pairs] == [f"{first.id}|corruption:swap_values", "t/s/0/2|policy:llamacpp:qwen1.5b"]
    assert stats["inputs"][str(b)] == {"records": 1, "pairs": 1, "conflicting_records_left_out": 1, "their_pairs": 1}
    assert "1 records left out" in lines[1]
    with pytest.raises(MergeError, match="keep-first"):
        merge_builds([a, b], tmp_path / "ab2", echo=lambda _: None)
    with pytest.raises(MergeError, match="on_conflict must be"):
        merge_builds([a, b], tmp_path / "ab2", on_conflict="newest", echo=lambda _: None)  # type: ignore[arg-type]


def test_the_inputs_lm_readings_come_along(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Training on a merge of read builds reads nothing again: the merge carries their readings."""
    import numpy as np

    from train.disc.cached import carry_readings, lm_cache_dir, read_record_ids, verify_cache

    monkeypatch.setenv("TOOLRM_CACHE", str(tmp_path / "cache"))
    a = _build(tmp_path / "a", [make_record("t/s/0/1")], "corruption:swap_values")
    b = _build(tmp_path / "b", [make_record("t/s/0/2")], "corruption:swap_values")
    c = _build(tmp_path / "c", [make_record("t/s/0/3")], "corruption:swap_values")
    for folder, rid, settings in ((a, "t/s/0/1", "mean"), (b, "t/s/0/2", "mean"), (c, "t/s/0/3", "last")):
        cache = lm_cache_dir(folder, "default", "called")
        verify_cache(cache).mkdir(parents=True)
        (cache / "readings.json").write_text(json.dumps({"hidden": settings}))
        np.savez(cache / "shard_w0_00000.npz", records=np.array([rid]), keys=np.array([f"{rid}-key"]))
    np.savez(verify_cache(lm_cache_dir(a, "default", "called")) / "shard_w0_00000.npz",
             records=np.array(["t/s/0/1"]), keys=np.array(["t/s/0/1-key"]))
    lines: list[str] = []
    merge_builds([a, b, c], tmp_path / "abc", echo=lines.append)
    merged = lm_cache_dir(tmp_path / "abc", "default", "called")
    # c's readings were made with other settings: they would not mix with a's and b's
    assert read_record_ids(merged) == {"t/s/0/1", "t/s/0/2"}
    assert read_record_ids(verify_cache(merged)) == {"t/s/0/1"}
    assert json.loads((merged / "readings.json").read_text()) == {"hidden": "mean"}
    assert any("not carried" in line for line in lines)
    assert any("carried 3 LM readings shards" in line for line in lines)
    assert carry_readings([a, b], tmp_path / "abc", echo=lambda _: None) == 0  # already there: nothing twice


def test_the_cli_merges(tmp_path: Path) -> None:
    from train.data_cli import app

    a = _build(tmp_path / "a", [make_record("t/s/0/1")], "corruption:swap_values")
    b = _build(tmp_path / "b", [make_record("t/s/0/2")], "corruption:swap_values")
    result = CliRunner().invoke(app, ["merge", "--from", str(a), "--from", str(b), "--out", str(tmp_path / "ab")])
    assert result.exit_code == 0, result.output
    assert "wrote 2 records and 2 pairs" in result.output
    bad = CliRunner().invoke(app, ["merge", "--from", str(a), "--from", str(b), "--out", str(tmp_path / "x"),
                                   "--on-conflict", "newest"])
    assert bad.exit_code == 2 and "--on-conflict" in bad.output


def test_a_merged_record_fits_only_the_pairs_whose_candidates_were_read(tmp_path: Path) -> None:
    """A record in two builds was read for one of them: the other build's pairs on it are left out."""
    import numpy as np

    from train.disc.cached import _usable_pairs, candidate_key

    record = make_record("t/s/0/0")
    ours = _pair(record, "corruption:swap_values")
    theirs = ours.model_copy(update={"id": "other", "rejected": ours.rejected.model_copy(
        update={"proposal": Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Nice"}),))})})
    cache = tmp_path / "lm"
    cache.mkdir()
    keys = [candidate_key(record.id, p.proposal) for p in (ours.chosen, ours.rejected)]
    np.savez(cache / "shard_w0_00000.npz", records=np.array([record.id]), keys=np.array(keys))
    lines: list[str] = []
    assert [p.id for p in _usable_pairs([ours, theirs], [cache], lines.append)] == [ours.id]
    assert "1 of 2 pairs whose candidates were read" in lines[0]
