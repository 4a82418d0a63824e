"""A local server process: start it in its own process group, wait until it answers, stop it.

Shared by :mod:`~toolrm_agent.integrations.vllm_server` and
:mod:`~toolrm_agent.integrations.llamacpp_server`; only the command line and the
readiness check differ between them. Standard library only.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolrm_agent.core.errors import ToolRMError


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ServerEndpoint:
    """Where clients reach a served model: what ``chat_model_for_server`` needs."""

    base_url: str
    """The OpenAI base URL (``.../v1``)."""
    model: str
    """The name clients pass as ``model``."""


@dataclass
class LocalServer:
    """A running server process; a context manager that stops it on exit."""

    name: str
    """What it is, for error messages (``vLLM server``, ``llama.cpp server``)."""
    process: subprocess.Popen[bytes]
    host: str
    port: int
    log_path: Path
    served_model: str
    startup_s: float = 0.0

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI base URL (``.../v1``)."""
        return f"{self.root_url}/v1"

    @property
    def model(self) -> str:
        """The name clients pass as ``model``."""
        return self.served_model

    @property
    def endpoint(self) -> ServerEndpoint:
        return ServerEndpoint(base_url=self.base_url, model=self.model)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM to the process group, SIGKILL after ``timeout_s``; idempotent."""
        stop_group(self.process, timeout_s)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def launch(command: Sequence[str], *, env: dict[str, str], log_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start ``command`` in a new process group with its output appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=str(cwd),
            start_new_session=True,  # its own process group, so stop() reaches its children
        )


def wait_until_ready(
    server: LocalServer,
    ready: Callable[[LocalServer], bool],
    *,
    started: float,
    timeout_s: float,
    error: type[ToolRMError],
    poll_s: float = 0.5,
) -> None:
    """Return once ``ready(server)``, with ``server.startup_s`` set (seconds since the
    ``time.monotonic()`` reading ``started``); stop the process and raise ``error`` (with
    the log's tail) if it exits or ``timeout_s`` passes (any other error, an interrupt
    included, stops it too)."""
    try:
        _poll_until_ready(server, ready, timeout_s=timeout_s, error=error, poll_s=poll_s)
    except BaseException:
        server.stop()
        raise
    server.startup_s = time.monotonic() - started


def _poll_until_ready(
    server: LocalServer, ready: Callable[[LocalServer], bool], *, timeout_s: float, error: type[ToolRMError],
    poll_s: float,
) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        code = server.process.poll()
        if code is not None:
            raise error(
                f"{server.name} exited with code {code} during startup; log {server.log_path}:\n"
                + server.log_tail()
            )
        if ready(server):
            return
        if time.monotonic() > deadline:
            raise error(
                f"{server.name} not ready after {timeout_s:.0f} s; log {server.log_path}:\n"
                + server.log_tail()
            )
        time.sleep(poll_s)


def get_json(url: str, timeout_s: float = 5.0) -> Any | None:
    """The JSON body of a 200 answer to GET ``url``; ``None`` on any error."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            if resp.status != 200:
                return None
            return json.load(resp)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def stop_group(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """End ``process`` and everything in its process group."""
    if process.poll() is not None:
        _kill_group(process.pid, signal.SIGKILL)  # stragglers of an exited leader
        return
    _kill_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    _kill_group(process.pid, signal.SIGKILL)  # a child that outlived the leader


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


__all__ = ["LocalServer", "ServerEndpoint", "free_port", "get_json", "launch", "stop_group", "wait_until_ready"]
