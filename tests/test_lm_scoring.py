"""LMScorer on a tiny real model: one cached prefix + a batch of suffixes = full passes."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from tests.fakes import LM_MIXED as MIXED
from tests.fakes import LM_TWO_TOOLS as TWO_TOOLS
from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.errors import CheckpointError, ConfigurationError
from toolrm_agent.core.specs import ToolSpec
from toolrm_agent.judges.trained.lm_scoring import LMScorer

CONTEXT = JudgeContext(
    turns=(Turn(role="user", content="What is the weather in Paris?"),),
    tools=(ToolSpec(name="get_weather", description="Weather of a city",
                    parameters={"type": "object", "properties": {"city": {"type": "string"}},
                                "required": ["city"]}),),
)
PROPOSALS = [
    Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Paris"}),)),
    Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "a much longer made-up city"}),)),
    Proposal(),
]


def test_batched_readings_match_one_full_pass_each(tiny_qwen_dir: Path) -> None:
    import torch

    scorer = LMScorer(tiny_qwen_dir, dtype="float32")
    readings = scorer.read(CONTEXT, PROPOSALS)
    model, _ = scorer._load()
    prefix = scorer.prefix_ids(CONTEXT)
    for proposal, reading in zip(PROPOSALS, readings, strict=True):
        suffix = scorer.suffix_ids(proposal)
        with torch.no_grad():
            out = model(torch.tensor([prefix + suffix]), output_hidden_states=True)
        logprobs = out.logits[0].float().log_softmax(-1)
        lp = [float(logprobs[len(prefix) - 1 + i, t]) for i, t in enumerate(suffix)]
        assert reading.tokens == len(suffix)
        assert reading.mean_logprob == pytest.approx(sum(lp) / len(lp), abs=1e-4)
        assert reading.min_logprob == pytest.approx(min(lp), abs=1e-4)
        hidden = out.hidden_states[-1][0, len(prefix):].float()
        assert torch.allclose(torch.tensor(reading.hidden_last), hidden[-1], atol=1e-4)
        assert torch.allclose(torch.tensor(reading.hidden_mean), hidden.mean(0), atol=1e-4)


def test_the_prefix_cache_returns_the_same_readings(tiny_qwen_dir: Path) -> None:
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", prefix_cache_size=1, recent_readings=0)
    first = scorer.read(CONTEXT, PROPOSALS[:2])
    again = scorer.read(CONTEXT, PROPOSALS[:2])  # a hit: the stored cache must be unchanged
    assert [r.mean_logprob for r in again] == pytest.approx([r.mean_logprob for r in first], abs=1e-6)
    assert len(scorer._prefixes) == 1


def test_a_long_history_is_cut_from_the_oldest_turns(tiny_qwen_dir: Path) -> None:
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", max_prefix_tokens=420)
    long = CONTEXT.override(turns=(
        Turn(role="user", content="old question " * 100),
        Turn(role="assistant", content="old answer " * 100),
        Turn(role="user", content="What is the weather in Paris?"),
    ))
    ids = scorer.prefix_ids(long)
    text = scorer.tokenizer.decode(ids)
    assert len(ids) <= 420 and "Paris" in text and "get_weather" in text
    assert "old answer" not in text


def test_a_prefix_too_long_even_alone_keeps_its_start_and_end(tiny_qwen_dir: Path) -> None:
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", max_prefix_tokens=200)
    ids = scorer.prefix_ids(CONTEXT)
    full = scorer.tokenizer(scorer.prefix_text(CONTEXT), add_special_tokens=False).input_ids
    assert len(ids) == 200 and ids[:100] == full[:100] and ids[-100:] == full[-100:]


def test_a_missing_model_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError):
        LMScorer(tmp_path / "nope")


def test_called_tools_prefix_lists_only_what_the_proposal_calls(tiny_qwen_dir: Path) -> None:
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", tools="called")
    weather = scorer.tokenizer.decode(scorer.prefix_ids(TWO_TOOLS, MIXED[0]))
    assert "get_weather" in weather and "get_time" not in weather
    nothing = scorer.tokenizer.decode(scorer.prefix_ids(TWO_TOOLS, MIXED[3]))
    assert "get_weather" not in nothing and "Paris" in nothing
    every = LMScorer(tiny_qwen_dir, dtype="float32")  # "all": one prefix for every proposal
    assert every.prefix_ids(TWO_TOOLS, MIXED[0]) == every.prefix_ids(TWO_TOOLS, MIXED[3])


def test_grouped_readings_equal_one_proposal_at_a_time(tiny_qwen_dir: Path) -> None:
    """Proposals that share a prefix are read in one batch; the readings equal separate passes."""
    import numpy as np

    scorer = LMScorer(tiny_qwen_dir, dtype="float32", tools="called")
    together = scorer.read(TWO_TOOLS, MIXED)
    fresh = LMScorer(tiny_qwen_dir, dtype="float32", tools="called", recent_readings=0)
    alone = [fresh.read(TWO_TOOLS, [p])[0] for p in MIXED]
    for a, b in zip(together, alone, strict=True):
        assert a.prefix_tokens == b.prefix_tokens
        assert a.mean_logprob == pytest.approx(b.mean_logprob, abs=1e-4)
        assert np.allclose(a.hidden_last, b.hidden_last, atol=1e-4)
    assert together[0].prefix_tokens == together[2].prefix_tokens != together[1].prefix_tokens


def test_unknown_tool_scope_fails_at_construction(tiny_qwen_dir: Path) -> None:
    from toolrm_agent.core.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        LMScorer(tiny_qwen_dir, tools="some")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="recent_readings"):
        LMScorer(tiny_qwen_dir, recent_readings=-1)


def test_the_end_of_turn_token_is_looked_up_once(tiny_qwen_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``get_vocab()`` copies the whole vocabulary: reading proposals must not call it per proposal."""
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", tools="called")
    tok = scorer.tokenizer
    looked_up: list[int] = []
    real = tok.get_vocab
    monkeypatch.setattr(tok, "get_vocab", lambda: looked_up.append(1) or real())
    first = scorer.read(TWO_TOOLS, MIXED)
    again = scorer.read(TWO_TOOLS, MIXED)
    assert len(looked_up) == 1
    assert scorer.suffix_ids(MIXED[0])[-1] == tok.convert_tokens_to_ids("<|im_end|>")
    assert [r.mean_logprob for r in again] == pytest.approx([r.mean_logprob for r in first], abs=1e-6)


