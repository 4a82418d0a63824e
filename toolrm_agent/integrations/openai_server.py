"""The client side of the production path: models served by vLLM (or any OpenAI-compatible
server) reached through ``langchain-openai``.

::

    from toolrm_agent.integrations.openai_server import chat_model_for_server, sample_proposals

    policy = chat_model_for_server("qwen2.5-coder-0.5b", "http://127.0.0.1:8000/v1")
    agent_model = policy.bind_tools(tools)               # one proposal per turn
    candidates = sample_proposals(policy, messages, tools, n=4)   # best-of-N: 4 AIMessages
    critic = ToolRMCritic(judge, mode="best_of_n", n=4, proposer=server_proposer(policy, tools))

Why :func:`sample_proposals` exists: ``ChatOpenAI(n=4).bind_tools(tools).invoke(...)``
sends ``n=4`` and the server honours it, but ``invoke`` returns only the first choice.
``BaseChatModel.generate`` keeps every choice, so one request yields all ``n`` samples.
Models that are not OpenAI clients get ``n`` separate requests (run concurrently).

``langchain-openai`` (the ``openai`` extra) is imported inside the functions, so importing
this module is cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from langchain_core.language_models import BaseChatModel
from langchain_core.outputs import ChatGeneration, ChatResult

from toolrm_agent.core.errors import ConfigurationError, ConfigurationTypeError, ModelProvisioningError

if TYPE_CHECKING:
    from langchain_core.messages import AIMessage
    from langchain_core.runnables import RunnableConfig
    from langchain_openai import ChatOpenAI

DEFAULT_TIMEOUT_S = 120.0
"""Seconds per request: a CPU vLLM server needs tens of seconds for a long answer."""
DEFAULT_MAX_RETRIES = 2
"""The OpenAI client's own retries (connection errors, 429, 5xx), with its backoff."""
DEFAULT_MAX_TOKENS = 512
"""Enough for a few tool calls or a verdict with a short critique."""
DEFAULT_SAMPLING_TEMPERATURE = 0.7
"""Temperature of best-of-N samples: greedy samples would all be the same."""


def normalize_base_url(base_url: str) -> str:
    """``http://host:8000`` → ``http://host:8000/v1``; a URL with a path is kept as is."""
    url = base_url.strip().rstrip("/")
    if not urlsplit(url).scheme:
        raise ConfigurationError(f"base_url needs a scheme such as http://, got {base_url!r}")
    return url + "/v1" if urlsplit(url).path in ("", "/") else url


def chat_openai_class() -> type[ChatOpenAI]:
    """``langchain_openai.ChatOpenAI``; a :class:`ModelProvisioningError` naming the extra
    to install when ``langchain-openai`` is missing."""
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModelProvisioningError(
            "models behind an OpenAI-compatible server need langchain-openai: "
            "pip install 'toolrm-agent[openai]'"
        ) from exc
    return ChatOpenAI


def chat_openai(
    model: str, base_url: str | None, *, api_key: str = "EMPTY", **options: Any
) -> ChatOpenAI:
    """The one place a ``ChatOpenAI`` is built: ``model`` served at ``base_url``, with
    ``options`` (any ``ChatOpenAI`` field) passed as given and nothing added.

    Judge specs (``openai:<model>@<url>``) call it as is; :func:`chat_model_for_server`
    (policies, the vLLM and llama.cpp helpers) adds its defaults first.
    """
    # pydantic validates the str into a SecretStr, but the __init__ that mypy synthesizes for
    # the model only admits the field's type
    return chat_openai_class()(model=model, base_url=base_url, api_key=api_key, **options)  # type: ignore[arg-type]


def chat_model_for_server(
    model: str,
    base_url: str,
    *,
    api_key: str = "EMPTY",
    timeout_s: float | None = DEFAULT_TIMEOUT_S,
    max_retries: int = DEFAULT_MAX_RETRIES,
    temperature: float | None = 0.0,
    max_tokens: int | None = DEFAULT_MAX_TOKENS,
    **kwargs: Any,
) -> ChatOpenAI:
    """A ``ChatOpenAI`` for a self-hosted OpenAI-compatible server such as vLLM.

    Args:
        model: the served model name (vLLM's ``--served-model-name``, else the ``--model``
            path it was started with).
        base_url: the server's URL; ``/v1`` is added when the URL has no path.
        api_key: vLLM accepts anything unless started with ``--api-key``.
        timeout_s: seconds per request (``None``: no timeout).
        max_retries: retries of the OpenAI client on connection errors, 429 and 5xx.
        temperature: 0 for a deterministic policy or judge; ``None`` leaves the server's.
        max_tokens: cap on generated tokens per choice (``None``: the server's limit).
        kwargs: any other ``ChatOpenAI`` field (``extra_body``, ``n``, ``top_p``, ...).
    """
    if max_retries < 0:
        raise ConfigurationError(f"max_retries must be >= 0, not {max_retries}")
    options: dict[str, Any] = {"timeout": timeout_s, "max_retries": max_retries, **kwargs}
    if temperature is not None:
        options["temperature"] = temperature
    if max_tokens is not None:
        options["max_tokens"] = max_tokens
    return chat_openai(model, normalize_base_url(base_url), api_key=api_key, **options)


