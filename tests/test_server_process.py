"""Starting, waiting for and stopping local server processes (vLLM's helper on a fake venv)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from toolrm_agent.integrations._process import free_port, get_json
from toolrm_agent.integrations.vllm_server import (
    READY_MARKER,
    VLLMServerConfig,
    VLLMServerError,
    start_vllm_server,
)

FAKE_SERVER = textwrap.dedent('''
    import argparse, json, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer
    p = argparse.ArgumentParser()
    p.add_argument("-m"); p.add_argument("--port", type=int); p.add_argument("--served-model-name")
    p.add_argument("--exit", action="store_true")
    args, _ = p.parse_known_args()
    if "--fake-exit" in sys.argv:
        sys.exit(3)
    name = "other" if "--fake-wrong-model" in sys.argv else args.served_model_name
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            body = b"" if self.path == "/health" else json.dumps({"data": [{"id": name}]}).encode()
            self.send_response(200); self.end_headers(); self.wfile.write(body)
    HTTPServer(("127.0.0.1", args.port), H).serve_forever()
''')


@pytest.fixture
def fake_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    script = tmp_path / "fake_vllm.py"
    script.write_text(FAKE_SERVER)
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec {sys.executable} {script} "$@"\n')
    python.chmod(0o755)
    (venv / READY_MARKER).write_text("")
    return venv


def config(venv: Path, tmp_path: Path, *extra: str) -> VLLMServerConfig:
    return VLLMServerConfig(model="m", venv=venv, served_model_name="qwen", extra_args=extra,
                            startup_timeout_s=30, log_path=tmp_path / "server.log")


def test_start_waits_for_the_model_then_stops_the_group(fake_venv: Path, tmp_path: Path) -> None:
    with start_vllm_server(config(fake_venv, tmp_path)) as server:
        assert server.alive and server.model == "qwen"
        assert server.endpoint.base_url == f"http://127.0.0.1:{server.port}/v1"
        assert get_json(f"{server.root_url}/v1/models")["data"][0]["id"] == "qwen"
    assert not server.alive
    server.stop()  # idempotent


def test_a_server_of_another_model_or_one_that_exits_is_an_error(fake_venv: Path, tmp_path: Path) -> None:
    with pytest.raises(VLLMServerError, match="serves \\['other'\\], not 'qwen'"):
        start_vllm_server(config(fake_venv, tmp_path, "--fake-wrong-model"))
    with pytest.raises(VLLMServerError, match="exited with code 3"):
        start_vllm_server(config(fake_venv, tmp_path, "--fake-exit"))


def test_a_missing_venv_is_named(tmp_path: Path) -> None:
    with pytest.raises(VLLMServerError, match="setup_vllm"):
        start_vllm_server(config(tmp_path / "nowhere", tmp_path))
    assert 1024 < free_port() < 65536
