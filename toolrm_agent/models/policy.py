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

:func:`served_chat_model` is the public way from a served model to an agent's policy:
``served_chat_model("http://127.0.0.1:8080/v1")`` for ``toolrm serve`` (llama.cpp) or a
vLLM server alike.
"""

from __future__ import annotations

from typing import Any

from toolrm_agent.naming._spec_strings import parse_judge_spec  # the judge specs' grammar


def load_chat_model(
    spec: str = "default", *, max_new_tokens: int = 256, temperature: float = 0.0, **options: Any
) -> Any:
    """The chat model ``spec`` names (see the module docstring)."""
    if spec.startswith("openai:"):
        from toolrm_agent.integrations.openai_server import (
            LenientToolCallModel,
            chat_model_for_server,
        )

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


__all__ = ["load_chat_model", "sample_messages", "served_chat_model"]


def served_chat_model(
    base_url: str,
    model: str | None = None,
    *,
    temperature: float | None = 0.0,
    max_tokens: int | None = 512,
    api_key: str = "EMPTY",
    **options: Any,
) -> Any:
    """A LangChain chat model for a policy behind an OpenAI-compatible server, ready for
    ``build_agent_graph`` or ``create_agent``: the one helper from a served model to an agent.

    Works for ``toolrm serve`` (llama.cpp: small models write the call as JSON in the
    text, with no ``tool_calls``; it is read into ``tool_calls`` with the lenient parser the
    vLLM plugin uses) and for vLLM (its parsed ``tool_calls`` pass through unchanged).

    Args:
        base_url: the server, e.g. ``http://127.0.0.1:8080/v1`` (``/v1`` is added when the
            URL has no path).
        model: the served model name; ``None`` asks the server's ``/v1/models`` (the first
            model it lists).
        temperature: 0 for a deterministic policy; ``None`` leaves the server's.
        max_tokens: cap on generated tokens per answer.
        api_key: vLLM accepts anything unless started with ``--api-key``.
        options: any other ``ChatOpenAI`` field (``timeout_s``, ``max_retries``, ``top_p``, ...).

    Raises:
        ConfigurationError: ``model`` is ``None`` and no server answers ``/v1/models`` at
            ``base_url`` (start one with ``toolrm serve --model default``).
    """
    from toolrm_agent.integrations.openai_server import (
        LenientToolCallModel,
        chat_model_for_server,
        normalize_base_url,
    )

    url = normalize_base_url(base_url)
    name = model or served_model_name(url)
    inner = chat_model_for_server(
        name, url, api_key=api_key, temperature=temperature, max_tokens=max_tokens, **options
    )
    return LenientToolCallModel(inner=inner)


def served_model_name(base_url: str, timeout_s: float = 5.0) -> str:
    """The first model an OpenAI-compatible server at ``base_url`` (with ``/v1``) lists."""
    from toolrm_agent.core.errors import ConfigurationError
    from toolrm_agent.integrations._process import get_json

    data = get_json(f"{base_url}/models", timeout_s=timeout_s)
    models = data.get("data") if isinstance(data, dict) else None
    if not models or not isinstance(models[0], dict) or not models[0].get("id"):
        raise ConfigurationError(
            f"no OpenAI-compatible server lists a model at {base_url}/models; start one with "
            "`toolrm serve --model default` (llama.cpp) or vLLM, or pass model= explicitly"
        )
    return str(models[0]["id"])


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