# ------------------------------------------------------------------------------ best-of-N


def sample_proposals(
    model: Any,
    messages: Any,
    tools: Sequence[Any] | None = None,
    n: int = 4,
    *,
    tool_choice: Any = None,
    temperature: float | None = DEFAULT_SAMPLING_TEMPERATURE,
    model_name: str | None = None,
    config: RunnableConfig | None = None,
    **kwargs: Any,
) -> list[AIMessage]:
    """``n`` sampled answers (``AIMessage``, tool calls parsed) to the same ``messages``.

    Args:
        model: a ``ChatOpenAI`` (one request with ``n=...``; missing choices are topped up
            with further requests), any other LangChain chat model (``n`` concurrent
            requests), a ``bind_tools(...)`` binding of either (its tools are used when
            ``tools`` is None), or a raw ``openai.OpenAI`` client (needs ``model_name``).
        messages: LangChain messages, OpenAI message dicts or a string.
        tools: LangChain tools, OpenAI function dicts, pydantic models, ...
        n: how many samples.
        tool_choice: passed to ``bind_tools`` (``"auto"``, ``"required"``, a name, ...).
        temperature: sampling temperature; ``None`` keeps the model's.
        model_name: the served model, for a raw OpenAI client only.
        config: LangChain run config (callbacks, tags) for the request.
        kwargs: further request parameters (``max_tokens``, ``top_p``, ``extra_body``, ...).

    Token usage: one request with ``n`` choices reports its usage once, so only the first
    message of that request carries ``usage_metadata``; summing over the list gives the
    true total. Separate requests each carry their own.
    """
    if n < 1:
        raise ConfigurationError(f"n must be >= 1, not {n}")
    plan = _plan(model, messages, tools, tool_choice, temperature, model_name, kwargs)
    if plan.client is not None:
        return _client_samples(plan, n, plan.client.chat.completions.create(**plan.payload(n)))
    if plan.native_n:
        out: list[AIMessage] = []
        for _ in range(n):  # bounded top-up for servers that ignore or cap n
            result = plan.chat.generate([plan.messages], **plan.call_kwargs(n - len(out), config))
            out.extend(_request_messages(result.generations[0]))
            if len(out) >= n:
                break
        return out[:n]
    bound = plan.chat.bind(**plan.call_kwargs(1, None))
    return list(bound.batch([plan.messages] * n, config=config))


async def asample_proposals(
    model: Any,
    messages: Any,
    tools: Sequence[Any] | None = None,
    n: int = 4,
    *,
    tool_choice: Any = None,
    temperature: float | None = DEFAULT_SAMPLING_TEMPERATURE,
    model_name: str | None = None,
    config: RunnableConfig | None = None,
    **kwargs: Any,
) -> list[AIMessage]:
    """The async twin of :func:`sample_proposals` (``openai.AsyncOpenAI`` for raw clients)."""
    if n < 1:
        raise ConfigurationError(f"n must be >= 1, not {n}")
    plan = _plan(model, messages, tools, tool_choice, temperature, model_name, kwargs)
    if plan.client is not None:
        response = await plan.client.chat.completions.create(**plan.payload(n))
        return _client_samples(plan, n, response)
    if plan.native_n:
        out: list[AIMessage] = []
        for _ in range(n):
            result = await plan.chat.agenerate(
                [plan.messages], **plan.call_kwargs(n - len(out), config)
            )
            out.extend(_request_messages(result.generations[0]))
            if len(out) >= n:
                break
        return out[:n]
    bound = plan.chat.bind(**plan.call_kwargs(1, None))
    return list(await bound.abatch([plan.messages] * n, config=config))


