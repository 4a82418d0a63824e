"""A newcomer's own agent (issue 17): the served-model helper, the text-call warning, no
tools, a tool that raises, a call repeated after it ran. Items 2-4 on the node
(``build_agent_graph``) and on the middleware (``create_agent``), sync and async."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from tests.fakes import (
    ASK,
    GOOD,
    PolicyStubServer,
    ScriptedChatModel,
    ScriptedJudge,
    assert_every_call_answered,
    critic_app,
    critic_messages,
    recording_tools,
    run_graph,
    text_call,
    tool_call_message,
)
from toolrm_agent import ConfigurationError, ToolRMCritic, ToolRMMiddleware, build_agent_graph, served_chat_model
from toolrm_agent.core.verdicts import IssueCode
from toolrm_agent.naming import _hints as hints
from toolrm_agent.naming._hints import TextToolCallWarning


@pytest.fixture(autouse=True)
def fresh_hints() -> Iterator[None]:
    hints.reset()
    yield
    hints.reset()


# ------------------------------------------------------- 1. from a served model to a policy


def test_served_chat_model_reads_llamacpp_text_calls_and_asks_the_model_name() -> None:
    with PolicyStubServer(lambda body: text_call("get_weather", {"city": "Paris"}), model="default") as stub:
        policy = served_chat_model(stub.base_url.removesuffix("/v1"))  # /v1 is added
        graph = build_agent_graph(policy, recording_tools()[0], ToolRMCritic(ScriptedJudge(), max_retries=0,
                                                                             max_critic_steps=1))
        out = graph.invoke(ASK)
    proposal = out["messages"][1]
    assert isinstance(proposal, AIMessage) and proposal.tool_calls[0]["name"] == "get_weather"
    assert proposal.tool_calls[0]["args"] == {"city": "Paris"}
    assert stub.requests[0]["model"] == "default"  # from /v1/models
    assert stub.requests[0]["tools"][0]["function"]["name"] == "get_weather"
    assert out["toolrm_usage"]["proposals_judged"] >= 1


def test_served_chat_model_passes_vllm_tool_calls_through() -> None:
    def vllm(body: dict[str, Any]) -> dict[str, Any]:
        if any(m.get("role") == "tool" for m in body["messages"]):
            return {"content": "Sunny in Paris."}
        arguments = json.dumps({"city": "Paris"})
        return {"tool_calls": [{"id": "chatcmpl-tool-1", "type": "function",
                                "function": {"name": "get_weather", "arguments": arguments}}]}

    tools, executed = recording_tools()
    with PolicyStubServer(vllm, model="Qwen/Qwen2.5-Coder-0.5B-Instruct") as stub:
        graph = build_agent_graph(served_chat_model(stub.base_url), tools, ToolRMCritic(ScriptedJudge()))
        out = graph.invoke(ASK)
    assert executed == [("get_weather", {"city": "Paris"})]
    assert out["messages"][-1].content == "Sunny in Paris."
    assert stub.requests[0]["model"] == "Qwen/Qwen2.5-Coder-0.5B-Instruct"


def test_served_chat_model_without_a_server_says_how_to_start_one() -> None:
    with pytest.raises(ConfigurationError, match="toolrm serve"):
        served_chat_model("http://127.0.0.1:9/v1")


# --------------------------------------------- the warning for calls written as text


async def test_a_call_written_as_text_warns_once_naming_the_helper(kind: str, how: str) -> None:
    text = text_call("get_weather", {"city": "Paris"})["content"]
    model = ScriptedChatModel(script=[text, text])
    graph = critic_app(kind, model, recording_tools()[0], ScriptedJudge())
    with pytest.warns(TextToolCallWarning, match="served_chat_model"):
        await run_graph(graph, how)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await run_graph(graph, how)  # once only


def test_plain_answers_do_not_warn() -> None:
    graph = build_agent_graph(ScriptedChatModel(script=["It is sunny {maybe}."]), recording_tools()[0],
                              ToolRMCritic(ScriptedJudge()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        graph.invoke(ASK)


# ------------------------------------------------------------------------ 2. no tools


@pytest.mark.parametrize("tools", [[], None])
def test_build_agent_graph_refuses_an_empty_tool_list(tools: Any) -> None:
    model = ScriptedChatModel(script=[tool_call_message(GOOD)])
    with pytest.raises(ConfigurationError, match="at least one tool"):
        build_agent_graph(model, tools, ToolRMCritic(ScriptedJudge()))


@pytest.mark.parametrize("tools", [[], None])
async def test_middleware_refuses_an_agent_without_tools(tools: Any, how: str) -> None:
    model = ScriptedChatModel(script=[tool_call_message(GOOD)])
    graph = create_agent(model, tools, middleware=[ToolRMMiddleware(ScriptedJudge())])
    with pytest.raises(ConfigurationError, match="no tools"):
        await run_graph(graph, how)
    assert model.position == 0  # refused before the model was asked


# ----------------------------------------------------------------- 3. a tool that raises


def currency_tool() -> tuple[Any, list[str]]:
    seen: list[str] = []

    @tool
    def convert(amount: float, from_currency: str) -> str:
        """Convert an amount to euros."""
        seen.append(from_currency)
        return f"{amount * {'USD': 0.92}[from_currency]:.2f} EUR"  # KeyError for 'Pounds'

    return convert, seen


async def test_a_tool_error_goes_back_to_the_model_and_the_critic_reads_it(kind: str, how: str) -> None:
    convert, seen = currency_tool()
    model = ScriptedChatModel(script=[
        tool_call_message(("convert", {"amount": 250, "from_currency": "Pounds"})),
        tool_call_message(("convert", {"amount": 250, "from_currency": "USD"})),
        "230.00 EUR.",
    ])
    judge = ScriptedJudge(lambda call: None)
    ask = {"messages": [HumanMessage("250 USD in EUR?")]}
    out = await run_graph(critic_app(kind, model, [convert], judge), how, ask)
    assert seen == ["Pounds", "USD"]
    error = next(m for m in out["messages"] if isinstance(m, ToolMessage) and m.status == "error")
    assert "KeyError" in str(error.content) and "Pounds" in str(error.content)
    assert out["messages"][-1].content == "230.00 EUR."
    # the critic judged the next proposal with the error in its context
    assert any("KeyError" in t.content for t in judge.contexts[1].turns if t.role == "tool")
    assert_every_call_answered(out["messages"])


async def test_handle_tool_errors_false_lets_the_error_end_the_run(kind: str, how: str) -> None:
    convert, _ = currency_tool()
    model = ScriptedChatModel(script=[tool_call_message(("convert", {"amount": 1, "from_currency": "Pounds"}))])
    graph = critic_app(kind, model, [convert], ScriptedJudge(lambda call: None), handle_tool_errors=False)
    with pytest.raises(KeyError):
        await run_graph(graph, how)


def test_handle_tool_errors_takes_a_callable_and_refuses_other_values(kind: str) -> None:
    convert, _ = currency_tool()
    model = ScriptedChatModel(script=[tool_call_message(("convert", {"amount": 1, "from_currency": "Pounds"})), "ok"])
    graph = critic_app(kind, model, [convert], ScriptedJudge(lambda call: None),
                  handle_tool_errors=lambda exc: f"unknown currency {exc}")
    out = graph.invoke(ASK)
    assert any(m.content == "unknown currency 'Pounds'" for m in out["messages"] if isinstance(m, ToolMessage))
    with pytest.raises(ConfigurationError, match="handle_tool_errors"):
        critic_app(kind, model, [convert], ScriptedJudge(), handle_tool_errors="yes")


# ------------------------------------------------------ 4. a call repeated after it ran


async def test_a_call_repeated_after_it_ran_is_sent_back(kind: str, how: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[
        tool_call_message(GOOD, ids=["first"]),
        tool_call_message(GOOD, ids=["again"]),  # the same call, its result already there
        "Sunny in Paris.",
    ])
    out = await run_graph(critic_app(kind, model, tools, ScriptedJudge(lambda call: None)), how)
    assert executed == [("get_weather", {"city": "Paris"})]  # ran once
    record = out["toolrm_verdicts"]["again"]
    assert record["decision"] == "retry" and IssueCode.REPEATED_CALL.value in record["codes"]
    critique = critic_messages(out["messages"])[0].content
    assert "already ran in this turn" in critique and "sunny in Paris" in critique
    assert out["messages"][-1].content == "Sunny in Paris."


def test_a_call_may_run_again_after_its_tool_failed_or_in_a_new_turn(kind: str) -> None:
    tools, executed = recording_tools()
    model = ScriptedChatModel(script=[tool_call_message(GOOD, ids=["a"]), "Sunny.",
                                      tool_call_message(GOOD, ids=["b"]), "Still sunny."])
    graph = critic_app(kind, model, tools, ScriptedJudge(lambda call: None))
    first = graph.invoke(ASK)
    graph.invoke({"messages": [*first["messages"], HumanMessage("And now?")]})
    assert len(executed) == 2  # a new user turn may ask again
