"""DiscriminativeJudge on a tiny random Qwen2 reward model built by the test (no hub)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import torch

from tests.fakes import bfcl_doc, tiny_qwen2_config
from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.judges.trained.discriminative import (
    TOOLS_HEADER,
    DiscriminativeJudge,
    format_for_reward,
    reward_messages,
)

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
WEATHER = bfcl_doc(
    "get_weather", "Current weather for a city.", {"city": {"type": "string"}, "unit": {"type": "string"}}, ["city"]
)


def _tokenizer(chat_template: str | None):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    specials = ["<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = [
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
        "What is the weather in Paris? The assistant may call these functions: tools",
        "(no function call) system user assistant",
    ]
    tok.train_from_iterator(corpus * 5, trainer)
    from tokenizers import decoders

    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )
    if chat_template:
        fast.chat_template = chat_template
    return fast


def _checkpoint(path: Path, chat_template: str | None, seed: int = 0) -> Path:
    from transformers import Qwen2ForSequenceClassification

    tokenizer = _tokenizer(chat_template)
    config = tiny_qwen2_config(
        len(tokenizer), num_attention_heads=4, num_key_value_heads=2, num_labels=1, pad_token_id=tokenizer.pad_token_id
    )
    torch.manual_seed(seed)
    model = Qwen2ForSequenceClassification(config)
    with torch.no_grad():  # a visible spread of logits, so scores differ between inputs
        model.score.weight.normal_(0.0, 2.0)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def chat_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _checkpoint(tmp_path_factory.mktemp("rm_chat"), CHATML)


@pytest.fixture(scope="module")
def plain_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _checkpoint(tmp_path_factory.mktemp("rm_plain"), None)


@pytest.fixture()
def context() -> JudgeContext:
    return JudgeContext.build(
        [Turn(role="system", content="Be brief."), Turn(role="user", content="Weather in Paris?")],
        [WEATHER],
    )


def _proposals() -> list[Proposal]:
    return [
        Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Paris"}),)),
        Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Rome", "unit": "C"}),)),
        Proposal(content="It is sunny."),
        Proposal(calls=(ToolCall(name="get_time", arguments={}),)),
        Proposal(
            calls=(
                ToolCall(name="get_weather", arguments={"city": "Paris"}),
                ToolCall(name="get_weather", arguments={"city": "Lyon"}),
            )
        ),
    ]


# -- formatting ---------------------------------------------------------------------------


def test_reward_messages_layout(context: JudgeContext) -> None:
    prop = _proposals()[0]
    msgs = reward_messages(context, prop)
    assert [m["role"] for m in msgs] == ["system", "user", "assistant"]
    assert msgs[0]["content"].startswith(TOOLS_HEADER)
    assert '"name": "get_weather"' in msgs[0]["content"] and "Be brief." in msgs[0]["content"]
    assert msgs[-1]["content"] == prop.render()


def test_reward_messages_history_and_tool_results() -> None:
    call = ToolCall(id="c1", name="get_weather", arguments={"city": "Paris"})
    ctx = JudgeContext.build(
        [
            Turn(role="user", content="Weather in Paris?"),
            Turn(role="assistant", tool_calls=(call,)),
            Turn(role="tool", content='{"temp": 20}', tool_call_id="c1"),
        ],
        [WEATHER],
    )
    msgs = reward_messages(ctx, Proposal(content="20 degrees"))
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user", "assistant"]
    assert msgs[2]["content"] == Proposal(calls=(call,)).render()
    assert msgs[3]["content"] == '<tool_response>\n{"temp": 20}\n</tool_response>'
    assert msgs[4]["content"] == "(no function call)"


def test_format_uses_chat_template_when_present(context: JudgeContext) -> None:
    prop = _proposals()[0]
    with_template = format_for_reward(context, prop, _tokenizer(CHATML))
    plain = format_for_reward(context, prop, _tokenizer(None))
    assert with_template.startswith("<|im_start|>system\n")
    assert with_template.rstrip().endswith(f"{prop.render()}<|im_end|>")
    assert plain.startswith("### system\n") and "### assistant\n" + prop.render() in plain
    assert format_for_reward(context, prop) == plain  # no tokenizer → plain format


# -- the judge ----------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["chat_ckpt", "plain_ckpt"])
def test_scores_in_unit_interval_and_deterministic(
    fixture: str, request: pytest.FixtureRequest, context: JudgeContext
) -> None:
    judge = DiscriminativeJudge(request.getfixturevalue(fixture), batch_size=2)
    props = _proposals()
    first = judge.critique_many(context, props)
    again = judge.critique_many(context, props)
    scores = [c.score for c in first]
    assert len(first) == len(props)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == [c.score for c in again]
    assert len(set(round(s, 6) for s in scores)) > 1, "random head should separate inputs"
    # batching does not change the numbers: one at a time == batches of 2
    single = [judge.critique(context, p).score for p in props]
    assert single == pytest.approx(scores, abs=1e-5)
    assert all(c.usage.input_tokens > 0 and c.judge == judge.name for c in first)


def test_accept_threshold_and_call_verdicts(chat_ckpt: Path, context: JudgeContext) -> None:
    props = _proposals()
    scores = [c.score for c in DiscriminativeJudge(chat_ckpt).critique_many(context, props)]
    cut = sorted(scores)[len(scores) // 2]
    judge = DiscriminativeJudge(chat_ckpt, threshold=cut)
    for prop, critique in zip(props, judge.critique_many(context, props), strict=True):
        assert critique.accepted == (critique.score >= cut)
        assert [v.tool_call_id for v in critique.calls] == prop.ids
        assert all(v.ok == critique.accepted for v in critique.calls)
        assert (critique.text == "") == critique.accepted


def test_rank_and_compare_follow_scores(chat_ckpt: Path, context: JudgeContext) -> None:
    judge = DiscriminativeJudge(chat_ckpt, batch_size=3)
    props = _proposals()
    scores = [c.score for c in judge.critique_many(context, props)]
    ranking = judge.rank(context, props)
    assert list(ranking.scores) == pytest.approx(scores, abs=1e-5)
    assert [scores[i] for i in ranking.order] == sorted(scores, reverse=True)
    best, worst = ranking.order[0], ranking.order[-1]
    assert judge.compare(context, props[best], props[worst]).choice == 1
    assert judge.compare(context, props[worst], props[best]).choice == 2
    assert judge.compare(context, props[0], props[0]).choice is None  # a tie decides nothing
    assert asyncio.run(judge.arank(context, props)).order == ranking.order


def test_bad_checkpoint_and_arguments(tmp_path: Path, context: JudgeContext) -> None:
    with pytest.raises(ValueError, match="threshold"):
        DiscriminativeJudge(tmp_path, threshold=1.5)
    with pytest.raises(ValueError, match="batch_size"):
        DiscriminativeJudge(tmp_path, batch_size=0)
    with pytest.raises(FileNotFoundError, match="not a directory"):
        DiscriminativeJudge(tmp_path / "missing").critique(context, _proposals()[0])


def test_load_judge_builds_disc_with_options(chat_ckpt: Path, context: JudgeContext) -> None:
    from toolrm_agent.judges.loader import load_judge

    judge = load_judge(f"disc:{chat_ckpt}?threshold=0.25&batch_size=4")
    assert isinstance(judge, DiscriminativeJudge)
    assert judge.threshold == 0.25 and judge.batch_size == 4
    assert judge.name == f"disc:{chat_ckpt}?threshold=0.25&batch_size=4"
    assert 0.0 <= judge.critique(context, _proposals()[0]).score <= 1.0


def test_cascade_spec_with_a_real_reward_model(chat_ckpt: Path, context: JudgeContext) -> None:
    from toolrm_agent.judges import cascade as cascade_mod
    from toolrm_agent.judges.loader import load_judge

    judge = load_judge(f"cascade:schema,disc:{chat_ckpt}?threshold=0.0")
    assert isinstance(judge, cascade_mod.CascadeJudge)
    assert isinstance(judge.second, DiscriminativeJudge) and judge.second.threshold == 0.0
    verdict = judge.critique(context, _proposals()[0])
    assert verdict.accepted and 0.0 <= verdict.score <= 1.0
