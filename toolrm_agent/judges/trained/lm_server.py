"""The LM reading through an OpenAI-compatible server that returns prompt log-probabilities.

:class:`ServerLMScorer` renders the prefix and each proposal exactly as
:class:`~toolrm_agent.judges.trained.lm_scoring.LMScorer` does (the same chat template, the same
``tools`` scope, the same cuts; only the tokenizer is loaded here), sends
``prefix + proposal`` for every proposal of a prefix in **one** request to the server's
``/completions`` (``prompt`` a list of token-id lists, ``max_tokens=1``,
``prompt_logprobs=0``), and reads the proposal tokens' log-probabilities off the answer.
vLLM returns them (``choices[i].prompt_logprobs``, one entry per prompt token of prompt
``i``); a GPU user thus gets the LM tier from the server that serves the policy.

What it costs there: vLLM does not read its prefix cache for a request that asks for
prompt log-probabilities (it must compute the logits of every prompt token), so each
proposal is a full pass over ``prefix + proposal``, not one prefix pass shared by all as in
the local reader. Sending them in one request lets the server batch those passes.

A server returns no hidden states: this scorer serves critics whose LM inputs are the
log-likelihood statistics (``lm_stats``), and :class:`~toolrm_agent.judges.trained.trained.CriticReader`
refuses it at construction for a head that reads hidden states. Nor does it decode the
LM's own values: :meth:`ServerLMScorer.suggest` returns none (a trained critic with
``lm_url`` writes its critiques without them), nor give the verifier reading
(:meth:`ServerLMScorer.verify_on_prefix` refuses). llama.cpp's server does
not return prompt log-probabilities: an answer without them is a
:class:`~toolrm_agent.core.errors.JudgeBackendError` that says so.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.errors import ConfigurationError, JudgeBackendError
from toolrm_agent.judges.trained.lm_scoring import (
    LMReading,
    LMScorer,
    TagScope,
    ToolScope,
    ValueCompletion,
    ValueSpan,
    ValueSuggestion,
    finite,
)

__all__ = ["ServerLMScorer"]


class ServerLMScorer(LMScorer):
    """LM readings (log-likelihood statistics only) from an OpenAI-compatible server.

    Args:
        tokenizer_path: the served model's tokenizer (a local directory: the offline
            model's, or a download of the served one), used to render and count tokens.
        base_url: the server's OpenAI base URL (``http://host:8000/v1``).
        model: the served model's name.
        timeout_s: per request.
        tools / tags / max_prefix_tokens / max_proposal_tokens: as :class:`LMScorer`.
    """

    def __init__(
        self,
        tokenizer_path: str | Path,
        *,
        base_url: str,
        model: str,
        timeout_s: float = 60.0,
        api_key: str = "EMPTY",
        tools: ToolScope = "all",
        tags: TagScope = "read",
        max_prefix_tokens: int = 3072,
        max_proposal_tokens: int = 512,
    ) -> None:
        super().__init__(tokenizer_path, tools=tools, tags=tags, max_prefix_tokens=max_prefix_tokens,
                         max_proposal_tokens=max_proposal_tokens)
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"base_url must be an http(s) URL, got {base_url!r}")
        if timeout_s <= 0:
            raise ConfigurationError(f"timeout_s must be > 0, got {timeout_s}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self.api_key = api_key
        self._tok: Any = None
        self._tok_lock = threading.Lock()

    @property
    def tokenizer(self) -> Any:
        with self._tok_lock:
            if self._tok is None:
                from transformers import AutoTokenizer

                self._tok = AutoTokenizer.from_pretrained(self.model_path)
        return self._tok

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        import httpx

        try:
            resp = httpx.post(f"{self.base_url}/completions", json=body, timeout=self.timeout_s,
                              headers={"Authorization": f"Bearer {self.api_key}"})
            resp.raise_for_status()
            data: dict[str, Any] = resp.json()
        except (httpx.HTTPError, json.JSONDecodeError, ValueError) as exc:
            raise JudgeBackendError(f"LM server {self.base_url}: {type(exc).__name__}: {exc}") from exc
        return data

    def read_on_prefix(self, prefix: list[int], proposals: Sequence[Proposal]) -> list[LMReading]:
        if not proposals:
            return []
        suffixes = [self.suffix_ids(p) for p in proposals]
        prompts = [prefix + suffix for suffix in suffixes]
        data = self._post({"model": self.model, "prompt": prompts, "max_tokens": 1,
                           "temperature": 0.0, "prompt_logprobs": 0})
        choices = _choices(data, len(prompts), self.base_url)
        readings: list[LMReading] = []
        for choice, ids, suffix in zip(choices, prompts, suffixes, strict=True):
            readings.append(self.reading(suffix, _suffix_logprobs(choice, ids, len(suffix), self.base_url),
                                         len(prefix)))
        return readings

    def suggest(self, context: JudgeContext, proposal: Proposal, **_: Any) -> list[ValueSuggestion]:
        """None: a server's prompt log-probabilities give no greedy values (see the module docstring)."""
        return []

    def verify_on_prefix(self, prefix: list[int], proposals: Sequence[Proposal]) -> list[float]:
        raise ConfigurationError("an LM read through a server gives no verifier reading (it needs the next "
                                 "token's logits); use a local LMScorer")

    def complete_value(self, context: JudgeContext, proposal: Proposal, span: ValueSpan, *,
                       max_new_tokens: int = 0) -> ValueCompletion:
        raise ConfigurationError("an LM read through a server decodes no values; use a local LMScorer")


def _choices(data: dict[str, Any], n: int, url: str) -> list[dict[str, Any]]:
    """The answer's choices in prompt order (choice ``i`` answers prompt ``i``; servers may list them
    in any order)."""
    choices = data.get("choices")
    if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
        raise JudgeBackendError(f"LM server {url} answered {n} prompts without a list of choices")
    by_index = {c.get("index"): c for c in choices}
    if len(choices) != n or set(by_index) != set(range(n)):
        raise JudgeBackendError(f"LM server {url} answered {n} prompts with choices "
                                f"{sorted(map(str, by_index))}, not one per prompt (indexes 0..{n - 1})")
    return [by_index[i] for i in range(n)]


def _suffix_logprobs(choice: dict[str, Any], ids: list[int], n: int, url: str) -> list[float]:
    """The log-probabilities of the last ``n`` prompt tokens in one vLLM-style choice."""
    entries = choice.get("prompt_logprobs")
    if not isinstance(entries, list) or len(entries) != len(ids):
        raise JudgeBackendError(
            f"LM server {url} returned no prompt log-probabilities for the {len(ids)} prompt tokens "
            "(`prompt_logprobs`); vLLM returns them, llama.cpp's server does not"
        )
    out: list[float] = []
    for token, entry in zip(ids[-n:], entries[-n:], strict=True):
        if not isinstance(entry, dict):
            raise JudgeBackendError(f"LM server {url}: no log-probability for prompt token {token}")
        found = entry.get(str(token), entry.get(token))
        value = found.get("logprob") if isinstance(found, dict) else found
        if not isinstance(value, int | float):
            raise JudgeBackendError(f"LM server {url}: no log-probability for prompt token {token}")
        out.append(finite(float(value)))
    return out
