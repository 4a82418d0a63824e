"""LMScorer on a tiny real model: one cached prefix + a batch of suffixes = full passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrm_agent.calls import Proposal, ToolCall
from toolrm_agent.context import JudgeContext, Turn
from toolrm_agent.errors import CheckpointError
from toolrm_agent.judges.lm_scoring import LMScorer
from toolrm_agent.specs import ToolSpec

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
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", prefix_cache_size=1)
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