def test_a_proposal_read_again_returns_its_reading_without_a_pass(tiny_qwen_dir: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """best-of-N ranks the candidates, then critiques the winner: the second read is the first's."""
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", tools="called", recent_readings=2)
    ranked = scorer.read(TWO_TOOLS, MIXED[:2])  # two prefixes: the two tools
    passes: list[int] = []
    real = scorer.read_on_prefix
    monkeypatch.setattr(scorer, "read_on_prefix", lambda prefix, ps: passes.append(len(ps)) or real(prefix, ps))
    assert scorer.read(TWO_TOOLS, [MIXED[1]]) == [ranked[1]] and passes == []
    scorer.read(TWO_TOOLS, [MIXED[2]])  # a third proposal: the oldest reading is let go
    assert passes == [1]
    scorer.read(TWO_TOOLS, [MIXED[0]])
    assert passes == [1, 1]
    other = JudgeContext(turns=(Turn(role="user", content="And in Rome?"),), tools=TWO_TOOLS.tools)
    scorer.read(other, [MIXED[2]])  # the same proposal in another context: read again
    assert passes == [1, 1, 1]


def _prefix_pass_lengths(scorer: LMScorer, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The token counts of the prefix passes ``scorer``'s model runs from now on (the passes that
    keep only the last position's logits)."""
    model, _ = scorer._load()
    lengths: list[int] = []
    real = model.forward

    def spy(*args: object, **kwargs: object) -> object:
        if kwargs.get("logits_to_keep") == 1:
            lengths.append(int(kwargs["input_ids"].shape[1]))  # type: ignore[attr-defined]
        return real(*args, **kwargs)

    monkeypatch.setattr(model, "forward", spy)
    return lengths


def test_a_prefix_that_begins_like_a_kept_one_runs_only_the_rest(tiny_qwen_dir: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The next step of a conversation extends the last step's prefix; another conversation shares
    the template's system turn and tool preamble. Either runs from where it parts from the kept
    prefix, and reads what a scorer that kept nothing reads."""
    import numpy as np

    scorer = LMScorer(tiny_qwen_dir, dtype="float32", recent_readings=0)
    lengths = _prefix_pass_lengths(scorer, monkeypatch)
    scorer.read(CONTEXT, PROPOSALS[:1])
    first = len(scorer.prefix_ids(CONTEXT))
    call = ToolCall(name="get_weather", arguments={"city": "Paris"})
    later = CONTEXT.override(turns=(*CONTEXT.turns, Turn(role="assistant", tool_calls=(call,)),
                                    Turn(role="tool", content="sunny, 21 C", tool_call_id=call.id),
                                    Turn(role="user", content="And in Rome?")))
    other = CONTEXT.override(turns=(Turn(role="user", content="Is it raining in Oslo today?"),))
    assert scorer.prefix_ids(later)[:first] == scorer.prefix_ids(CONTEXT)
    steps = [later, other, CONTEXT]  # CONTEXT again: its cache was let go (prefix_cache_size=1 below)
    scorer.prefix_cache_size = 1
    for context in steps:
        got = scorer.read(context, PROPOSALS)
        fresh = LMScorer(tiny_qwen_dir, dtype="float32", recent_readings=0).read(context, PROPOSALS)
        for a, b in zip(got, fresh, strict=True):
            assert a.mean_logprob == pytest.approx(b.mean_logprob, abs=1e-5)
            assert a.min_logprob == pytest.approx(b.min_logprob, abs=1e-5)
            assert np.allclose(a.hidden_mean, b.hidden_mean, atol=1e-5)
    full = [len(scorer.prefix_ids(c)) for c in (CONTEXT, *steps)]
    assert lengths[0] == full[0] == first
    assert lengths[1] == full[1] - first  # the step after: only its new turns
    assert 8 <= full[2] - lengths[2] < full[2]  # another question: the template's start is shared
    assert lengths[3] < full[3]


def test_a_prefix_inside_a_kept_one_runs_its_last_token(tiny_qwen_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A prefix the kept one begins with still runs one token: its logits read the first proposal token."""
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", recent_readings=0)
    call = ToolCall(name="get_weather", arguments={"city": "Paris"})
    later = CONTEXT.override(turns=(*CONTEXT.turns, Turn(role="assistant", tool_calls=(call,)),
                                    Turn(role="tool", content="sunny", tool_call_id=call.id)))
    scorer.read(later, PROPOSALS[:1])
    lengths = _prefix_pass_lengths(scorer, monkeypatch)
    got = scorer.read(CONTEXT, PROPOSALS)
    fresh = LMScorer(tiny_qwen_dir, dtype="float32", recent_readings=0).read(CONTEXT, PROPOSALS)
    assert lengths == [1]
    assert [r.sum_logprob for r in got] == pytest.approx([r.sum_logprob for r in fresh], abs=1e-5)


def test_skipping_the_tags_reads_the_proposal_text_only(tiny_qwen_dir: Path) -> None:
    """``tags="skip"``: the statistics over the tokens that are not the tokenizer's added tokens (the
    end-of-turn token here); the log-probabilities themselves are those of one full pass."""
    import torch

    skip = LMScorer(tiny_qwen_dir, dtype="float32", tags="skip", recent_readings=0)
    read = LMScorer(tiny_qwen_dir, dtype="float32", recent_readings=0)
    model, tok = skip._load()
    tags = {int(i) for i in tok.added_tokens_decoder}
    assert skip.skipped_ids() == tags and read.skipped_ids() == frozenset()
    prefix = skip.prefix_ids(CONTEXT)
    for proposal, got, full in zip(PROPOSALS, skip.read(CONTEXT, PROPOSALS), read.read(CONTEXT, PROPOSALS),
                                   strict=True):
        suffix = skip.suffix_ids(proposal)
        with torch.no_grad():
            logprobs = model(torch.tensor([prefix + suffix])).logits[0].float().log_softmax(-1)
        lp = [float(logprobs[len(prefix) - 1 + i, t]) for i, t in enumerate(suffix)]
        kept = [v for t, v in zip(suffix, lp, strict=True) if t not in tags] or lp  # no text: every token
        assert suffix[-1] in tags and full.tokens == len(suffix)
        assert got.tokens == len(kept) and (got.tokens < len(suffix) or not proposal.calls)
        assert got.sum_logprob == pytest.approx(sum(kept), abs=1e-4)
        assert got.min_logprob == pytest.approx(min(kept), abs=1e-4)
        assert got.mean_logprob == pytest.approx(sum(kept) / len(kept), abs=1e-4)
    with pytest.raises(ConfigurationError, match="tags"):
        LMScorer(tiny_qwen_dir, tags="none")  # type: ignore[arg-type]


def test_readings_with_and_without_the_tags_are_cached_apart(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    """A reading cache filled by a critic that counts the tags never answers one that skips them."""
    from toolrm_agent.judges.trained.trained import CriticReader

    def reader(tags: Literal["read", "skip"]) -> CriticReader:
        return CriticReader(features=False, relevance=False, lm_stats=True, base_model=str(tiny_qwen_dir),
                            cache_dir=tmp_path, lm_tags=tags)

    counted = reader("read").lm_readings(CONTEXT, PROPOSALS[:1])[0]
    skipped = reader("skip").lm_readings(CONTEXT, PROPOSALS[:1])[0]
    assert skipped.tokens == counted.tokens - 1
    assert reader("read").lm_readings(CONTEXT, PROPOSALS[:1])[0].tokens == counted.tokens
