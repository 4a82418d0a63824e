"""A LangChain chat model over a local transformers model, with tool calling.

:class:`LocalChatModel` renders the model's own chat template with ``tools=...``,
generates on the CPU (or a GPU where there is one), and parses whatever the model wrote
(Hermes ``<tool_call>`` blocks, JSON in code fences, bare JSON, xLAM objects, BFCL call
strings) into ``AIMessage.tool_calls``; calls that cannot be read become
``invalid_tool_calls``. It serves as an agent's policy and as a generative judge::

    from toolrm_agent import LocalChatModel

    llm = LocalChatModel()                                  # offline Qwen2.5-Coder-0.5B
    agent_llm = llm.bind_tools([get_weather])               # LangChain tools, dicts, ToolSpecs
    msg = agent_llm.invoke("Weather in Paris?")             # msg.tool_calls

    sampler = LocalChatModel(temperature=0.8, n=4, seed=0)  # best-of-N proposals
    result = sampler.generate([messages], tools=[get_weather])  # .generations[0]: 4 messages

``invoke`` returns the first of the ``n`` samples (LangChain's contract); ``generate``
returns all of them. Loaded weights are shared by every instance in the process that
uses the same directory and dtype.

``langchain-huggingface`` was considered instead: its ``ChatHuggingFace`` over a local
``HuggingFacePipeline`` does not pass bound tools to the chat template, cannot render
``ToolMessage`` history, and never parses tool calls out of the generated text.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import ConfigDict, Field

from toolrm_agent.core.errors import ConfigurationError, ConfigurationTypeError
from toolrm_agent.core.parsing import (
    embedded_json_calls,
    message_text,
    parse_text,
    to_langchain_invalid_tool_calls,
    to_langchain_tool_calls,
    without_hermes_blocks,
)
from toolrm_agent.core.specs import to_specs
from toolrm_agent.core.thinking import split_thinking

__all__ = [
    "LocalChatModel",
    "clear_model_cache",
    "message_from_text",
    "messages_to_template",
    "tools_to_openai",
]

DType = Literal["bfloat16", "float32", "float16"]

# ------------------------------------------------------------------------ model cache


@dataclass
class _LoadedModel:
    """Weights and tokenizer of one directory in one dtype, shared by all instances."""

    path: Path
    model: Any
    tokenizer: Any
    eos_token_ids: list[int]
    pad_token_id: int | None
    device: str
    lock: threading.Lock = field(default_factory=threading.Lock)  # one generate at a time


_MODELS: dict[tuple[str, str, str], _LoadedModel] = {}
_MODELS_LOCK = threading.Lock()


def clear_model_cache() -> None:
    """Forget every loaded model (frees memory once no instance holds it)."""
    with _MODELS_LOCK:
        _MODELS.clear()


def _load(path: Path, dtype: str, device: str) -> _LoadedModel:
    key = (str(path), dtype, device)
    with _MODELS_LOCK:
        if key in _MODELS:
            return _MODELS[key]
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(path))
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=getattr(torch, dtype))
        # transformers decorates PreTrainedModel.to with functools.wraps, which types it as
        # an unbound callable (self first); the call itself is the ordinary bound one
        model.to(device)  # type: ignore[arg-type]
        model.eval()
        eos = model.generation_config.eos_token_id
        eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
        if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in eos_ids:
            eos_ids.append(tokenizer.eos_token_id)
        pad = model.generation_config.pad_token_id
        if pad is None:
            pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (eos_ids or [None])[0]
        if tokenizer.pad_token_id is None and pad is not None:  # batch() pads on the left
            tokenizer.pad_token = tokenizer.convert_ids_to_tokens(pad)
        loaded = _LoadedModel(path, model, tokenizer, eos_ids, pad, device)
        _MODELS[key] = loaded
        return loaded


# ------------------------------------------------------------------ tools and messages


def tools_to_openai(tools: Sequence[Any] | None) -> list[dict[str, Any]]:
    """LangChain tools, OpenAI dicts, BFCL docs or ToolSpecs → OpenAI ``tools`` entries."""
    return [spec.to_openai() for spec in to_specs(tools)]


def messages_to_template(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages → the dicts chat templates expect.

    An ``AIMessage`` with calls becomes ``{"role": "assistant", "content": ..,
    "tool_calls": [{"type": "function", "function": {"name", "arguments"}}]}`` (arguments
    as a dict: Hermes templates serialise them with ``tojson``); its ``invalid_tool_calls``
    are shown as the raw text the model wrote. A ``ToolMessage`` becomes ``{"role": "tool",
    "content": .., "tool_call_id": .., "name": ..}``.
    """
    out: list[dict[str, Any]] = []
    for m in messages:
        content = message_text(m.content)
        if isinstance(m, SystemMessage):
            out.append({"role": "system", "content": content})
        elif isinstance(m, HumanMessage):
            out.append({"role": "user", "content": content})
        elif isinstance(m, AIMessage):
            for bad in m.invalid_tool_calls or []:
                raw = bad.get("args") or ""
                content = f"{content}\n<tool_call>\n{raw}\n</tool_call>".strip()
            entry: dict[str, Any] = {"role": "assistant", "content": content}
            if m.tool_calls:
                entry["tool_calls"] = [
                    {
                        "id": tc.get("id"),
                        "type": "function",
                        "function": {"name": tc["name"], "arguments": dict(tc.get("args") or {})},
                    }
                    for tc in m.tool_calls
                ]
            out.append(entry)
        elif isinstance(m, ToolMessage):
            out.append(
                {
                    "role": "tool",
                    "content": content,
                    "tool_call_id": m.tool_call_id,
                    "name": m.name or "",
                }
            )
        elif isinstance(m, ChatMessage):
            out.append({"role": m.role, "content": content})
        else:
            raise ConfigurationTypeError(f"LocalChatModel cannot render a {type(m).__name__}")
    return out


