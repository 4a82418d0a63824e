"""Bridges to serving stacks: vLLM's OpenAI-compatible server and its clients.

- :mod:`toolrm_agent.integrations.openai_server`: the client side, ``ChatOpenAI`` for a
  vLLM (or any OpenAI-compatible) server and best-of-N sampling over it
  (:func:`chat_model_for_server`, :func:`sample_proposals`, :func:`asample_proposals`,
  :func:`server_proposer` for ``ToolRMCritic(mode="best_of_n")``).
- :mod:`toolrm_agent.integrations.vllm_server`: start and stop a local vLLM server in its
  own venv (:class:`VLLMServerConfig`, :func:`start_vllm_server`).
- :mod:`toolrm_agent.integrations.vllm_tool_parser`: the server side, a lenient tool-call
  parser loaded by ``vllm`` through ``--tool-parser-plugin`` (see ``docs/vllm.md``).

Names are loaded lazily, so importing this package imports neither ``langchain_openai``
nor vLLM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolrm_agent.core._lazy import lazy_exports as _lazy_exports

_EXPORTS: dict[str, str] = {
    "chat_model_for_server": "toolrm_agent.integrations.openai_server",
    "sample_proposals": "toolrm_agent.integrations.openai_server",
    "asample_proposals": "toolrm_agent.integrations.openai_server",
    "server_proposer": "toolrm_agent.integrations.openai_server",
    "VLLMServerConfig": "toolrm_agent.integrations.vllm_server",
    "start_vllm_server": "toolrm_agent.integrations.vllm_server",
    "extract_tool_calls_lenient": "toolrm_agent.integrations.vllm_tool_parser",
    "LenientExtraction": "toolrm_agent.integrations.vllm_tool_parser",
    "PARSER_NAME": "toolrm_agent.integrations.vllm_tool_parser",
}

__all__ = [
    "PARSER_NAME",
    "LenientExtraction",
    "VLLMServerConfig",
    "asample_proposals",
    "chat_model_for_server",
    "extract_tool_calls_lenient",
    "sample_proposals",
    "server_proposer",
    "start_vllm_server",
]


__getattr__, __dir__ = _lazy_exports(globals(), _EXPORTS)


if TYPE_CHECKING:  # pragma: no cover
    from toolrm_agent.integrations.openai_server import (
        asample_proposals,
        chat_model_for_server,
        sample_proposals,
        server_proposer,
    )
    from toolrm_agent.integrations.vllm_server import VLLMServerConfig, start_vllm_server
    from toolrm_agent.integrations.vllm_tool_parser import (
        PARSER_NAME,
        LenientExtraction,
        extract_tool_calls_lenient,
    )
