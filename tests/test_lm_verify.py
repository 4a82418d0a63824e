"""The verifier reading: log P(yes) - log P(no) after a question, on the cached prefix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes import LM_MIXED as MIXED
from tests.fakes import LM_TWO_TOOLS as TWO_TOOLS
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.errors import CheckpointError, ConfigurationError
from toolrm_agent.judges.trained.lm_scoring import VERIFY_QUESTION, LMScorer, chat_messages


def _full_pass_odds(scorer: LMScorer, ids: list[int]) -> float:
    import torch

    model, _ = scorer._load()
    yes, no = scorer.answer_ids()
    with torch.no_grad():
        row = model(torch.tensor([ids])).logits[0, -1].float()
    return float(torch.logsumexp(row[list(yes)], 0) - torch.logsumexp(row[list(no)], 0))


@pytest.mark.parametrize("tools", ["all", "called"])
def test_batched_verifier_odds_equal_one_full_pass_each(tiny_qwen_dir: Path, tools: str) -> None:
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", tools=tools)  # type: ignore[arg-type]
    odds = scorer.verify(TWO_TOOLS, MIXED)
    assert len(odds) == len(MIXED) and len(set(odds)) > 1
    for proposal, got in zip(MIXED, odds, strict=True):
        ids = scorer.prefix_ids(TWO_TOOLS, proposal, verify=True) + scorer.suffix_ids(proposal) + scorer.question_ids()
        assert got == pytest.approx(_full_pass_odds(scorer, ids), abs=1e-4)


def test_a_proposal_without_calls_is_verified_with_every_tool_listed(tiny_qwen_dir: Path) -> None:
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", tools="called")
    nothing = scorer.tokenizer.decode(scorer.prefix_ids(TWO_TOOLS, MIXED[3], verify=True))
    assert "get_weather" in nothing and "get_time" in nothing
    weather = scorer.tokenizer.decode(scorer.prefix_ids(TWO_TOOLS, MIXED[0], verify=True))
    assert "get_weather" in weather and "get_time" not in weather


def test_the_question_is_the_templates_own_and_the_same_for_every_context(tiny_qwen_dir: Path) -> None:
    scorer = LMScorer(tiny_qwen_dir, dtype="float32")
    text = scorer.question_text()
    assert VERIFY_QUESTION in text and text.count("<|im_start|>") == 2 and text.endswith("assistant\n")
    with_system = TWO_TOOLS.override(turns=(Turn(role="system", content="Be brief."), *TWO_TOOLS.turns))
    tok = scorer.tokenizer
    for context in (TWO_TOOLS, with_system, JudgeContext(turns=(Turn(role="user", content="Hi"),))):
        chat = [*chat_messages(context.turns), {"role": "assistant", "content": "(no function call)"},
                {"role": "user", "content": VERIFY_QUESTION}]
        tools = [s.to_openai() for s in context.tools] or None
        whole = tok.apply_chat_template(chat, tools=tools, tokenize=False, add_generation_prompt=True)
        assert whole.endswith("(no function call)<|im_end|>" + text)
    assert scorer.question_ids() == tok(text, add_special_tokens=False).input_ids


def test_yes_and_no_tokens_are_distinct(tiny_qwen_dir: Path) -> None:
    yes, no = LMScorer(tiny_qwen_dir).answer_ids()
    assert yes and no and not set(yes) & set(no)


def test_lik_verify_builds_scores_and_caches(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    from toolrm_agent.judges.likelihood import LikelihoodJudge
    from toolrm_agent.judges.loader import load_judge

    judge = load_judge(f"lik:{tiny_qwen_dir}?reading=verify&threshold=0.5", cache_dir=str(tmp_path))
    assert isinstance(judge, LikelihoodJudge) and judge.reading == "verify"
    first = judge.critique_many(TWO_TOOLS, MIXED)
    again = judge.critique_many(TWO_TOOLS, MIXED)  # from the disk cache
    assert [c.score for c in again] == [c.score for c in first]
    assert all(0.0 < c.score < 1.0 and c.accepted == (c.score >= 0.5) for c in first)
    assert all(c.usage.input_tokens > len(judge.reader.lm.question_ids()) for c in first)
    likelihood = load_judge(f"lik:{tiny_qwen_dir}", cache_dir=str(tmp_path))
    assert [c.score for c in likelihood.critique_many(TWO_TOOLS, MIXED)] != [c.score for c in first]


def test_an_unknown_reading_fails_at_construction(tiny_qwen_dir: Path) -> None:
    from toolrm_agent.judges.loader import load_judge

    with pytest.raises(ConfigurationError, match="likelihood, verify"):
        load_judge(f"lik:{tiny_qwen_dir}?reading=verifier")


def test_verifier_and_likelihood_cache_keys_differ(tiny_qwen_dir: Path) -> None:
    from toolrm_agent.judges.trained.trained import ReadingCache

    scorer = LMScorer(tiny_qwen_dir)
    prefix, suffix = scorer.prefix_ids(TWO_TOOLS, MIXED[0], verify=True), scorer.suffix_ids(MIXED[0])
    question = scorer.question_ids()
    keys = {ReadingCache.key("m", prefix, suffix), ReadingCache.key("m", prefix, suffix + question),
            ReadingCache.verify_key("m", prefix, suffix, question),
            ReadingCache.verify_key("m", prefix, suffix, question[:-1])}
    assert len(keys) == 4


def test_a_critic_reading_lm_verify_reads_one_column(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    import numpy as np

    from toolrm_agent.judges.trained.trained import CriticReader

    reader = CriticReader(features=False, relevance=False, lm_verify=True, base_model=str(tiny_qwen_dir),
                          cache_dir=tmp_path)
    x, hidden, _, _ = reader.inputs(TWO_TOOLS, MIXED)
    assert x.shape == (len(MIXED), 1) and hidden is None
    assert np.allclose(x[:, 0], LMScorer(tiny_qwen_dir).verify(TWO_TOOLS, MIXED), atol=1e-3)
    both = CriticReader(features=False, relevance=False, lm_stats=True, lm_verify=True,
                        base_model=str(tiny_qwen_dir), cache_dir=tmp_path)
    y, _, _, _ = both.inputs(TWO_TOOLS, MIXED)
    assert y.shape == (len(MIXED), 5) and np.allclose(y[:, 4], x[:, 0])


def test_lm_verify_through_a_server_fails_at_construction(tiny_qwen_dir: Path) -> None:
    from toolrm_agent.judges.trained.trained import CriticReader

    with pytest.raises(ConfigurationError, match="lm_verify"):
        CriticReader(features=False, relevance=False, lm_verify=True, base_model=str(tiny_qwen_dir),
                     lm_url="http://127.0.0.1:9/v1")


def test_a_manifest_must_name_the_verifier_column_it_reads(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    import numpy as np

    from toolrm_agent.judges.trained.trained import LM_VERIFY_NAMES, CriticManifest, TrainedJudge

    with pytest.raises(ValueError, match="lm_verify"):
        CriticManifest(features=False, relevance=False, lm_verify=True, input_names=["some_feature"])
    manifest = CriticManifest(features=False, relevance=False, lm_verify=True, base_model=str(tiny_qwen_dir),
                              encoder=None, input_names=list(LM_VERIFY_NAMES))
    (tmp_path / "critic.json").write_text(manifest.model_dump_json())
    np.savez(tmp_path / "head.npz", mean=np.zeros(1), std=np.ones(1), w1=np.ones((1, 2)), b1=np.zeros(2),
             w2=np.ones((2, 1)), b2=np.zeros(1))
    critic = TrainedJudge(tmp_path)
    assert critic.reader.lm_verify and len(critic.critique_many(TWO_TOOLS, MIXED)) == len(MIXED)
    data = json.loads((tmp_path / "critic.json").read_text())
    (tmp_path / "critic.json").write_text(json.dumps({**data, "input_names": []} | {"lm_verify": True,
                                                                                       "base_model": None}))
    with pytest.raises(CheckpointError, match="base_model"):
        TrainedJudge(tmp_path)