# ---------------------------------------------------------------------- output parsing

# Accepted from callers such as langchain's create_agent and ignored: a local model has
# no strict schema mode and always may write several calls.
_IGNORED_TOOL_KWARGS = ("strict", "parallel_tool_calls")

_FENCE_BLOCK = re.compile(r"```[\w-]*\s*.*?```", re.DOTALL)


def message_from_text(text: str, *, parse_calls: bool = True) -> AIMessage:
    """The ``AIMessage`` for one generated text: calls parsed out, the rest as content.

    Recognises Hermes ``<tool_call>`` blocks (several, or an unterminated last one),
    JSON in a code fence, bare JSON (an object, a list, xLAM's ``{"tool_calls": [...]}``),
    BFCL call strings (``[f(a=1)]``) and, as a last resort, a JSON call embedded in prose.
    Broken calls become ``invalid_tool_calls``; ``<think>`` blocks go to
    ``additional_kwargs["reasoning_content"]`` (:func:`toolrm_agent.core.thinking.split_thinking`).
    ``parse_calls=False`` keeps the text as is.
    """
    additional: dict[str, Any] = {}
    body = text
    if "<think>" in body:
        reasoning, answer = split_thinking(body, lone_close="keep", sep="", strip_after=True)
        additional["reasoning_content"] = reasoning
        body = answer.strip()
    if not parse_calls:
        return AIMessage(content=body, additional_kwargs=additional)

    proposal = parse_text(body)
    content = body
    if proposal.is_empty:
        embedded = embedded_json_calls(body)
        if embedded is not None:
            proposal, (start, end) = embedded
            content = (body[:start] + body[end:]).strip()
    elif "<tool_call>" in body:
        content = without_hermes_blocks(body)
    elif "```" in body:
        content = _FENCE_BLOCK.sub("", body, count=1).strip()
    else:
        content = ""  # the whole text was the call(s)
    return AIMessage(
        content=content,
        tool_calls=to_langchain_tool_calls(proposal),
        invalid_tool_calls=to_langchain_invalid_tool_calls(proposal),
        additional_kwargs=additional,
    )


# ------------------------------------------------------------------------- the model


def _forced_prefix(tool_choice: Any, tools: list[dict[str, Any]]) -> str:
    """Text to start the answer with so that the model must call a (named) tool."""
    if tool_choice in (None, "auto", "none", False) or not tools:
        return ""
    name = None
    if isinstance(tool_choice, dict):
        name = (tool_choice.get("function") or {}).get("name") or tool_choice.get("name")
    elif isinstance(tool_choice, str) and tool_choice not in ("any", "required"):
        name = tool_choice
    elif tool_choice is True and len(tools) == 1:
        name = tools[0]["function"]["name"]
    if name:
        return '<tool_call>\n{"name": ' + json.dumps(name) + ', "arguments": '
    return '<tool_call>\n{"name": "'


