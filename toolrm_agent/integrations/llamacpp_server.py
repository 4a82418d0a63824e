"""The fast CPU path: llama.cpp's OpenAI-compatible server (``xllamacpp``) on 127.0.0.1.

::

    from toolrm_agent.integrations.llamacpp_server import LlamaCppServerConfig, start_llamacpp_server

    with start_llamacpp_server(LlamaCppServerConfig(model="default")) as server:
        llm = lenient_chat_model(server)            # a LangChain chat model, tools bindable

or, in any command, the spec ``llamacpp:<model>`` (``llamacpp:default``,
``llamacpp:qwen1.5b``, ``llamacpp:smollm2``, ``llamacpp:/path/model.gguf``) as a policy
or a judge: :func:`shared_server` starts one server per model for the process and stops
it at exit.

``xllamacpp`` (a prebuilt llama.cpp, no compiling) embeds llama.cpp's HTTP server. It
runs in a child process (``python -m toolrm_agent.integrations.llamacpp_server``), in its
own process group, so a crash of the server is a dead process the client can see — the
chat model then raises :class:`LlamaCppServerError` with the log's tail — and
:meth:`~toolrm_agent.integrations._process.LocalServer.stop` ends it cleanly.

Small Qwen GGUFs answer ``tools=`` requests with the call as JSON in ``content`` (no
``tool_calls``): clients get a
:class:`~toolrm_agent.integrations.openai_server.LenientToolCallModel`, which reads them
with the vLLM plugin's parser (:func:`~toolrm_agent.integrations.vllm_tool_parser.extract_tool_calls_lenient`).

This module imports ``xllamacpp`` only in the child process.
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from toolrm_agent.core.errors import ConfigurationError, ToolRMError
from toolrm_agent.integrations._process import (
    LocalServer,
    free_port,
    get_json,
    launch,
    wait_until_ready,
)

XLLAMACPP_REQUIREMENT = "xllamacpp==2026.10.11549"
READY_LINE = "toolrm-llamacpp-ready"


class LlamaCppServerError(ToolRMError):
    """The llama.cpp server could not start, or died (the message ends with its log's tail)."""


@dataclass(frozen=True)
class LlamaCppServerConfig:
    """How to start the server. Defaults suit 2 CPU cores."""

    model: str | Path = "default"
    """A known offline model (``default``, ``qwen1.5b``, ``smollm2``) or a ``.gguf`` file."""
    served_model_name: str | None = None
    """The name clients pass as ``model`` (default: the model's name)."""
    host: str = "127.0.0.1"
    port: int | None = None
    """``None``: pick a free port."""
    n_ctx: int = 8192
    """Context tokens shared by the parallel slots."""
    n_parallel: int = 4
    """Requests decoded at once (continuous batching); best-of-N samples use them."""
    threads: int | None = None
    """CPU threads (``None``: ``$TOOLRM_LLAMACPP_THREADS`` if set, else all cores). On a machine
    that other jobs share, one thread per server avoids llama.cpp's spinning threads
    competing for the same cores."""
    chat_template: str | None = None
    """Overrides the template (default: the registry's, else the GGUF's own)."""
    startup_timeout_s: float = 120.0
    log_path: Path | None = None
    """``None``: a temporary file."""
    cache_dir: Path | None = None
    """Where offline GGUFs are provisioned (``None``: ``$TOOLRM_CACHE``)."""
    env: dict[str, str] = field(default_factory=dict)

    def override(self, **changes: Any) -> LlamaCppServerConfig:
        return replace(self, **changes)

    @property
    def name(self) -> str:
        return self.served_model_name or Path(str(self.model)).stem

    def command(self, gguf: Path, port: int, template_file: Path | None) -> list[str]:
        cmd = [
            sys.executable, "-m", "toolrm_agent.integrations.llamacpp_server",
            "--gguf", str(gguf), "--host", self.host, "--port", str(port),
            "--ctx", str(self.n_ctx), "--parallel", str(self.n_parallel),
            "--threads", str(self.threads or default_threads()),
            "--parent-pid", str(os.getpid()), "--alias", self.name,
        ]  # fmt: skip
        if template_file is not None:
            cmd += ["--chat-template-file", str(template_file)]
        return cmd


class LlamaCppServer(LocalServer):
    """A running llama.cpp server (see :class:`~toolrm_agent.integrations._process.LocalServer`)."""

    config: LlamaCppServerConfig
    gguf: Path

    def __init__(self, config: LlamaCppServerConfig, gguf: Path, process: Any, port: int, log_path: Path) -> None:
        super().__init__(name="llama.cpp server", process=process, host=config.host, port=port,
                         log_path=log_path, served_model=config.name)
        self.config = config
        self.gguf = gguf

    def __enter__(self) -> LlamaCppServer:
        return self

    def crash_error(self) -> LlamaCppServerError | None:
        """An error describing the dead server process; ``None`` while it runs."""
        code = self.process.poll()
        if code is None:
            return None
        return LlamaCppServerError(
            f"the llama.cpp server for {self.model} (pid {self.process.pid}) exited with code "
            f"{code}; log {self.log_path}:\n{self.log_tail(2000)}"
        )


def _template_for(config: LlamaCppServerConfig, log_path: Path) -> Path | None:
    from toolrm_agent.models.registry import lookup

    template = config.chat_template
    if template is None:
        spec = lookup(str(config.model))
        template = spec.chat_template if spec is not None else None
    if template is None:
        return None
    path = log_path.with_suffix(".jinja")
    path.write_text(template)
    return path


def start_llamacpp_server(config: LlamaCppServerConfig) -> LlamaCppServer:
    """Start the server and wait until ``/health`` says it is ready.

    Raises:
        LlamaCppServerError: ``xllamacpp`` is missing, the process exited, or it was not
            ready within ``config.startup_timeout_s`` (the process is stopped first).
        ModelProvisioningError: the model's wheels are missing or corrupt.
    """
    import importlib.util

    from toolrm_agent.models.provision import resolve_gguf

    if importlib.util.find_spec("xllamacpp") is None:
        raise LlamaCppServerError(
            f"the llama.cpp server needs xllamacpp: pip install --no-deps {XLLAMACPP_REQUIREMENT}"
        )
    gguf = resolve_gguf(config.model, cache_dir=config.cache_dir)
    port = config.port or free_port(config.host)
    log_path = config.log_path or Path(tempfile.mkstemp(prefix="llamacpp-server-", suffix=".log")[1])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    template_file = _template_for(config, log_path)
    env = {**os.environ, **config.env}
    started = time.monotonic()
    process = launch(config.command(gguf, port, template_file), env=env, log_path=log_path, cwd=Path.cwd())
    server = LlamaCppServer(config, gguf, process, port, log_path)
    wait_until_ready(server, _healthy, started=started, timeout_s=config.startup_timeout_s, error=LlamaCppServerError)
    return server


def _healthy(server: LocalServer) -> bool:
    data = get_json(f"{server.root_url}/health", timeout_s=2.0)
    return isinstance(data, dict) and data.get("status") == "ok"


def default_threads() -> int:
    """``$TOOLRM_LLAMACPP_THREADS`` (a positive integer) if set, else every core."""
    raw = os.environ.get("TOOLRM_LLAMACPP_THREADS", "").strip()
    if not raw:
        return os.cpu_count() or 1
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError(f"TOOLRM_LLAMACPP_THREADS must be a positive integer, got {raw!r}")
    return int(raw)


# ------------------------------------------------------------------- process-wide servers

_SHARED: dict[tuple[str, int, int], LlamaCppServer] = {}
_SHARED_LOCK = threading.Lock()


def shared_server(model: str = "default", *, n_parallel: int = 4, n_ctx: int = 8192) -> LlamaCppServer:
    """One running server per (model, parallel, ctx) for this process, stopped at exit.

    A server that died is replaced by a fresh one on the next call.
    """
    key = (str(model), n_parallel, n_ctx)
    with _SHARED_LOCK:
        server = _SHARED.get(key)
        if server is not None and server.alive:
            return server
        server = start_llamacpp_server(LlamaCppServerConfig(model=model, n_parallel=n_parallel, n_ctx=n_ctx))
        _SHARED[key] = server
        return server


@atexit.register
def stop_shared_servers() -> None:
    """Stop every server :func:`shared_server` started."""
    with _SHARED_LOCK:
        for server in _SHARED.values():
            server.stop(timeout_s=10)
        _SHARED.clear()


def lenient_chat_model(server: LlamaCppServer, **options: Any) -> Any:
    """A LangChain chat model for ``server`` that reads calls written as text."""
    from toolrm_agent.integrations.openai_server import LenientToolCallModel, chat_model_for_server

    inner = chat_model_for_server(server.model, server.base_url, **options)
    return LenientToolCallModel(inner=inner, health=server.crash_error)


# ------------------------------------------------------------------------- child process


def _serve(args: argparse.Namespace) -> int:  # pragma: no cover - runs in the child
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.gguf
    params.n_ctx = args.ctx
    params.n_parallel = args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.hostnames = [args.host]
    params.port = args.port
    params.use_jinja = True
    if args.alias:  # /v1/models lists this name (the one clients send), not the GGUF's path
        params.model_alias = {args.alias}
    if args.chat_template_file:
        params.chat_template = Path(args.chat_template_file).read_text()
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    server = xllamacpp.Server(params)
    print(f"{READY_LINE} {server.listening_address}", flush=True)
    wait_for_stop(done, args.parent_pid)
    del server
    return 0


def wait_for_stop(done: threading.Event, parent_pid: int, poll_s: float = 1.0) -> None:
    """Block until ``done`` (SIGTERM, SIGINT). When the parent process is gone (it died without
    stopping us: SIGKILL, a crash), exit the process at once: nobody waits for an answer, and
    deleting the server would first wait for the requests still in flight."""
    while not done.wait(poll_s):
        if parent_pid and os.getppid() != parent_pid:
            os._exit(0)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - runs in the child
    parser = argparse.ArgumentParser(description="Serve a GGUF with llama.cpp (xllamacpp).")
    parser.add_argument("--gguf", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ctx", type=int, default=8192)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chat-template-file")
    parser.add_argument("--alias", default="", help="The model name /v1/models lists.")
    parser.add_argument("--parent-pid", type=int, default=0, help="Exit when this process is gone.")
    return _serve(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = [
    "LlamaCppServer",
    "LlamaCppServerConfig",
    "LlamaCppServerError",
    "XLLAMACPP_REQUIREMENT",
    "lenient_chat_model",
    "shared_server",
    "start_llamacpp_server",
    "stop_shared_servers",
    "wait_for_stop",
]
