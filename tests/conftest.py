"""Shared pytest setup: every test is offline by construction."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# No test may reach a model hub; transformers and huggingface_hub honour these.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


# ---------------------------------------------------------------- the critic's adapters


@pytest.fixture(params=["sync", "async"])
def how(request: pytest.FixtureRequest) -> str:
    """How a test runs its graph (``tests.fakes.run_graph``): ``invoke`` or ``ainvoke``."""
    return request.param


@pytest.fixture(params=["node", "middleware"])
def kind(request: pytest.FixtureRequest) -> str:
    """Where the critic sits (``tests.fakes.critic_app``): a graph node or middleware."""
    return request.param


# ---------------------------------------------------------------- tiny real models

TINY_CORPUS = [
    "You are a helpful assistant. The weather in Paris is sunny.",
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
    "# Tools You may call one or more functions <tools></tools> <tool_response> function",
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 {}[]():,\"'_-.",
]


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Qwen2 causal LM with a byte-level BPE and the Hermes tools template."""
    import torch
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from toolrm_agent.models.registry import CHATML_TOOLS_TEMPLATE

    path = tmp_path_factory.mktemp("tiny-qwen")
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(TINY_CORPUS, trainer)
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token="<|endoftext|>"
    )
    tokenizer.chat_template = CHATML_TOOLS_TEMPLATE
    tokenizer.save_pretrained(path)
    im_end, eot = tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"])
    from tests.fakes import tiny_qwen2_config

    config = tiny_qwen2_config(len(tokenizer), bos_token_id=eot, eos_token_id=im_end, pad_token_id=eot)
    torch.manual_seed(0)
    model = transformers.Qwen2ForCausalLM(config)
    model.generation_config = transformers.GenerationConfig(eos_token_id=[im_end, eot], pad_token_id=eot)
    model.save_pretrained(path)
    return path