class LocalChatModel(BaseChatModel):
    """A transformers causal LM as a LangChain chat model with tool calling.

    Fields (each can also be passed per call, e.g. ``llm.invoke(msgs, n=4)``, or bound
    with ``llm.bind(temperature=0.7)``): ``max_new_tokens``, ``temperature`` (0 = greedy),
    ``top_p``, ``top_k``, ``repetition_penalty``, ``seed``, ``n`` and
    ``chat_template_kwargs`` (e.g. ``{"enable_thinking": False}`` for Qwen3).

    ``n`` samples come from one ``generate`` call with ``num_return_sequences=n``;
    ``invoke`` returns the first, ``generate``/``agenerate`` return all. With greedy
    decoding the ``n`` samples would be identical, so one is generated and repeated.

    ``batch``/``abatch`` decode up to ``batch_size`` prompts in one left-padded
    ``generate`` (much cheaper per token on a CPU than one prompt at a time); callbacks
    and ids stay per input. Each loaded model runs one ``generate`` at a time.

    ``tool_choice`` (from ``bind_tools``): ``"none"`` renders no tools; ``"any"``,
    ``"required"``, ``True`` or a tool name start the answer with ``<tool_call>`` (and the
    name), which makes Hermes-style models call a tool; ``"auto"`` lets the model choose.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())

    model_path: str = "default"
    """Anything :func:`~toolrm_agent.models.resolve_model` accepts."""
    cache_dir: str | None = None
    """Where offline models are built (default ``$TOOLRM_CACHE`` or ``~/.cache/toolrm``)."""
    torch_dtype: DType = "bfloat16"
    """bfloat16 is faster than float32 for the 0.5B model on this project's CPUs
    (AVX512-BF16); see ``eval/bench/local_model.py``."""
    device: str | None = None
    """``"cpu"``, ``"cuda"``...; default: cuda when available, else cpu."""
    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int | None = None
    repetition_penalty: float | None = None
    seed: int | None = None
    n: int = Field(default=1, ge=1)
    chat_template_kwargs: dict[str, Any] = Field(default_factory=dict)
    parse_tool_calls: bool | None = None
    """Parse calls out of the text: None (default) = only when tools were given."""
    batch_size: int = Field(default=8, ge=1)
    """Most prompts decoded together by :meth:`batch` (1 = no batching)."""

    @property
    def _llm_type(self) -> str:
        return "toolrm-local-transformers"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        fields = ("model_path", "torch_dtype", "max_new_tokens", "temperature", "top_p", "top_k", "n")
        return {name: getattr(self, name) for name in fields}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "transformers"
        params["ls_model_name"] = str(self.model_path)
        return params

    def _combine_llm_outputs(self, llm_outputs: list[dict[str, Any] | None]) -> dict[str, Any]:
        """Token usage summed over the prompts of one ``generate`` call."""
        usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        for out in llm_outputs:
            for key, value in ((out or {}).get("token_usage") or {}).items():
                usage[key] = usage.get(key, 0) + value
        return {"model_name": str(self.model_path), "token_usage": usage}

    # ----------------------------------------------------------------- loading

    def load(self) -> _LoadedModel:
        """Resolve and load the model (shared per process); later calls are free."""
        from toolrm_agent.models.provision import resolve_model

        path = resolve_model(self.model_path, cache_dir=self.cache_dir)
        device = self.device
        if device is None:
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        return _load(path, self.torch_dtype, device)

    @property
    def tokenizer(self) -> Any:
        """The model's tokenizer (loads the model on first use)."""
        return self.load().tokenizer

    def get_num_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's own tokenizer."""
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    # ------------------------------------------------------------------- tools

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | Any],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (LangChain tools, functions, pydantic models, OpenAI dicts, BFCL
        docs or :class:`~toolrm_agent.core.specs.ToolSpec`) as OpenAI function dicts."""
        for unsupported in _IGNORED_TOOL_KWARGS:  # OpenAI-only switches some callers pass
            kwargs.pop(unsupported, None)
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=tools_to_openai(tools), **kwargs)

    # --------------------------------------------------------------- rendering

    def render_prompt(
        self,
        messages: Sequence[BaseMessage],
        tools: Sequence[Any] | None = None,
        **chat_template_kwargs: Any,
    ) -> str:
        """The exact prompt text the model sees (chat template, generation prompt)."""
        tokenizer = self.tokenizer
        kwargs = {**self.chat_template_kwargs, **chat_template_kwargs}
        openai_tools = tools_to_openai(tools) if tools else None
        text = tokenizer.apply_chat_template(
            messages_to_template(messages),
            tools=openai_tools,
            tokenize=False,
            add_generation_prompt=True,
            **kwargs,
        )
        return cast(str, text)  # the tokenizer is untyped; tokenize=False gives the text

    # -------------------------------------------------------------- generation

    def _settings(self, kwargs: dict[str, Any]) -> _Settings:
        """Per-call settings: the call's kwargs over the instance's fields."""
        kwargs = {k: v for k, v in kwargs.items() if k not in _IGNORED_TOOL_KWARGS}
        tools = tools_to_openai(kwargs.pop("tools", None) or [])
        tool_choice = kwargs.pop("tool_choice", None)
        if tool_choice == "none":
            tools = []
        parse = kwargs.pop("parse_tool_calls", self.parse_tool_calls)
        settings = _Settings(
            tools=tools,
            tool_choice=tool_choice,
            template_kwargs={**self.chat_template_kwargs, **(kwargs.pop("chat_template_kwargs", None) or {})},
            n=int(kwargs.pop("n", self.n)),
            temperature=float(kwargs.pop("temperature", self.temperature)),
            top_p=float(kwargs.pop("top_p", self.top_p)),
            top_k=kwargs.pop("top_k", self.top_k),
            repetition_penalty=kwargs.pop("repetition_penalty", self.repetition_penalty),
            seed=kwargs.pop("seed", self.seed),
            max_new_tokens=int(kwargs.pop("max_new_tokens", kwargs.pop("max_tokens", self.max_new_tokens))),
            parse_calls=bool(tools) if parse is None else bool(parse),
        )
        if kwargs:
            raise ConfigurationTypeError(f"LocalChatModel got unexpected arguments: {sorted(kwargs)}")
        if settings.n < 1:
            raise ConfigurationError(f"n must be at least 1, got {settings.n}")
        return settings

    def _prompt(self, loaded: _LoadedModel, messages: Sequence[BaseMessage], settings: _Settings) -> tuple[str, str]:
        """(prompt text, forced answer prefix) for one conversation."""
        prompt = loaded.tokenizer.apply_chat_template(
            messages_to_template(messages),
            tools=settings.tools or None,
            tokenize=False,
            add_generation_prompt=True,
            **settings.template_kwargs,
        )
        prefix = _forced_prefix(settings.tool_choice, settings.tools) if "<tool_call>" in prompt else ""
        return prompt, prefix

    def _run(
        self,
        loaded: _LoadedModel,
        prompts: list[tuple[str, str]],
        settings: _Settings,
        stop: list[str] | None,
    ) -> list[ChatResult]:
        """Generate for several prompts in one padded batch; one ChatResult per prompt."""
        import torch

        tok = loaded.tokenizer
        texts = [prompt + prefix for prompt, prefix in prompts]
        if len(texts) == 1:
            inputs = tok(texts, return_tensors="pt", add_special_tokens=False)
        else:
            inputs = tok(texts, return_tensors="pt", add_special_tokens=False, padding=True, padding_side="left")
        inputs = inputs.to(loaded.device)
        width = int(inputs["input_ids"].shape[1])
        prompt_lens = [int(x) for x in inputs["attention_mask"].sum(dim=1).tolist()]

        sample = settings.temperature > 0.0
        runs = settings.n if sample else 1  # greedy samples would all be the same
        gen_kwargs: dict[str, Any] = {
            "max_new_tokens": settings.max_new_tokens,
            "do_sample": sample,
            "num_return_sequences": runs,
            "eos_token_id": loaded.eos_token_ids or None,
            "pad_token_id": loaded.pad_token_id,
        }
        if sample:
            gen_kwargs.update(temperature=settings.temperature, top_p=settings.top_p)
            gen_kwargs["top_k"] = settings.top_k if settings.top_k is not None else 0
        else:  # silence the sampling defaults of generation_config.json
            gen_kwargs.update(temperature=None, top_p=None, top_k=None)
        if settings.repetition_penalty is not None:
            gen_kwargs["repetition_penalty"] = float(settings.repetition_penalty)
        if stop:
            gen_kwargs.update(stop_strings=list(stop), tokenizer=tok)

        with loaded.lock, torch.inference_mode():
            if settings.seed is not None:
                torch.manual_seed(int(settings.seed))
            started = time.perf_counter()
            output = loaded.model.generate(**inputs, **gen_kwargs)
            seconds = time.perf_counter() - started

        eos = set(loaded.eos_token_ids)
        rows = output[:, width:].tolist()
        per_prompt: list[list[tuple[str, int, str]]] = []
        for p, (_, prefix) in enumerate(prompts):
            samples = []
            for row in rows[p * runs : (p + 1) * runs]:
                n_out, finish = len(row), "length"
                for i, token in enumerate(row):
                    if token in eos:
                        n_out, finish = i + 1, "stop"
                        break
                text = prefix + tok.decode(row[:n_out], skip_special_tokens=True)
                if stop:
                    cut = min((text.find(s) for s in stop if s in text), default=-1)
                    if cut >= 0:
                        text, finish = text[:cut], "stop"
                samples.append((text, n_out, finish))
            per_prompt.append((samples * settings.n)[: settings.n])
        total_out = sum(n_out for samples in per_prompt for _, n_out, _ in samples[:runs])
        speed = round(total_out / seconds, 2) if seconds > 0 else None
        return [
            self._result(loaded, samples, prompt_len, settings, seconds, speed, len(prompts))
            for samples, prompt_len in zip(per_prompt, prompt_lens, strict=True)
        ]

    def _result(
        self,
        loaded: _LoadedModel,
        samples: list[tuple[str, int, str]],
        prompt_len: int,
        settings: _Settings,
        seconds: float,
        speed: float | None,
        batch_size: int,
    ) -> ChatResult:
        generations = []
        for text, n_out, finish in samples:
            message = message_from_text(text, parse_calls=settings.parse_calls)
            if message.tool_calls and finish == "stop":
                finish = "tool_calls"
            message.usage_metadata = {
                "input_tokens": prompt_len,
                "output_tokens": n_out,
                "total_tokens": prompt_len + n_out,
            }
            message.response_metadata = {
                "model_name": str(self.model_path),
                "model_dir": str(loaded.path),
                "finish_reason": finish,
                "torch_dtype": self.torch_dtype,
                "generation_seconds": round(seconds, 3),
                "tokens_per_second": speed,
                "batch_size": batch_size,
                "raw_text": text,
            }
            generations.append(ChatGeneration(message=message, generation_info={"finish_reason": finish}))
        completion = sum(s[1] for s in samples)
        prompt_total = prompt_len * len(samples)
        return ChatResult(
            generations=generations,
            llm_output={
                "model_name": str(self.model_path),
                "token_usage": {
                    "prompt_tokens": prompt_total,
                    "completion_tokens": completion,
                    "total_tokens": prompt_total + completion,
                },
            },
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        settings = self._settings(kwargs)
        loaded = self.load()
        prompt = self._prompt(loaded, messages, settings)
        ready = _PRECOMPUTED.get()
        if ready is not None:  # inside batch(): the batched pass already answered this prompt
            result = ready.take(prompt)
            if result is not None:
                return result
        return self._run(loaded, [prompt], settings, stop)[0]

    # ------------------------------------------------------------------ batching

    def batch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Answer several inputs with one padded ``generate`` over all of them.

        On a CPU, decoding a batch of B prompts costs far less than B single runs (the
        weights are read once per step for all of them). The batched answers are then
        handed out through the usual per-input path, so callbacks, tracing and ids
        behave as with ``invoke``. Inputs are split into chunks of ``batch_size``.
        """
        if len(inputs) < 2 or self.batch_size < 2:
            return super().batch(inputs, config, return_exceptions=return_exceptions, **kwargs)
        ready = _Precomputed()
        try:
            settings = self._settings(kwargs)
            loaded = self.load()
            prompts = [self._prompt(loaded, self._convert_input(x).to_messages(), settings) for x in inputs]
            stop = kwargs.get("stop")
            for start in range(0, len(prompts), self.batch_size):
                chunk = prompts[start : start + self.batch_size]
                for prompt, result in zip(chunk, self._run(loaded, chunk, settings, stop), strict=True):
                    ready.put(prompt, result)
        except Exception:  # noqa: BLE001 - the per-input path reports errors input by input
            if not return_exceptions:
                raise
        token = _PRECOMPUTED.set(ready)
        try:
            return super().batch(inputs, config, return_exceptions=return_exceptions, **kwargs)
        finally:
            _PRECOMPUTED.reset(token)

    async def abatch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Async twin of :meth:`batch` (the batched pass runs in a worker thread)."""
        import asyncio

        return await asyncio.to_thread(
            self.batch, inputs, config, return_exceptions=return_exceptions, **kwargs
        )


@dataclass
class _Settings:
    tools: list[dict[str, Any]]
    tool_choice: Any
    template_kwargs: dict[str, Any]
    n: int
    temperature: float
    top_p: float
    top_k: int | None
    repetition_penalty: float | None
    seed: int | None
    max_new_tokens: int
    parse_calls: bool


class _Precomputed:
    """Results of a batched pass, waiting for the per-input calls that will take them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: dict[tuple[str, str], list[ChatResult]] = {}

    def put(self, prompt: tuple[str, str], result: ChatResult) -> None:
        with self._lock:
            self._results.setdefault(prompt, []).append(result)

    def take(self, prompt: tuple[str, str]) -> ChatResult | None:
        with self._lock:
            queue = self._results.get(prompt)
            return queue.pop(0) if queue else None


_PRECOMPUTED: ContextVar[_Precomputed | None] = ContextVar("toolrm_local_precomputed", default=None)
