"""Client helpers for OpenAI-compatible servers, against a fake server (httpx MockTransport).

The real server is exercised in ``tests/integration``; here every request is recorded and
answered in-process, so the tests check what is sent (``n``, ``stream``, tools) and how
the choices come back (all of them, usage once, tool calls parsed).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import openai
import pytest
from langchain_core.messages import AIMessage, HumanMessage

from tests.fakes import ScriptedChatModel, tool_call_message
from toolrm_agent.integrations.openai_server import (
    asample_proposals,
    chat_model_for_server,
    normalize_base_url,
    sample_proposals,
    server_proposer,
)

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


class FakeServer:
    """Answers /chat/completions with ``min(n, cap)`` choices, each a get_weather call."""

    def __init__(self, cap: int | None = None, arguments: str = '{"city": "Paris"}') -> None:
        self.cap = cap
        self.arguments = arguments
        self.bodies: list[dict[str, Any]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        n = body.get("n") or 1
        count = min(n, self.cap) if self.cap else n
        choices = [
            {
                "index": i,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": f"call_{len(self.bodies)}_{i}",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": self.arguments},
                        }
                    ],
                },
            }
            for i in range(count)
        ]
        return httpx.Response(
            200,
            json={
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": choices,
                "usage": {
                    "prompt_tokens": 50,
                    "completion_tokens": 10 * count,
                    "total_tokens": 50 + 10 * count,
                },
            },
        )

    def chat_model(self, **kwargs: Any) -> Any:
        transport = httpx.MockTransport(self.handle)
        return chat_model_for_server(
            "served",
            "http://127.0.0.1:9",
            http_client=httpx.Client(transport=transport),
            http_async_client=httpx.AsyncClient(transport=transport),
            **kwargs,
        )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1"),
        ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1"),
        ("https://proxy.example/openai/v1", "https://proxy.example/openai/v1"),
    ],
)
def test_normalize_base_url(given: str, expected: str) -> None:
    assert normalize_base_url(given) == expected


def test_normalize_base_url_needs_a_scheme() -> None:
    with pytest.raises(ValueError, match="scheme"):
        normalize_base_url("127.0.0.1:8000")


def test_chat_model_for_server_defaults() -> None:
    llm = chat_model_for_server("m", "http://127.0.0.1:8000")
    assert llm.model_name == "m"
    assert llm.openai_api_base == "http://127.0.0.1:8000/v1"
    assert llm.openai_api_key.get_secret_value() == "EMPTY"
    assert llm.request_timeout == 120.0
    assert llm.max_retries == 2
    assert llm.temperature == 0.0
    assert llm.max_tokens == 512
    with pytest.raises(ValueError, match="max_retries"):
        chat_model_for_server("m", "http://127.0.0.1:8000", max_retries=-1)


def test_sample_proposals_sends_one_request_with_n_and_reads_every_choice() -> None:
    server = FakeServer()
    samples = sample_proposals(server.chat_model(), [HumanMessage("Paris?")], [WEATHER_TOOL], n=4)

    assert len(server.bodies) == 1
    body = server.bodies[0]
    assert body["n"] == 4 and body["stream"] is False and body["temperature"] == 0.7
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather"]
    assert len(samples) == 4 and all(isinstance(m, AIMessage) for m in samples)
    assert all(m.tool_calls[0]["args"] == {"city": "Paris"} for m in samples)
    assert samples[0].usage_metadata["output_tokens"] == 40  # the request's usage, once
    assert all(m.usage_metadata is None for m in samples[1:])


def test_sample_proposals_tops_up_when_the_server_caps_n() -> None:
    server = FakeServer(cap=1)
    samples = sample_proposals(server.chat_model(), "Paris?", [WEATHER_TOOL], n=3)
    assert [b["n"] for b in server.bodies] == [3, 2, 1]
    assert len(samples) == 3
    assert sum(m.usage_metadata["input_tokens"] for m in samples if m.usage_metadata) == 150


def test_sample_proposals_accepts_a_bind_tools_binding_and_tool_choice() -> None:
    server = FakeServer()
    bound = server.chat_model().bind_tools([WEATHER_TOOL], tool_choice="get_weather")
    samples = sample_proposals(bound, "Paris?", n=2, temperature=None, max_tokens=64)
    body = server.bodies[0]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["temperature"] == 0.0  # the model's own
    assert body.get("max_completion_tokens", body.get("max_tokens")) == 64
    assert len(samples) == 2


def test_sample_proposals_keeps_bad_arguments_as_invalid_tool_calls() -> None:
    server = FakeServer(arguments='{"city": ')
    samples = sample_proposals(server.chat_model(), "Paris?", [WEATHER_TOOL], n=2)
    assert all(not m.tool_calls and len(m.invalid_tool_calls) == 1 for m in samples)


def test_asample_proposals_is_the_async_twin() -> None:
    server = FakeServer()
    samples = asyncio.run(asample_proposals(server.chat_model(), "Paris?", [WEATHER_TOOL], n=3))
    assert len(server.bodies) == 1 and server.bodies[0]["n"] == 3
    assert len(samples) == 3


def test_raw_openai_client() -> None:
    server = FakeServer()
    client = openai.OpenAI(
        base_url="http://127.0.0.1:9/v1",
        api_key="EMPTY",
        http_client=httpx.Client(transport=httpx.MockTransport(server.handle)),
    )
    with pytest.raises(ValueError, match="model_name"):
        sample_proposals(client, "Paris?", [WEATHER_TOOL], n=2)
    samples = sample_proposals(
        client, "Paris?", [WEATHER_TOOL], n=2, tool_choice="get_weather", model_name="served"
    )
    body = server.bodies[0]
    assert body["model"] == "served" and body["n"] == 2
    assert body["messages"] == [{"role": "user", "content": "Paris?"}]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert [m.tool_calls[0]["name"] for m in samples] == ["get_weather", "get_weather"]
    assert samples[0].usage_metadata["total_tokens"] == 70 and samples[1].usage_metadata is None


def test_other_chat_models_get_n_separate_requests() -> None:
    model = ScriptedChatModel(
        script=[tool_call_message(("get_weather", {"city": c})) for c in ("A", "B", "C")]
    )
    samples = sample_proposals(model, "Paris?", [WEATHER_TOOL], n=3)
    assert len(model.calls) == 3
    assert sorted(m.tool_calls[0]["args"]["city"] for m in samples) == ["A", "B", "C"]
    assert all(kw["temperature"] == 0.7 and kw["tools"] for kw in model.call_kwargs)


def test_server_proposer_draws_k_in_one_request() -> None:
    server = FakeServer()
    propose = server_proposer(server.chat_model(), [WEATHER_TOOL], temperature=1.0)
    out = propose([HumanMessage("Paris?")], 2)
    assert len(out) == 2 and server.bodies[0]["n"] == 2 and server.bodies[0]["temperature"] == 1.0


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="n must be"):
        sample_proposals(ScriptedChatModel(), "x", n=0)
    with pytest.raises(ValueError, match="tool_choice needs tools"):
        sample_proposals(ScriptedChatModel(), "x", n=1, tool_choice="auto")
    with pytest.raises(TypeError, match="chat model or an OpenAI client"):
        sample_proposals(object(), "x", n=1)
