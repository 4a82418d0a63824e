"""LocalChatModel: output parsing on every shape, message and tool rendering, generation.

The parser is tested as a pure function. Generation runs on a tiny random Qwen2 model
with a byte-level BPE tokenizer trained here (ChatML + Hermes tools template), so the
real transformers path is exercised in about a second; where a test needs a known answer
the model's ``generate`` is replaced by one that "writes" a scripted text. One slow test
runs SmolLM2-135M for real.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from tests.fakes import bfcl_doc
from toolrm_agent.core.specs import ToolSpec
from toolrm_agent.models.local_chat import (
    LocalChatModel,
    _forced_prefix,
    message_from_text,
    messages_to_template,
    tools_to_openai,
)


@tool
def get_weather(city: str, unit: str = "celsius") -> str:
    """Get the current weather in a city."""
    return f"sunny in {city}"


class StockPrice(BaseModel):
    """Get a stock price."""

    ticker: str = Field(description="e.g. AAPL")


BFCL_DOC = bfcl_doc("calc_area", "Area of a triangle.", {"base": {"type": "integer"}, "height": {"type": "float"}},
                    ["base", "height"])

# ---------------------------------------------------------------------- parsing shapes


def _calls(msg: AIMessage) -> list[tuple[str, dict[str, Any]]]:
    return [(c["name"], c["args"]) for c in msg.tool_calls]


def test_hermes_single_call():
    msg = message_from_text('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>')
    assert _calls(msg) == [("get_weather", {"city": "Paris"})]
    assert msg.content == "" and msg.invalid_tool_calls == []
    assert msg.tool_calls[0]["id"].startswith("call_")


def test_hermes_several_calls_keep_surrounding_text():
    text = (
        "Let me check both.\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Rome", "unit": "fahrenheit"}}\n</tool_call>'
    )
    msg = message_from_text(text)
    assert _calls(msg) == [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome", "unit": "fahrenheit"})]
    assert msg.content == "Let me check both."
    assert len({c["id"] for c in msg.tool_calls}) == 2


def test_hermes_unterminated_last_block():
    msg = message_from_text('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}')
    assert _calls(msg) == [("get_weather", {"city": "Oslo"})]


def test_hermes_truncated_json_becomes_invalid_call():
    msg = message_from_text('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Os')
    assert msg.tool_calls == []
    (bad,) = msg.invalid_tool_calls
    assert bad["name"] == "get_weather" and "not valid JSON" in bad["error"] and "Os" in bad["args"]


def test_json_code_fence():
    msg = message_from_text('Here you go:\n```json\n{"name": "calc_area", "arguments": {"base": 10, "height": 5}}\n```')
    assert _calls(msg) == [("calc_area", {"base": 10, "height": 5})]
    assert msg.content == "Here you go:"


def test_bare_json_object_and_list():
    assert _calls(message_from_text('{"name": "calc_area", "arguments": {"base": 1, "height": 2}}')) == [
        ("calc_area", {"base": 1, "height": 2})
    ]
    msg = message_from_text('[{"name": "a", "arguments": {}}, {"name": "b", "parameters": {"x": 1}}]')
    assert _calls(msg) == [("a", {}), ("b", {"x": 1})]
    assert msg.content == ""


def test_xlam_tool_calls_object():
    msg = message_from_text('{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Lima"}}]}')
    assert _calls(msg) == [("get_weather", {"city": "Lima"})]


def test_bfcl_call_string():
    msg = message_from_text("[calc_area(base=10, height=5.0), get_weather(city='Paris')]")
    assert _calls(msg) == [("calc_area", {"base": 10, "height": 5.0}), ("get_weather", {"city": "Paris"})]
    assert _calls(message_from_text("math.sqrt(x=4)")) == [("math.sqrt", {"x": 4})]


def test_json_call_embedded_in_prose():
    msg = message_from_text('I will call {"name": "get_weather", "arguments": {"city": "Kyiv"}} now.')
    assert _calls(msg) == [("get_weather", {"city": "Kyiv"})]
    assert msg.content == "I will call  now."


def test_plain_text_answer_has_no_calls():
    msg = message_from_text("The weather in Paris is sunny; no tool needed.")
    assert msg.tool_calls == [] and msg.invalid_tool_calls == []
    assert msg.content == "The weather in Paris is sunny; no tool needed."


def test_broken_json_becomes_invalid_tool_call():
    msg = message_from_text('```json\n{"name": "calc_area", "arguments": {"base": 10,, }}\n```')
    assert msg.tool_calls == []
    (bad,) = msg.invalid_tool_calls
    assert bad["name"] == "calc_area" and bad["type"] == "invalid_tool_call"


def test_arguments_that_are_not_an_object_are_invalid():
    msg = message_from_text('<tool_call>\n{"name": "f", "arguments": [1, 2]}\n</tool_call>')
    assert msg.tool_calls == [] and "must be an object" in msg.invalid_tool_calls[0]["error"]


def test_think_block_is_kept_apart():
    msg = message_from_text(
        "<think>the user wants weather</think>\n" '{"name": "get_weather", "arguments": {"city": "Bern"}}'
    )
    assert msg.additional_kwargs["reasoning_content"] == "the user wants weather"
    assert _calls(msg) == [("get_weather", {"city": "Bern"})]


def test_parse_calls_off_keeps_text():
    text = '<choice>1</choice> {"name": "x", "arguments": {}}'
    msg = message_from_text(text, parse_calls=False)
    assert msg.content == text and msg.tool_calls == []


# ------------------------------------------------------------- messages and tool specs


def test_messages_to_template_maps_tool_history():
    history = [
        SystemMessage("sys"),
        HumanMessage("Weather in Paris?"),
        AIMessage(
            content="",
            tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}],
            invalid_tool_calls=[
                {"name": "x", "args": "{bad", "id": "call_2", "error": "e", "type": "invalid_tool_call"}
            ],
        ),
        ToolMessage("sunny", tool_call_id="call_1", name="get_weather"),
        AIMessage("It is sunny."),
    ]
    out = messages_to_template(history)
    assert [m["role"] for m in out] == ["system", "user", "assistant", "tool", "assistant"]
    assert out[2]["tool_calls"] == [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
    ]
    assert "<tool_call>\n{bad\n</tool_call>" in out[2]["content"]
    assert out[3] == {"role": "tool", "content": "sunny", "tool_call_id": "call_1", "name": "get_weather"}
    assert "tool_calls" not in out[4]


def test_content_blocks_are_flattened_to_text():
    out = messages_to_template([HumanMessage(content=[{"type": "text", "text": "a"}, "b"])])
    assert out == [{"role": "user", "content": "ab"}]


def test_tools_to_openai_from_every_kind():
    specs = tools_to_openai(
        [
            get_weather,
            StockPrice,
            BFCL_DOC,
            {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}},
            ToolSpec(name="g", description="G."),
        ]
    )
    assert [s["function"]["name"] for s in specs] == ["get_weather", "StockPrice", "calc_area", "f", "g"]
    assert all(s["type"] == "function" for s in specs)
    assert specs[0]["function"]["parameters"]["required"] == ["city"]
    calc = specs[2]["function"]["parameters"]
    assert calc["type"] == "object" and calc["properties"]["height"]["type"] == "number"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, ""),
        ("auto", ""),
        ("none", ""),
        ("any", '<tool_call>\n{"name": "'),
        ("required", '<tool_call>\n{"name": "'),
        ("get_weather", '<tool_call>\n{"name": "get_weather", "arguments": '),
        ({"type": "function", "function": {"name": "f"}}, '<tool_call>\n{"name": "f", "arguments": '),
    ],
)
def test_forced_prefix(choice, expected):
    assert _forced_prefix(choice, tools_to_openai([get_weather])) == expected


# ------------------------------------------------------------------ a tiny real model

@pytest.fixture(scope="module")
def tiny_model_dir(tiny_qwen_dir: Path) -> Path:
    return tiny_qwen_dir


@pytest.fixture
def llm(tiny_model_dir: Path) -> LocalChatModel:
    return LocalChatModel(model_path=str(tiny_model_dir), torch_dtype="float32", max_new_tokens=16)


class ScriptedGenerate:
    """Replaces ``model.generate``: each returned row "writes" the next scripted text."""

    def __init__(self, tokenizer: Any, texts: list[str], eos: int, pad: int) -> None:
        self.tokenizer, self.texts, self.eos, self.pad = tokenizer, list(texts), eos, pad
        self.calls: list[dict[str, Any]] = []

    def __call__(self, input_ids: Any, attention_mask: Any = None, **kwargs: Any) -> Any:
        import torch

        per_prompt = kwargs.get("num_return_sequences", 1)
        self.calls.append({"prompt_len": int(input_ids.shape[1]), "batch": int(input_ids.shape[0]), **kwargs})
        rows = [
            self.tokenizer.encode(self.texts.pop(0), add_special_tokens=False) + [self.eos]
            for _ in range(int(input_ids.shape[0]) * per_prompt)
        ]
        width = max(len(r) for r in rows)
        rows = [r + [self.pad] * (width - len(r)) for r in rows]
        new = torch.tensor(rows, dtype=input_ids.dtype)
        return torch.cat([input_ids.repeat_interleave(per_prompt, dim=0), new], dim=1)


@pytest.fixture
def script(llm: LocalChatModel, monkeypatch: pytest.MonkeyPatch):
    def make(*texts: str) -> ScriptedGenerate:
        loaded = llm.load()
        fake = ScriptedGenerate(loaded.tokenizer, list(texts), loaded.eos_token_ids[0], loaded.pad_token_id)
        monkeypatch.setattr(loaded.model, "generate", fake)
        return fake

    return make


HERMES_PARIS = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'


def test_bind_tools_converts_and_renders_tools(llm):
    bound = llm.bind_tools([get_weather, BFCL_DOC, ToolSpec(name="g")], tool_choice="auto")
    assert [t["function"]["name"] for t in bound.kwargs["tools"]] == ["get_weather", "calc_area", "g"]
    assert bound.kwargs["tool_choice"] == "auto"
    prompt = llm.render_prompt([HumanMessage("Weather in Paris?")], tools=bound.kwargs["tools"])
    assert "<tools>" in prompt and '"name": "get_weather"' in prompt and '"type": "object"' in prompt
    assert prompt.endswith("<|im_start|>assistant\n")
    assert "<tools>" not in llm.render_prompt([HumanMessage("hi")])


def test_history_with_tool_calls_renders_in_hermes_form(llm):
    prompt = llm.render_prompt(
        [
            HumanMessage("Weather in Paris?"),
            AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}]),
            ToolMessage("sunny", tool_call_id="c1"),
        ],
        tools=[get_weather],
    )
    assert '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>' in prompt
    assert "<|im_start|>user\n<tool_response>\nsunny\n</tool_response><|im_end|>" in prompt


def test_invoke_parses_calls_and_records_usage(llm, script):
    fake = script(HERMES_PARIS)
    msg = llm.bind_tools([get_weather]).invoke([HumanMessage("Weather in Paris?")])
    assert _calls(msg) == [("get_weather", {"city": "Paris"})]
    n_out = len(llm.tokenizer.encode(HERMES_PARIS, add_special_tokens=False)) + 1  # + EOS
    assert msg.usage_metadata == {
        "input_tokens": fake.calls[0]["prompt_len"],
        "output_tokens": n_out,
        "total_tokens": fake.calls[0]["prompt_len"] + n_out,
    }
    meta = msg.response_metadata
    assert meta["finish_reason"] == "tool_calls" and meta["raw_text"] == HERMES_PARIS
    assert meta["tokens_per_second"] > 0 and meta["torch_dtype"] == "float32"
    assert fake.calls[0]["do_sample"] is False and fake.calls[0]["max_new_tokens"] == 16


def test_without_tools_text_is_not_parsed(llm, script):
    script('{"name": "get_weather", "arguments": {}}')
    msg = llm.invoke("judge this")
    assert msg.tool_calls == [] and msg.content.startswith('{"name"')


def test_n_samples_come_back_from_generate(llm, script):
    fake = script(HERMES_PARIS, "plain answer", '```json\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n```')
    result = llm.generate([[HumanMessage("Weather?")]], tools=[get_weather], n=3, temperature=0.8, seed=1)
    messages = [g.message for g in result.generations[0]]
    assert [_calls(m) for m in messages] == [
        [("get_weather", {"city": "Paris"})],
        [],
        [("get_weather", {"city": "Rome"})],
    ]
    assert fake.calls[0]["num_return_sequences"] == 3 and fake.calls[0]["do_sample"] is True
    assert fake.calls[0]["temperature"] == 0.8
    assert len({m.id for m in messages}) == 3
    completion_tokens = sum(m.usage_metadata["output_tokens"] for m in messages)
    assert result.llm_output["token_usage"]["completion_tokens"] == completion_tokens


def test_invoke_returns_the_first_of_n(llm, script):
    script("first", "second")
    assert llm.invoke("hi", n=2, temperature=1.0).content == "first"


def test_greedy_n_generates_once_and_repeats(llm, script):
    fake = script(HERMES_PARIS)
    result = llm.generate([[HumanMessage("Weather?")]], tools=[get_weather], n=2)
    messages = [g.message for g in result.generations[0]]
    assert len(fake.calls) == 1 and fake.calls[0]["num_return_sequences"] == 1
    assert [_calls(m) for m in messages] == [[("get_weather", {"city": "Paris"})]] * 2
    assert messages[0].tool_calls[0]["id"] != messages[1].tool_calls[0]["id"]


def test_stop_sequences_cut_the_text(llm, script):
    fake = script("Answer: 42\nObservation: more")
    msg = llm.invoke("q", stop=["\nObservation:"])
    assert msg.content == "Answer: 42" and msg.response_metadata["finish_reason"] == "stop"
    assert fake.calls[0]["stop_strings"] == ["\nObservation:"]


def test_tool_choice_none_renders_no_tools(llm, script):
    fake = script("no tools here")
    llm.bind_tools([get_weather], tool_choice="none").invoke("Weather?")
    assert fake.calls[0]["prompt_len"] == len(llm.tokenizer.encode(llm.render_prompt([HumanMessage("Weather?")])))


def test_named_tool_choice_prefills_the_call(llm, script):
    script('{"city": "Paris"}}\n</tool_call>')
    msg = llm.bind_tools([get_weather], tool_choice="get_weather").invoke("Weather in Paris?")
    assert _calls(msg) == [("get_weather", {"city": "Paris"})]
    assert msg.response_metadata["raw_text"].startswith('<tool_call>\n{"name": "get_weather", "arguments": ')


def test_batch_decodes_all_prompts_in_one_pass(llm, script):
    fake = script(HERMES_PARIS, "no call needed", '{"name": "get_weather", "arguments": {"city": "Rome"}}')
    questions = ["Weather in Paris?", "Hello there, how are you doing today?", "Rome?"]
    answers = llm.bind_tools([get_weather]).batch(questions)
    assert len(fake.calls) == 1 and fake.calls[0]["batch"] == 3
    assert [_calls(m) for m in answers] == [
        [("get_weather", {"city": "Paris"})],
        [],
        [("get_weather", {"city": "Rome"})],
    ]
    lengths = [m.usage_metadata["input_tokens"] for m in answers]
    assert lengths[1] > lengths[0] and max(lengths) == fake.calls[0]["prompt_len"]  # no padding counted
    assert all(m.response_metadata["batch_size"] == 3 for m in answers)
    assert len({m.id for m in answers}) == 3


def test_batch_with_samples_and_chunks(llm, script):
    fake = script("a1", "a2", "b1", "b2", "c1", "c2")
    chunked = llm.model_copy(update={"batch_size": 2})
    answers = chunked.batch(["a", "b", "c"], n=2, temperature=0.7)
    assert [m.content for m in answers] == ["a1", "b1", "c1"]  # invoke semantics: first sample
    assert [c["batch"] for c in fake.calls] == [2, 1]


def test_batch_size_one_runs_prompt_by_prompt(llm, script):
    fake = script("x", "y")
    answers = llm.model_copy(update={"batch_size": 1}).batch(["a", "b"])
    # LangChain's own batch: one generate per prompt (threads, so the order is free)
    assert sorted(m.content for m in answers) == ["x", "y"] and [c["batch"] for c in fake.calls] == [1, 1]


async def test_abatch(llm, script):
    script("x", "y")
    assert [m.content for m in await llm.abatch(["a", "b"])] == ["x", "y"]


def test_batched_greedy_matches_single_runs(llm):
    prompts = ["Weather in Paris?", "What is the weather like in Rome today, please?"]
    single = [llm.invoke(p, max_new_tokens=6).response_metadata["raw_text"] for p in prompts]
    batched = [m.response_metadata["raw_text"] for m in llm.batch(prompts, max_new_tokens=6)]
    assert batched == single


def test_chat_template_kwargs_reach_the_template(llm):
    prompt = llm.render_prompt([HumanMessage("hi")], default_system_message="You are a critic.")
    assert prompt.startswith("<|im_start|>system\nYou are a critic.<|im_end|>")
    bound = LocalChatModel(model_path=llm.model_path, torch_dtype="float32",
                           chat_template_kwargs={"default_system_message": "Judge."})
    assert "Judge." in bound.render_prompt([HumanMessage("hi")])


def test_unexpected_argument_is_an_error(llm):
    with pytest.raises(TypeError, match="bogus"):
        llm.invoke("hi", bogus=1)


def test_openai_only_tool_switches_are_ignored(llm, script):
    script(HERMES_PARIS)
    bound = llm.bind_tools([get_weather], strict=True, parallel_tool_calls=False)
    assert "strict" not in bound.kwargs and "parallel_tool_calls" not in bound.kwargs
    assert _calls(bound.invoke("Weather in Paris?")) == [("get_weather", {"city": "Paris"})]


async def test_ainvoke_works(llm, script):
    script(HERMES_PARIS)
    msg = await llm.bind_tools([get_weather]).ainvoke("Weather in Paris?")
    assert _calls(msg) == [("get_weather", {"city": "Paris"})]


def test_instances_share_loaded_weights(tiny_model_dir):
    a = LocalChatModel(model_path=str(tiny_model_dir), torch_dtype="float32")
    b = LocalChatModel(model_path=str(tiny_model_dir), torch_dtype="float32", temperature=0.5)
    assert a.load() is b.load()
    assert a.get_num_tokens("hello world") == len(a.tokenizer.encode("hello world", add_special_tokens=False))


def test_real_generation_on_random_weights(llm):
    """Garbage output from a random model is parsed without errors; sampling is seeded."""
    bound = llm.bind_tools([get_weather])
    result = llm.generate([[HumanMessage("Weather in Paris?")]], tools=[get_weather], n=2, temperature=1.0,
                          seed=7, max_new_tokens=8)
    messages = [g.message for g in result.generations[0]]
    assert len(messages) == 2
    for m in messages:
        assert 0 < m.usage_metadata["output_tokens"] <= 8
        assert m.response_metadata["finish_reason"] in {"stop", "length", "tool_calls"}
    again = llm.generate([[HumanMessage("Weather in Paris?")]], tools=[get_weather], n=2, temperature=1.0,
                         seed=7, max_new_tokens=8)
    assert [g.message.response_metadata["raw_text"] for g in again.generations[0]] == [
        m.response_metadata["raw_text"] for m in messages
    ]
    greedy = bound.invoke("Weather in Paris?", stop=["}"])
    assert isinstance(greedy, AIMessage) and greedy.usage_metadata["output_tokens"] > 0


# ---------------------------------------------------------------------- a real model


@pytest.mark.slow
def test_smollm2_end_to_end(tmp_path_factory):
    from toolrm_agent.models import resolve_model

    path = resolve_model("smollm2", cache_dir=tmp_path_factory.mktemp("cache"))
    model = LocalChatModel(model_path=str(path), max_new_tokens=32)
    tools = [get_weather]
    msg = model.bind_tools(tools).invoke([HumanMessage("What is the weather in Paris? Use the tool.")])
    assert msg.usage_metadata["input_tokens"] > 50 and msg.usage_metadata["output_tokens"] > 0
    assert msg.response_metadata["tokens_per_second"] > 0
    result = model.generate([[HumanMessage("Weather in Paris?")]], tools=tools, n=3, temperature=0.9, seed=0)
    assert len(result.generations[0]) == 3
    assert all(g.message.usage_metadata["output_tokens"] > 0 for g in result.generations[0])
    print(json.dumps([g.message.response_metadata["raw_text"] for g in result.generations[0]], indent=1))
