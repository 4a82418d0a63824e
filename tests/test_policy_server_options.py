"""``llamacpp:`` policies take the server's context and slots as options (long ACEBench prompts)."""

from __future__ import annotations

from typing import Any

import pytest


def test_n_ctx_and_n_parallel_go_to_the_server_the_rest_to_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    import toolrm_agent.integrations.llamacpp_server as llamacpp
    from toolrm_agent.models.policy import load_chat_model

    seen: dict[str, Any] = {}

    def fake_server(model: str, **options: Any) -> str:
        seen["server"] = (model, options)
        return "server"

    def fake_client(server: Any, **options: Any) -> str:
        seen["client"] = (server, options)
        return "client"

    monkeypatch.setattr(llamacpp, "shared_server", fake_server)
    monkeypatch.setattr(llamacpp, "lenient_chat_model", fake_client)
    assert load_chat_model("llamacpp:default", max_new_tokens=64, n_ctx=24576, n_parallel=4, seed=3) == "client"
    assert seen["server"] == ("default", {"n_ctx": 24576, "n_parallel": 4})
    assert seen["client"] == ("server", {"max_tokens": 64, "temperature": 0.0})
    load_chat_model("llamacpp:default")
    assert seen["server"] == ("default", {})  # the server's own defaults