def server_proposer(
    model: Any,
    tools: Sequence[Any] | None = None,
    **options: Any,
) -> Callable[[list[Any], int], list[AIMessage]]:
    """A best-of-N ``proposer`` for :class:`~toolrm_agent.critic.node.ToolRMCritic`.

    ``ToolRMCritic(judge, mode="best_of_n", n=4, proposer=server_proposer(llm, tools))``
    draws the extra candidates with one ``n=k`` request instead of ``k`` requests (a
    Runnable proposer is called with ``batch``). ``options`` go to :func:`sample_proposals`
    (``temperature``, ``tool_choice``, ``max_tokens``, ...).
    """

    def propose(messages: list[Any], k: int) -> list[AIMessage]:
        return sample_proposals(model, messages, tools, n=k, **options)

    return propose


def lenient_message(message: Any, tool_names: Sequence[str] | None = None) -> Any:
    """``message`` with the calls written in its text moved into ``tool_calls``.

    For servers without a tool parser (llama.cpp with small Qwen models answers with the
    call as JSON in ``content``). Reads text with the vLLM plugin's parser, so the client
    and the server side accept exactly the same shapes. A message that already has tool
    calls, or whose text holds none, is returned unchanged.
    """
    from langchain_core.messages import AIMessage

    from toolrm_agent.core.calls import Proposal
    from toolrm_agent.core.parsing import message_text, to_langchain_tool_calls
    from toolrm_agent.integrations.vllm_tool_parser import extract_tool_calls_lenient

    if not isinstance(message, AIMessage) or message.tool_calls or message.invalid_tool_calls:
        return message
    found = extract_tool_calls_lenient(message_text(message.content), tool_names)
    if not found.calls:
        return message
    return message.model_copy(
        update={"content": found.content or "", "tool_calls": to_langchain_tool_calls(Proposal(calls=found.calls))}
    )


