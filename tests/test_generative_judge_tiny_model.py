"""GenerativeJudge on a tiny *real* transformers model (random weights, built offline).

The model writes garbage; the judge must turn it into the configured policy's verdict
(never an exception, unless the policy is ``raise``). The chat model wrapper is written
here, because ``langchain-huggingface`` is not a dependency: it renders a small ChatML
template with ``apply_chat_template`` (so ``enable_thinking`` reaches the template like on a
Qwen3 server), samples with a fixed seed per call (greedy decoding of random weights only
repeats one token) and reports token usage.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import tokenizers
import torch
import transformers
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, Field

from tests.fakes import tiny_qwen2_config
from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.errors import JudgeParseError
from toolrm_agent.core.verdicts import IssueCode
from toolrm_agent.judges.generative.answers import parse_choice, parse_verdict
from toolrm_agent.judges.generative.generative import GenerativeJudge

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and not enable_thinking %}<think>\n\n</think>\n\n{% endif %}"
    "{% endif %}"
)
CORPUS = [
    "The quick brown fox jumps over the lazy dog while the weather in Paris stays mild.",
    "def get_weather(city: str, unit: str) -> dict: return a forecast for the city",
    '{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}',
    "system user assistant tool conversation functions schema arguments values",
] * 4


def _tiny_tokenizer() -> Any:
    tok = tokenizers.Tokenizer(tokenizers.models.BPE(unk_token=None))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    fast.chat_template = CHATML
    return fast


class TinyChatModel(BaseChatModel):
    """A minimal LangChain chat model over a transformers causal LM."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    lm: Any
    tokenizer: Any
    max_new_tokens: int = 24
    max_prompt_tokens: int = 384
    seed: int = 0
    template_kwargs_seen: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "tiny-transformers"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        chat_template_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.template_kwargs_seen.append(dict(chat_template_kwargs or {}))
        role = {"human": "user", "ai": "assistant", "system": "system"}
        chat = [{"role": role.get(m.type, "user"), "content": str(m.content)} for m in messages]
        prompt = self.tokenizer.apply_chat_template(
            chat, tokenize=False, add_generation_prompt=True, **(chat_template_kwargs or {})
        )
        ids = self.tokenizer(prompt, return_tensors="pt").input_ids[:, -self.max_prompt_tokens :]
        torch.manual_seed(self.seed + len(self.template_kwargs_seen))
        with torch.no_grad():
            out = self.lm.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=self.max_new_tokens,
                do_sample=True,
                top_k=0,
                pad_token_id=self.tokenizer.pad_token_id,
            )
        new = out[0, ids.shape[1] :]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        usage = {
            "input_tokens": int(ids.shape[1]),
            "output_tokens": int(new.shape[0]),
            "total_tokens": int(ids.shape[1] + new.shape[0]),
        }
        message = AIMessage(content=text, usage_metadata=usage)  # type: ignore[arg-type]
        return ChatResult(generations=[ChatGeneration(message=message)])


@pytest.fixture(scope="module")
def tiny_model() -> Iterator[TinyChatModel]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 64-wide model is slower on several threads of a busy machine
    torch.manual_seed(0)
    tokenizer = _tiny_tokenizer()
    config = tiny_qwen2_config(
        len(tokenizer), hidden_size=64, intermediate_size=128, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=1024, tie_word_embeddings=True,
    )
    lm = transformers.Qwen2ForCausalLM(config).eval()
    yield TinyChatModel(lm=lm, tokenizer=tokenizer)
    torch.set_num_threads(threads)


CONTEXT = JudgeContext.build(
    [Turn(role="user", content="What is the weather in Paris, in celsius?")],
    [
        {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "parameters": {
                "type": "dict",
                "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
                "required": ["city"],
            },
        }
    ],
)
GOOD = Proposal(
    calls=(ToolCall(id="c1", name="get_weather", arguments={"city": "Paris", "unit": "celsius"}),)
)
BAD = Proposal(calls=(ToolCall(id="c2", name="get_weather", arguments={"city": "London"}),))


def test_garbage_critique_fail_open_accepts(tiny_model: TinyChatModel) -> None:
    judge = GenerativeJudge(tiny_model, on_unparseable="fail_open", backoff_s=0.0)
    critique = judge.critique(CONTEXT, GOOD)
    assert critique.raw_output is not None and parse_verdict(critique.raw_output).accepted is None
    assert critique.accepted and critique.status == "unparseable"
    assert critique.codes == [IssueCode.JUDGE_UNPARSEABLE]
    assert [v.tool_call_id for v in critique.calls] == ["c1"]
    assert critique.usage.input_tokens > 0 and critique.usage.output_tokens > 0
    # the chat template got the thinking switch (auto-detected from _generate's signature)
    assert tiny_model.template_kwargs_seen[-1] == {"enable_thinking": False}


def test_garbage_critique_fail_closed_rejects(tiny_model: TinyChatModel) -> None:
    judge = GenerativeJudge(tiny_model, on_unparseable="fail_closed", thinking=True)
    critique = judge.critique(CONTEXT, BAD)
    assert not critique.accepted and critique.status == "unparseable"
    assert "could not judge" in critique.text
    assert tiny_model.template_kwargs_seen[-1] == {"enable_thinking": True}


def test_garbage_critique_raise_policy(tiny_model: TinyChatModel) -> None:
    judge = GenerativeJudge(tiny_model, on_unparseable="raise")
    with pytest.raises(JudgeParseError) as info:
        judge.critique(CONTEXT, GOOD)
    assert info.value.post_mortem is not None and info.value.post_mortem.attempts == 2


def test_garbage_compare_gives_no_choice(tiny_model: TinyChatModel) -> None:
    judge = GenerativeJudge(tiny_model, on_unparseable="fail_closed")
    pref = judge.compare(CONTEXT, GOOD, BAD)
    assert all(parse_choice(raw) is None for raw in pref.raw_outputs)
    assert pref.choice is None and pref.votes == (None, None) and pref.status == "unparseable"
    assert pref.usage.output_tokens > 0


async def test_garbage_async_critique_and_rank(tiny_model: TinyChatModel) -> None:
    judge = GenerativeJudge(tiny_model, on_unparseable="fail_open", max_attempts=1)
    critique = await judge.acritique(CONTEXT, BAD)
    assert critique.accepted and critique.status == "unparseable"
    ranking = await judge.arank(CONTEXT, [GOOD, BAD])
    assert ranking.order == (0, 1) and ranking.comparisons == 1  # undecided: input order kept
