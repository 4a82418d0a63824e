"""The LM reading through an OpenAI-compatible server's prompt log-probabilities.

The stub server below answers ``/v1/completions`` the way vLLM does with
``prompt_logprobs=0``, computing the log-probabilities with the tiny real model; the
server path must then read exactly what the local path reads.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.fakes import LM_MIXED as MIXED
from tests.fakes import LM_TWO_TOOLS as TWO_TOOLS
from toolrm_agent.core.errors import ConfigurationError, JudgeBackendError
from toolrm_agent.judges.trained.lm_scoring import LMScorer
from toolrm_agent.judges.trained.lm_server import ServerLMScorer


def _serve(model_dir: Path, with_logprobs: bool) -> tuple[ThreadingHTTPServer, list[dict[str, Any]]]:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(body)
            prompts = body["prompt"] if isinstance(body["prompt"][0], list) else [body["prompt"]]
            choices: list[dict[str, Any]] = []
            for index, ids in enumerate(prompts):
                with torch.no_grad():
                    logits = model(torch.tensor([ids])).logits[0].float().log_softmax(-1)
                entries: list[Any] = [None] + [
                    {str(t): {"logprob": float(logits[i - 1, t]), "rank": 1}} for i, t in enumerate(ids) if i > 0
                ]
                choice: dict[str, Any] = {"index": index, "text": "x"}
                if with_logprobs:
                    choice["prompt_logprobs"] = entries
                choices.append(choice)
            choices.reverse()  # servers need not list the choices in prompt order
            choices = choices[:len(prompts) - int(body.get("model") == "drops-one")]
            data = json.dumps({"id": "c", "object": "text_completion", "choices": choices}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


@pytest.fixture
def server(tiny_qwen_dir: Path) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    srv, seen = _serve(tiny_qwen_dir, with_logprobs=True)
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1", seen
    srv.shutdown()


@pytest.mark.parametrize("tags", ["read", "skip"])
def test_server_readings_equal_local_readings(tiny_qwen_dir: Path, server: tuple[str, list[dict]],
                                              tags: Literal["read", "skip"]) -> None:
    url, seen = server
    remote = ServerLMScorer(tiny_qwen_dir, base_url=url, model="tiny", tools="called", tags=tags)
    local = LMScorer(tiny_qwen_dir, dtype="float32", tools="called", tags=tags)
    got, want = remote.read(TWO_TOOLS, MIXED), local.read(TWO_TOOLS, MIXED)
    for r, w in zip(got, want, strict=True):
        assert r.tokens == w.tokens and r.prefix_tokens == w.prefix_tokens
        assert r.mean_logprob == pytest.approx(w.mean_logprob, abs=1e-4)
        assert r.min_logprob == pytest.approx(w.min_logprob, abs=1e-4)
        assert r.hidden_last is None
    # one request per prefix: the weather calls together, the time call, the answer without a call
    groups = {remote.tool_names(TWO_TOOLS, p) for p in MIXED}
    assert len(seen) == len(groups) < len(MIXED)
    assert sorted(len(b["prompt"]) for b in seen) == sorted(
        sum(remote.tool_names(TWO_TOOLS, p) == g for p in MIXED) for g in groups)
    assert all(b["max_tokens"] == 1 and b["prompt_logprobs"] == 0 and b["model"] == "tiny" for b in seen)


def test_a_server_that_answers_fewer_prompts_is_a_backend_error(tiny_qwen_dir: Path,
                                                                 server: tuple[str, list[dict]]) -> None:
    url, _ = server
    remote = ServerLMScorer(tiny_qwen_dir, base_url=url, model="drops-one", tools="called")
    with pytest.raises(JudgeBackendError, match="not one per prompt"):
        remote.read(TWO_TOOLS, MIXED)


def test_a_server_without_prompt_logprobs_is_a_clear_backend_error(tiny_qwen_dir: Path) -> None:
    srv, _ = _serve(tiny_qwen_dir, with_logprobs=False)
    try:
        remote = ServerLMScorer(tiny_qwen_dir, base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1", model="t")
        with pytest.raises(JudgeBackendError, match="prompt log-probabilities"):
            remote.read(TWO_TOOLS, MIXED[:1])
    finally:
        srv.shutdown()


def test_an_unreachable_server_is_a_backend_error(tiny_qwen_dir: Path) -> None:
    remote = ServerLMScorer(tiny_qwen_dir, base_url="http://127.0.0.1:9/v1", model="t", timeout_s=2)
    with pytest.raises(JudgeBackendError):
        remote.read(TWO_TOOLS, MIXED[:1])


def test_misconfiguration_fails_at_construction(tiny_qwen_dir: Path) -> None:
    with pytest.raises(ConfigurationError):
        ServerLMScorer(tiny_qwen_dir, base_url="localhost:8000", model="t")
    from toolrm_agent.judges.trained.trained import CriticReader

    with pytest.raises(ConfigurationError, match="hidden states"):
        CriticReader(features=False, relevance=False, hidden="mean", base_model=str(tiny_qwen_dir),
                     lm_url="http://127.0.0.1:8000/v1")
