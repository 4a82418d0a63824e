"""One factory for the chat model a policy spec names (agents, evals, data builds).

``openai:<model>@<base_url>`` is a model behind an OpenAI-compatible server (vLLM, the
llama.cpp server) reached through ``langchain-openai`` (calls written as text are read leniently);
``llamacpp:<model>`` starts a
local llama.cpp server for an offline model or a ``.gguf`` file (once per process, see
:func:`~toolrm_agent.integrations.llamacpp_server.shared_server`; the options ``n_ctx``,
the context tokens its slots share, and ``n_parallel`` go to the server) and reads the calls
small models write as text; anything else is a
:class:`~toolrm_agent.models.LocalChatModel` (``default`` = the offline
Qwen2.5-Coder-0.5B-Instruct, ``smollm2``, a local directory or a hub id).
"""

from __future__ import annotations

from typing import Any


def load_chat_model(
    spec: str = "default", *, max_new_tokens: int = 256, temperature: float = 0.0, **options: Any
) -> Any:
    """The chat model ``spec`` names (see the module docstring)."""
    if spec.startswith("openai:"):
        from toolrm_agent.integrations.openai_server import (
            LenientToolCallModel,
            chat_model_for_server,
        )
        from toolrm_agent.judges.specs import parse_judge_spec

        options.pop("seed", None)  # one seed for every request would make all samples alike
        parsed = parse_judge_spec(spec)
        inner = chat_model_for_server(
            parsed.target,
            str(parsed.base_url),
            max_tokens=max_new_tokens,
            temperature=temperature,
            **{**parsed.model_options, **options},
        )
        # a server without a tool parser (llama.cpp) returns calls as text; vLLM's parsed
        # tool_calls pass through unchanged
        return LenientToolCallModel(inner=inner)
    if spec.startswith("llamacpp:"):
        from toolrm_agent.integrations.llamacpp_server import lenient_chat_model, shared_server

        options.pop("seed", None)  # the server draws a seed per request: samples differ
        # the server's own options: context tokens (shared by the slots) and parallel slots
        server_options = {key: int(options.pop(key)) for key in ("n_ctx", "n_parallel") if key in options}
        server = shared_server(spec.removeprefix("llamacpp:"), **server_options)
        return lenient_chat_model(server, max_tokens=max_new_tokens, temperature=temperature, **options)
    from toolrm_agent.models.local_chat import LocalChatModel

    return LocalChatModel(
        model_path=spec, max_new_tokens=max_new_tokens, temperature=temperature, **options
    )


__all__ = ["load_chat_model", "sample_messages"]


def sample_messages(model: Any, messages: list[Any], tools: list[Any], k: int) -> list[Any]:
    """``k`` answers of ``model`` (a chat model that samples) to ``messages``, tools bound.

    A model with an ``n`` field (:class:`~toolrm_agent.models.LocalChatModel`) draws the
    ``k`` samples in one ``generate`` call (one prompt, ``num_return_sequences=k``); any
    other chat model is asked ``k`` times in one ``batch``. Only ``AIMessage`` answers
    are returned.
    """
    from langchain_core.messages import AIMessage

    if k <= 0:
        return []
    if "n" in getattr(type(model), "model_fields", {}):
        result = model.generate([list(messages)], tools=tools, n=k)
        return [g.message for g in result.generations[0] if isinstance(g.message, AIMessage)]
    bound = model.bind_tools(tools)
    return [m for m in bound.batch([list(messages)] * k) if isinstance(m, AIMessage)]