class LenientToolCallModel(BaseChatModel):
    """A chat model whose answers get their text-written calls as ``tool_calls``.

    Wraps any LangChain chat model (a ``ChatOpenAI`` for a llama.cpp server);
    ``bind_tools`` binds the inner model's tool payload to this wrapper. ``health``,
    when given, is asked after a failed request: an error it returns (a dead server
    process) is raised instead of the client's connection error.
    """

    inner: Any
    health: Any = None

    @property
    def _llm_type(self) -> str:
        return "toolrm-lenient-tool-calls"

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> Any:
        bound = self.inner.bind_tools(tools, tool_choice=tool_choice, **kwargs)
        return self.bind(**bound.kwargs)

    def _result(self, result: Any, kwargs: dict[str, Any]) -> ChatResult:
        from toolrm_agent.integrations.vllm_tool_parser import offered_tool_names

        names = offered_tool_names(kwargs.get("tools"))
        generations = [
            ChatGeneration(message=lenient_message(g.message, names), generation_info=g.generation_info)
            for g in result.generations[0]
        ]
        return ChatResult(generations=generations, llm_output=result.llm_output)

    def _raise_crash(self, exc: BaseException) -> None:
        crash = self.health() if self.health is not None else None
        if crash is not None:
            raise crash from exc

    def _generate(self, messages: list[Any], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        try:
            result = self.inner.generate([messages], stop=stop, **kwargs)
        except Exception as exc:
            self._raise_crash(exc)
            raise
        return self._result(result, kwargs)

    async def _agenerate(self, messages: list[Any], stop: list[str] | None = None,
                         run_manager: Any = None, **kwargs: Any) -> ChatResult:
        try:
            result = await self.inner.agenerate([messages], stop=stop, **kwargs)
        except Exception as exc:
            self._raise_crash(exc)
            raise
        return self._result(result, kwargs)


class _Plan:
    """What a sampling call sends, worked out once for the sync and async twins."""

    def __init__(self) -> None:
        self.chat: Any = None
        self.client: Any = None
        self.native_n = False
        self.messages: list[Any] = []
        self.request: dict[str, Any] = {}
        self.model_name: str | None = None

    def call_kwargs(self, n: int, config: RunnableConfig | None) -> dict[str, Any]:
        """Keywords for ``generate``/``bind``: request fields, plus run config for generate."""
        kwargs = dict(self.request)
        if self.native_n:
            kwargs["n"] = n
            kwargs["stream"] = False  # a streamed n>1 response would be merged into one
            config = config or {}
            for key in ("callbacks", "tags", "metadata", "run_name"):
                if config.get(key) is not None:
                    kwargs[key] = config[key]
        return kwargs

    def payload(self, n: int) -> dict[str, Any]:
        """The ``chat.completions.create`` payload for a raw OpenAI client."""
        from langchain_core.messages import convert_to_openai_messages

        return {
            "model": self.model_name,
            "messages": convert_to_openai_messages(self.messages),
            "n": n,
            **self.request,
        }


def _plan(
    model: Any,
    messages: Any,
    tools: Sequence[Any] | None,
    tool_choice: Any,
    temperature: float | None,
    model_name: str | None,
    kwargs: dict[str, Any],
) -> _Plan:
    from langchain_core.messages import convert_to_messages
    from langchain_core.runnables import RunnableBinding

    plan = _Plan()
    plan.messages = convert_to_messages([messages] if isinstance(messages, str) else messages)
    request: dict[str, Any] = {}
    if isinstance(model, RunnableBinding):  # e.g. llm.bind_tools(tools)
        request.update(model.kwargs)
        model = model.bound

    if _is_openai_client(model):
        if not model_name:
            raise ConfigurationError("a raw OpenAI client needs model_name= (the served model)")
        from langchain_core.utils.function_calling import convert_to_openai_tool

        plan.client, plan.model_name = model, model_name
        if tools:
            request["tools"] = [convert_to_openai_tool(t) for t in tools]
        if tool_choice is not None:
            request["tool_choice"] = _openai_tool_choice(tool_choice)
    else:
        if not hasattr(model, "generate") or not hasattr(model, "bind"):
            raise ConfigurationTypeError(
                f"model must be a LangChain chat model or an OpenAI client, not {type(model).__name__}"
            )
        plan.chat = model
        plan.native_n = _is_chat_openai(model)
        if tools:
            bind_kwargs = {"tool_choice": tool_choice} if tool_choice is not None else {}
            request.update(model.bind_tools(list(tools), **bind_kwargs).kwargs)
        elif tool_choice is not None:
            raise ConfigurationError("tool_choice needs tools (or a bind_tools(...) binding)")
    if temperature is not None:
        request["temperature"] = temperature
    request.update(kwargs)
    plan.request = request
    return plan


def _is_chat_openai(model: Any) -> bool:
    try:
        from langchain_openai.chat_models.base import BaseChatOpenAI
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return isinstance(model, BaseChatOpenAI)


def _is_openai_client(model: Any) -> bool:
    try:
        import openai
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return isinstance(model, (openai.OpenAI, openai.AsyncOpenAI))


def _openai_tool_choice(tool_choice: Any) -> Any:
    """LangChain-style ``tool_choice`` (a bare function name allowed) → OpenAI's."""
    if isinstance(tool_choice, str) and tool_choice not in ("auto", "none", "required"):
        return {"type": "function", "function": {"name": tool_choice}}
    return tool_choice


def _request_messages(generations: Sequence[Any]) -> list[AIMessage]:
    """The messages of one request's choices; its usage stays on the first one only."""
    messages = [g.message for g in generations]
    for message in messages[1:]:
        message.usage_metadata = None
    return messages


def _client_samples(plan: _Plan, n: int, response: Any) -> list[AIMessage]:
    """A raw ``ChatCompletion`` → ``AIMessage`` per choice (tool calls parsed)."""
    from langchain_core.messages import AIMessage
    from langchain_core.output_parsers.openai_tools import make_invalid_tool_call, parse_tool_call

    usage = getattr(response, "usage", None)
    out: list[AIMessage] = []
    for index, choice in enumerate(response.choices[:n]):
        tool_calls, invalid = [], []
        for raw in choice.message.tool_calls or []:
            raw_dict = raw.model_dump()
            try:
                parsed = parse_tool_call(raw_dict, return_id=True)
            except Exception as exc:  # OutputParserException on bad JSON arguments
                invalid.append(make_invalid_tool_call(raw_dict, str(exc)))
            else:
                if parsed is not None:
                    tool_calls.append(parsed)
        message = AIMessage(
            content=choice.message.content or "",
            tool_calls=tool_calls,
            invalid_tool_calls=invalid,
            response_metadata={"finish_reason": choice.finish_reason, "model_name": response.model},
        )
        if usage is not None and index == 0:
            message.usage_metadata = {
                "input_tokens": usage.prompt_tokens,
                "output_tokens": usage.completion_tokens,
                "total_tokens": usage.total_tokens,
            }
        out.append(message)
    return out


__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_SAMPLING_TEMPERATURE",
    "DEFAULT_TIMEOUT_S",
    "LenientToolCallModel",
    "asample_proposals",
    "chat_model_for_server",
    "chat_openai",
    "chat_openai_class",
    "lenient_message",
    "normalize_base_url",
    "sample_proposals",
    "server_proposer",
]
