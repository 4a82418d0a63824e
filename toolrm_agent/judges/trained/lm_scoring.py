"""A frozen causal LM reading proposals: log-likelihoods and hidden states, prefix cached.

:class:`LMScorer` renders the context with the model's own chat template (tools passed
as ``tools=``, so the model sees them the way it was trained to) up to the start of the
assistant turn, runs that prefix **once**, then runs every proposal's rendering
(:meth:`Proposal.render`, the Hermes ``<tool_call>`` blocks Qwen writes itself, then the
end-of-turn token) as one batch on top of the cached prefix. Ranking N proposals costs
one prefix pass plus N short suffixes, not N full passes. A prefix that begins like a recent
one (the next step of the same conversation; the chat template's system turn and tool
preamble, across conversations) runs only from where the two part. The readings of recent proposals
are kept too (``recent_readings``): best-of-N ranks the candidates, then asks for the
winner's critique, which reads the ranking's reading again without a pass.

Per proposal it returns (:class:`LMReading`) the mean, minimum and sum of the per-token
log-probabilities of the proposal tokens and two hidden-state summaries of the last layer
(the final token, and the mean over the proposal tokens). The mean log-likelihood alone is
the zero-training baseline judge (``lik:default``); the trained critic
(:mod:`toolrm_agent.judges.trained.trained`) feeds all of it to its head.

**Which tokens the statistics count** (``tags``). The rendering wraps each call in the
Hermes tags and ends with the end-of-turn token; a model that writes its calls as bare JSON
(the offline Qwen2.5-Coder-0.5B does) finds ``<tool_call>`` and ``</tool_call>`` very unlikely
(log-probabilities near -23 and -20 there), whatever the call says. With ``"read"`` those
tokens count: the minimum is then the tag's for every call, and the mean mostly says how long
the call is. With ``"skip"`` the statistics are over the proposal's own text (its JSON, or its
answer), the tag tokens left out; the log-probabilities of what follows them are unchanged.

**Which tools the prefix lists** (``tools``): ``"all"`` renders every offered tool;
``"called"`` renders only the tools a proposal calls (in the order they are offered), so
that a context with thirty tools costs what the one called needs. Proposals that call the
same tools share one prefix pass; a proposal that calls nothing is read with no tools
listed. ``"called"`` is what a critic reads to judge *values*: whether a value is right
depends on the called function's description, not on the other tools (the fast features
judge the choice of function).

**Long inputs.** The prefix is cut to ``max_prefix_tokens``: whole turns are dropped from
the oldest user/assistant/tool turn onwards (the tools and the latest user message are
always kept), and if the prefix is still too long its middle is cut (the first half of
the budget — the tools — and the last half — the request and the turn start — are kept),
with a warning in the log. Proposals are cut to ``max_proposal_tokens``.

**What the LM would write instead** (:meth:`LMScorer.suggest`). For a proposal (the
trained critic asks only for the ones it rejects) one pass on the cached prefix scores
every token of the rendered proposal; each top-level argument value's tokens are found
through the tokenizer's offset map (:meth:`LMScorer.value_spans`). The value the LM finds
least likely (its least likely token below ``log(0.05)``, and the LM's own greedy token
differing somewhere inside it) is decoded greedily from where it starts, on the
same KV cache, until the value closes (at most 24 new tokens). When the LM's value parses
and differs from the proposal's, it is returned as a :class:`ValueSuggestion` (function,
argument, the proposal's value, the LM's value): a hint the critique names ("the language
model expects \"2022-12-10\" here"), never a rule. Cost: one suffix pass and at most a
few dozen one-token steps per rejected proposal.

**A verifier's answer** (:meth:`LMScorer.verify`). Instead of how likely the proposal
is, ask the model whether it is right: after the proposal's rendering and the end of its
turn comes a user turn with :data:`VERIFY_QUESTION` and the start of the assistant's
answer (both as the chat template writes them, :meth:`LMScorer.question_text`, the same
for every context), and the reading is the next token's ``log P(yes) - log P(no)`` (each
side a log-sum-exp over its token variants, :meth:`LMScorer.answer_ids`). It is one
batched pass of all proposals (rendering + question) on the same cached prefix as
:meth:`LMScorer.read`. A proposal that calls nothing is asked too, with every offered
tool listed (with ``tools="called"`` it would otherwise see none): whether answering
without a call is right depends on the tools there are. The zero-shot judge
``lik:<model>?reading=verify`` scores ``sigmoid(log-odds)``; a trained critic reads the
log-odds as its ``lm_verify`` input.

torch and transformers are imported when the model is first used.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.errors import CheckpointError, ConfigurationError

log = logging.getLogger(__name__)


ToolScope = Literal["all", "called"]
"""Which tools an LM reading's prefix lists (see the module docstring)."""

TagScope = Literal["read", "skip"]
"""Whether a reading's statistics count the rendering's tag tokens (the tokenizer's added tokens:
``<tool_call>``, ``</tool_call>``, the end-of-turn token) or skip them (see the module docstring)."""


@dataclass(frozen=True)
class LMReading:
    """What the LM read off one proposal."""

    mean_logprob: float
    min_logprob: float
    sum_logprob: float
    tokens: int
    hidden_last: Any
    """Last-layer hidden state at the final token (a float32 numpy vector)."""
    hidden_mean: Any
    """Mean last-layer hidden state over the proposal tokens (float32 numpy)."""
    prefix_tokens: int


SUGGEST_BELOW = math.log(0.05)
"""A value is weak (a candidate for :meth:`LMScorer.suggest`) when its least likely token's
log-probability is below this. Not the mean: once the LM has read the first surprising
token of ``"10th December 2022"`` the rest is likely, and the 0.5B Qwen's mean over the
value's nine tokens is log(0.24), while its first token is log(0.004) and ``th`` log(0.0007)."""

SUGGEST_MAX_NEW_TOKENS = 24
"""At most this many tokens are decoded for the LM's own value."""

VERIFY_QUESTION = (
    "Review your reply above. If it calls functions: is each call right for my request and the function "
    "descriptions (the fitting function, every required argument, each value in the form the function asks "
    "for, such as its format, unit or code, no invented values, one call per item I asked about)? If it calls "
    "none: is it right that no function fits my request? Answer yes or no."
)
"""The question :meth:`LMScorer.verify` asks after a proposal (a user turn)."""

VERIFY_YES: tuple[str, ...] = ("yes", "Yes", "YES", " yes", " Yes")
VERIFY_NO: tuple[str, ...] = ("no", "No", "NO", " no", " No")
"""The answer's spellings whose first-token probabilities are summed on each side."""

MIN_SHARED_TOKENS = 8
"""A new prefix reuses a kept prefix's KV cache when they share at least this many leading tokens."""

_SENTINEL = "TOOLRM-SENTINEL-7f3a"


@dataclass(frozen=True)
class ValueSpan:
    """Where one top-level argument value sits in a proposal's rendering (:meth:`Proposal.render`)."""

    call_id: str
    function: str
    argument: str
    value: Any
    """The value as rendered (canonical JSON, parsed back)."""
    start: int
    end: int
    """Character offsets of the value's JSON literal (quotes included) in the rendering."""
    first_token: int = -1
    end_token: int = -1
    """Token indices ``[first_token, end_token)`` of the rendering's tokens (the proposal
    suffix) that overlap the value's content (a string's characters inside its quotes);
    ``-1`` when the value lies beyond ``max_proposal_tokens``."""
    token_start: int = -1
    """Character offset where ``first_token`` begins (the LM decodes its value from there)."""


@dataclass(frozen=True)
class ValueCompletion:
    """The LM's greedy continuation from where a value starts (:meth:`LMScorer.complete_value`)."""

    tokens: tuple[int, ...]
    """The tokens decoded, from the value's first token on."""
    text: str
    closed: bool
    """Whether a whole JSON value was read where the proposal's value stands."""
    value: Any = None
    """That value (a string's content, a number, a boolean, ...) when ``closed``."""


@dataclass(frozen=True)
class ValueSuggestion:
    """The LM's own value for an argument it finds unlikely: a hint, not a rule."""

    call_id: str
    function: str
    argument: str
    value: Any
    """The proposal's value."""
    suggested: Any
    """The value the LM decodes greedily in its place."""
    min_logprob: float
    """Log-probability of the proposal value's least likely token."""


def chat_messages(turns: Sequence[Turn]) -> list[dict[str, Any]]:
    """Turns as chat-template messages (assistant calls in the OpenAI shape)."""
    out: list[dict[str, Any]] = []
    for t in turns:
        if t.role == "assistant" and t.tool_calls:
            out.append(
                {
                    "role": "assistant",
                    "content": t.content,
                    "tool_calls": [
                        {"type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                        for c in t.tool_calls
                    ],
                }
            )
        else:
            out.append({"role": t.role, "content": t.content})
    return out


class LMScorer:
    """A causal LM that scores proposals in context (see the module docstring).

    Args:
        model_path: a local Hugging Face directory (``resolve_model("default")``).
        dtype: ``bfloat16`` (default: 2-3x faster than float32 on CPU) or ``float32``.
        max_prefix_tokens / max_proposal_tokens: the truncation limits.
        threads: torch CPU threads (``None``: torch's default).
        prefix_cache_size: KV caches of this many recent prefixes are kept; a new prefix that
            begins like a kept one runs only from where the two part.
        recent_readings: the readings of this many recent proposals are kept (keyed by their
            exact prefix and proposal tokens): the critic's critique of the candidate it
            ranked best reads the same reading, with no second pass.
        tools: which tools the prefix lists: ``"all"`` or ``"called"`` (module docstring).
        tags: whether the statistics count the tag tokens: ``"read"`` or ``"skip"`` (module docstring).
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        dtype: str = "bfloat16",
        device: str = "cpu",
        max_prefix_tokens: int = 3072,
        max_proposal_tokens: int = 512,
        threads: int | None = None,
        prefix_cache_size: int = 4,
        tools: ToolScope = "all",
        recent_readings: int = 64,
        tags: TagScope = "read",
    ) -> None:
        self.model_path = Path(model_path)
        if not self.model_path.is_dir():
            raise CheckpointError(f"language model directory {str(self.model_path)!r} does not exist")
        if dtype not in ("bfloat16", "float32", "float16"):
            raise ConfigurationError(f"dtype must be bfloat16, float16 or float32, got {dtype!r}")
        if tools not in ("all", "called"):
            raise ConfigurationError(f"tools must be 'all' or 'called', got {tools!r}")
        if recent_readings < 0:
            raise ConfigurationError(f"recent_readings must be >= 0, got {recent_readings}")
        if tags not in ("read", "skip"):
            raise ConfigurationError(f"tags must be 'read' or 'skip', got {tags!r}")
        self.tags: TagScope = tags
        self._skipped: frozenset[int] | None = None
        self.tools: ToolScope = tools
        self.dtype = dtype
        self.device = device
        self.max_prefix_tokens = max_prefix_tokens
        self.max_proposal_tokens = max_proposal_tokens
        self.threads = threads
        self.prefix_cache_size = prefix_cache_size
        self.recent_readings = recent_readings
        self._recent: OrderedDict[tuple[tuple[int, ...], tuple[int, ...]], LMReading] = OrderedDict()
        self._recent_lock = threading.Lock()
        self._prefixes: dict[tuple[int, ...], tuple[Any, Any]] = {}
        self._question: list[int] | None = None
        self._answers: tuple[tuple[int, ...], tuple[int, ...]] | None = None
        self._eot: str | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer

                if self.threads:
                    torch.set_num_threads(self.threads)
                tok = AutoTokenizer.from_pretrained(self.model_path)
                model = AutoModelForCausalLM.from_pretrained(
                    self.model_path, dtype=getattr(torch, self.dtype)
                )
                # transformers decorates PreTrainedModel.to with functools.wraps, which types it as
                # an unbound callable (self first); the call itself is the ordinary bound one
                model.to(self.device).eval()  # type: ignore[arg-type]
                if tok.pad_token_id is None:
                    tok.pad_token = tok.eos_token
                self._tokenizer, self._model = tok, model
        return self._model, self._tokenizer

    @property
    def tokenizer(self) -> Any:
        return self._load()[1]

    # -- rendering -----------------------------------------------------------------------

    def _end_of_turn(self, tok: Any) -> str:
        """The chat template's end-of-turn token, looked up once: ``get_vocab()`` builds a dict
        of the whole vocabulary (150k entries for Qwen) on every call."""
        if self._eot is None:
            vocab = tok.get_vocab()
            found = (c for c in ("<|im_end|>", "<|eot_id|>", "<end_of_turn>") if c in vocab)
            self._eot = next(found, tok.eos_token or "")
        return self._eot

    def skipped_ids(self) -> frozenset[int]:
        """The token ids the statistics leave out: the tokenizer's added tokens with ``tags="skip"``,
        none with ``"read"`` (looked up once)."""
        if self._skipped is None:
            added = self.tokenizer.added_tokens_decoder if self.tags == "skip" else {}
            self._skipped = frozenset(int(i) for i in added)
        return self._skipped

    def tool_names(self, context: JudgeContext, proposal: Proposal | None) -> tuple[str, ...] | None:
        """The tools the prefix for ``proposal`` lists (``None``: all of them)."""
        if self.tools == "all" or proposal is None:
            return None
        called = {c.name for c in proposal.calls}
        return tuple(spec.name for spec in context.tools if spec.name in called)

    def verify_tool_names(self, context: JudgeContext, proposal: Proposal) -> tuple[str, ...] | None:
        """The tools the verifier's prefix for ``proposal`` lists: as :meth:`tool_names`, but all
        of them for a proposal that calls nothing (whether no call is right depends on them)."""
        return None if not proposal.calls else self.tool_names(context, proposal)

    def prefix_text(self, context: JudgeContext, drop_turns: int = 0,
                    tool_names: tuple[str, ...] | None = None) -> str:
        tok = self.tokenizer
        turns = list(context.turns)
        if drop_turns:
            last_user = max((i for i, t in enumerate(turns) if t.role == "user"), default=len(turns))
            droppable = [i for i, t in enumerate(turns) if t.role != "system" and i < last_user]
            gone = set(droppable[:drop_turns])
            turns = [t for i, t in enumerate(turns) if i not in gone]
        specs = context.tools if tool_names is None else [s for s in context.tools if s.name in tool_names]
        tools = [spec.to_openai() for spec in specs] or None
        text: str = tok.apply_chat_template(
            chat_messages(turns), tools=tools, tokenize=False, add_generation_prompt=True
        )
        return text

    def prefix_ids(self, context: JudgeContext, proposal: Proposal | None = None, *,
                   verify: bool = False) -> list[int]:
        """The prefix's token ids (for ``proposal`` when the prefix lists the called tools;
        ``verify``: the prefix :meth:`verify` reads, see :meth:`verify_tool_names`)."""
        tok = self.tokenizer
        names = (self.verify_tool_names(context, proposal) if verify and proposal is not None
                 else self.tool_names(context, proposal))
        ids: list[int] = tok(self.prefix_text(context, 0, names), add_special_tokens=False).input_ids
        drop = 0
        n_turns = len(context.turns)
        while len(ids) > self.max_prefix_tokens and drop < n_turns:
            drop += 1
            ids = tok(self.prefix_text(context, drop, names), add_special_tokens=False).input_ids
        if len(ids) > self.max_prefix_tokens:
            head = self.max_prefix_tokens // 2
            tail = self.max_prefix_tokens - head
            log.warning("judge prefix of %d tokens cut to its first %d and last %d",
                        len(ids), head, tail)
            ids = ids[:head] + ids[-tail:]
        return ids

    def suffix_ids(self, proposal: Proposal) -> list[int]:
        tok = self.tokenizer
        text = proposal.render() + self._end_of_turn(tok)
        ids: list[int] = tok(text, add_special_tokens=False).input_ids
        return ids[: self.max_proposal_tokens] or [tok.eos_token_id]

    def question_text(self) -> str:
        """What follows a proposal's end-of-turn token in :meth:`verify`: the rest of the turn's
        closing, the user turn asking :data:`VERIFY_QUESTION`, and the assistant turn's start,
        all as the chat template writes them. It does not depend on the context: it is the
        difference between a two-turn chat and the same chat with the question added."""
        tok = self.tokenizer
        chat = [{"role": "user", "content": "Hello."}, {"role": "assistant", "content": _SENTINEL}]
        before: str = tok.apply_chat_template(chat, tokenize=False)
        after: str = tok.apply_chat_template([*chat, {"role": "user", "content": VERIFY_QUESTION}],
                                             tokenize=False, add_generation_prompt=True)
        if not after.startswith(before) or _SENTINEL not in before:
            raise ConfigurationError(f"the chat template of {self.model_path} renders a chat differently "
                                     "once a turn is added: the verifier question cannot be placed")
        closing = before[before.rindex(_SENTINEL) + len(_SENTINEL):]
        return closing.removeprefix(self._end_of_turn(tok)) + after[len(before):]

    def question_ids(self) -> list[int]:
        """The token ids of :meth:`question_text` (computed once)."""
        if self._question is None:
            self._question = list(self.tokenizer(self.question_text(), add_special_tokens=False).input_ids)
        return self._question

    def answer_ids(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(the "yes" token ids, the "no" token ids) whose probabilities :meth:`verify` compares:
        the spellings of :data:`VERIFY_YES` / :data:`VERIFY_NO` that are one token (each
        spelling's first token where no spelling of the word is), without ids on both sides."""
        if self._answers is None:
            tok = self.tokenizer

            def ids(words: tuple[str, ...]) -> set[int]:
                encoded = [list(tok(w, add_special_tokens=False).input_ids) for w in words]
                single = {e[0] for e in encoded if len(e) == 1}
                return single or {e[0] for e in encoded if e}

            yes, no = ids(VERIFY_YES), ids(VERIFY_NO)
            yes, no = yes - no, no - yes
            if not yes or not no:
                raise ConfigurationError(f"the tokenizer of {self.model_path} has no distinct yes / no tokens")
            self._answers = (tuple(sorted(yes)), tuple(sorted(no)))
        return self._answers

    def value_spans(self, proposal: Proposal) -> list[ValueSpan]:
        """Every top-level argument value of ``proposal`` with its characters and its tokens
        in the rendering that :meth:`suffix_ids` tokenizes (offset map of a fast tokenizer)."""
        tok = self.tokenizer
        text = proposal.render() + self._end_of_turn(tok)
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = list(enc["offset_mapping"])[: self.max_proposal_tokens]
        out: list[ValueSpan] = []
        for span in rendered_value_spans(proposal):
            lo, hi = span.start, span.end
            if isinstance(span.value, str) and hi - lo > 2:
                lo, hi = lo + 1, hi - 1  # the string's characters, not its quotes
            inside = [i for i, (a, b) in enumerate(offsets) if a < hi and b > lo]
            if inside:
                span = replace(span, first_token=inside[0], end_token=inside[-1] + 1,
                               token_start=offsets[inside[0]][0])
            out.append(span)
        return out

    # -- scoring -------------------------------------------------------------------------

    def _prefix_state(self, model: Any, prefix: list[int]) -> tuple[Any, Any]:
        """(a fresh copy of the prefix's KV cache, log-probs of the first proposal token).

        The last few prefixes are kept (``prefix_cache_size``): ranking the candidates of
        one context several times (best-of-N draws, a retry on the same turn) runs the
        prefix once. A new prefix that begins like a kept one runs only from where they part
        (:meth:`_longest_kept`): the next step of the same conversation (its prefix extends the
        last step's), and, across conversations, the chat template's system turn and the
        tools' preamble (67 tokens of Qwen's template when tools are listed).
        """
        import torch

        key = tuple(prefix)
        hit = self._prefixes.pop(key, None)
        if hit is None:
            start, base = self._longest_kept(key)
            if base is None:
                out = model(input_ids=torch.tensor([prefix], device=self.device), use_cache=True, logits_to_keep=1)
            else:  # the kept prefix's KV cache up to ``start``, then only the rest of this one
                cache = copy.deepcopy(base)
                if start < cache.get_seq_length():
                    cache.crop(start - cache.get_seq_length())  # negative: drop that many tokens
                positions = torch.arange(start, len(prefix), device=self.device).unsqueeze(0)
                out = model(input_ids=torch.tensor([prefix[start:]], device=self.device), past_key_values=cache,
                            position_ids=positions, use_cache=True, logits_to_keep=1)
            hit = (out.past_key_values, out.logits[0, -1].float().log_softmax(-1))
        self._prefixes[key] = hit
        while len(self._prefixes) > self.prefix_cache_size:
            self._prefixes.pop(next(iter(self._prefixes)))
        return copy.deepcopy(hit[0]), hit[1]

    def _longest_kept(self, prefix: tuple[int, ...]) -> tuple[int, Any]:
        """(how many leading tokens ``prefix`` shares with the kept prefix that shares most, that
        prefix's KV cache), or ``(0, None)`` when none shares :data:`MIN_SHARED_TOKENS`. At least the
        last token is left to run: its logits give the first proposal token's log-probabilities."""
        best, base = 0, None
        for kept, (cache, _) in self._prefixes.items():
            n = shared_length(prefix, kept)
            if n > best:
                best, base = n, cache
        best = min(best, len(prefix) - 1)
        return (best, base) if best >= MIN_SHARED_TOKENS else (0, None)

    def _batch_on_prefix(self, model: Any, tok: Any, prefix: list[int],
                         rows: Sequence[list[int]]) -> tuple[dict[str, Any], Any]:
        """The model inputs of one padded pass of ``rows`` (token ids) on the cached ``prefix``,
        and the log-probs of the first token after the prefix. Called under the lock."""
        import torch

        cache, first_logits = self._prefix_state(model, prefix)
        n, width = len(rows), max(len(r) for r in rows)
        batch = torch.full((n, width), tok.pad_token_id, dtype=torch.long, device=self.device)
        mask = torch.zeros((n, len(prefix) + width), dtype=torch.long, device=self.device)
        mask[:, : len(prefix)] = 1
        for i, r in enumerate(rows):
            batch[i, : len(r)] = torch.tensor(r)
            mask[i, len(prefix) : len(prefix) + len(r)] = 1
        if n > 1:
            cache.batch_repeat_interleave(n)
        positions = torch.arange(len(prefix), len(prefix) + width, device=self.device)
        inputs = {"input_ids": batch, "attention_mask": mask, "past_key_values": cache,
                  "position_ids": positions.unsqueeze(0).expand(n, -1), "use_cache": True}
        return inputs, first_logits

    def read(self, context: JudgeContext, proposals: Sequence[Proposal]) -> list[LMReading]:
        """One :class:`LMReading` per proposal (in order); one prefix pass per distinct prefix.

        With ``tools="all"`` every proposal shares one prefix; with ``"called"``, proposals
        that call the same tools do. A proposal read recently on the same prefix
        (``recent_readings``) is not read again: its reading is the one returned then.
        """
        if not proposals:
            return []
        groups: dict[tuple[str, ...] | None, list[int]] = {}
        for i, p in enumerate(proposals):
            groups.setdefault(self.tool_names(context, p), []).append(i)
        out: list[LMReading | None] = [None] * len(proposals)
        for idx in groups.values():
            prefix = self.prefix_ids(context, proposals[idx[0]])
            keys = {i: (tuple(prefix), tuple(self.suffix_ids(proposals[i]))) for i in idx}
            with self._recent_lock:
                for i in idx:
                    out[i] = self._recent.get(keys[i])
                    if out[i] is not None:
                        self._recent.move_to_end(keys[i])
            todo = [i for i in idx if out[i] is None]
            if not todo:
                continue
            fresh = self.read_on_prefix(prefix, [proposals[i] for i in todo])
            with self._recent_lock:
                for i, reading in zip(todo, fresh, strict=True):
                    out[i] = reading
                    if self.recent_readings > 0:
                        self._recent[keys[i]] = reading
                while len(self._recent) > self.recent_readings:
                    self._recent.popitem(last=False)
        return [r for r in out if r is not None]

    def verify(self, context: JudgeContext, proposals: Sequence[Proposal]) -> list[float]:
        """Per proposal (in order), the verifier's ``log P(yes) - log P(no)`` (module docstring);
        one batched pass per distinct prefix (:meth:`verify_tool_names`)."""
        groups: dict[tuple[str, ...] | None, list[int]] = {}
        for i, p in enumerate(proposals):
            groups.setdefault(self.verify_tool_names(context, p), []).append(i)
        out = [0.0] * len(proposals)
        for idx in groups.values():
            prefix = self.prefix_ids(context, proposals[idx[0]], verify=True)
            for i, odds in zip(idx, self.verify_on_prefix(prefix, [proposals[i] for i in idx]), strict=True):
                out[i] = odds
        return out

    def verify_on_prefix(self, prefix: list[int], proposals: Sequence[Proposal]) -> list[float]:
        """The verifier log-odds of ``proposals`` as one batch on the (cached) ``prefix`` token ids."""
        import torch

        if not proposals:
            return []
        model, tok = self._load()
        question = self.question_ids()
        yes, no = self.answer_ids()
        rows = [self.suffix_ids(p) + question for p in proposals]
        with self._lock, torch.no_grad():
            inputs, _ = self._batch_on_prefix(model, tok, prefix, rows)
            last = sorted({len(r) - 1 for r in rows})  # the logits of these positions only
            res = model(**inputs, logits_to_keep=torch.tensor(last, device=self.device))
            logits = res.logits.float()
            out: list[float] = []
            for i, r in enumerate(rows):
                row = logits[i, last.index(len(r) - 1)]
                odds = torch.logsumexp(row[list(yes)], 0) - torch.logsumexp(row[list(no)], 0)
                out.append(finite(float(odds), 0.0))
        return out

    def read_on_prefix(self, prefix: list[int], proposals: Sequence[Proposal]) -> list[LMReading]:
        """Readings of ``proposals`` as one batch on the (cached) ``prefix`` token ids."""
        import torch

        model, tok = self._load()
        suffixes = [self.suffix_ids(p) for p in proposals]
        with self._lock, torch.no_grad():
            inputs, first_logits = self._batch_on_prefix(model, tok, prefix, suffixes)
            res = model(**inputs, output_hidden_states=True)
            logprobs = res.logits.float().log_softmax(-1)
            hidden = res.hidden_states[-1].float()
        readings: list[LMReading] = []
        for i, s in enumerate(suffixes):
            target = torch.tensor(s, device=self.device)
            lp = [float(first_logits[s[0]])]
            if len(s) > 1:
                lp += logprobs[i, : len(s) - 1].gather(-1, target[1:].unsqueeze(-1)).squeeze(-1).tolist()
            h = hidden[i, : len(s)]
            readings.append(self.reading(s, lp, len(prefix), h[-1].numpy(), h.mean(0).numpy()))
        return readings

    def reading(self, suffix: Sequence[int], logprobs: Sequence[float], prefix_tokens: int,
                hidden_last: Any = None, hidden_mean: Any = None) -> LMReading:
        """The :class:`LMReading` of a proposal's tokens ``suffix`` and their log-probabilities: the
        statistics over the tokens :meth:`skipped_ids` does not name (over all of them when it names
        every one)."""
        skipped = self.skipped_ids()
        kept = [v for t, v in zip(suffix, logprobs, strict=True) if t not in skipped] or list(logprobs)
        return LMReading(mean_logprob=sum(kept) / len(kept), min_logprob=min(kept), sum_logprob=sum(kept),
                         tokens=len(kept), hidden_last=hidden_last, hidden_mean=hidden_mean,
                         prefix_tokens=prefix_tokens)


    # -- the LM's own values --------------------------------------------------------------

    def _value_pass(self, model: Any, prefix: list[int], suffix: list[int]) -> tuple[Any, Any, Any]:
        """One pass of the rendering ``suffix`` on the cached ``prefix`` (with the lock held):
        (the KV cache of both, the log-probability of each suffix token [n], the LM's greedy
        token at each suffix position [n])."""
        import torch

        cache, first = self._prefix_state(model, prefix)
        positions = torch.arange(len(prefix), len(prefix) + len(suffix), device=self.device)
        res = model(input_ids=torch.tensor([suffix], device=self.device), past_key_values=cache,
                    position_ids=positions.unsqueeze(0), use_cache=True)
        rows = torch.cat([first.unsqueeze(0), res.logits[0, :-1].float().log_softmax(-1)])
        target = torch.tensor(suffix, device=self.device).unsqueeze(-1)
        logprobs = rows.gather(-1, target).squeeze(-1)
        return res.past_key_values, logprobs, rows.argmax(-1)

    def _decode_value(self, model: Any, tok: Any, cache: Any, past: int, span: ValueSpan, first: int,
                      rendered: str, max_new_tokens: int) -> ValueCompletion:
        """Greedy decoding of the value at ``span`` on ``cache`` (prefix + rendering, ``past``
        prefix tokens; cut here to the rendering's first ``span.first_token`` tokens), its
        first token ``first`` already chosen, until the value closes."""
        import torch

        cache.crop(past + span.first_token - cache.get_seq_length())  # negative: drop that many tokens
        past += span.first_token
        head, lead = rendered[: span.token_start], rendered[: span.start]
        stop = {tok.eos_token_id, tok.convert_tokens_to_ids(self._end_of_turn(tok))}
        generated = [first]
        while True:
            text = tok.decode(generated)
            state, value = _value_at(head + text, lead)
            if state != "open" or generated[-1] in stop or len(generated) >= max_new_tokens:
                return ValueCompletion(tuple(generated), text, state == "closed", value)
            position = torch.tensor([[past + len(generated) - 1]], device=self.device)
            res = model(input_ids=torch.tensor([[generated[-1]]], device=self.device), past_key_values=cache,
                        position_ids=position, use_cache=True)
            generated.append(int(res.logits[0, -1].argmax()))

    def complete_value(self, context: JudgeContext, proposal: Proposal, span: ValueSpan, *,
                       max_new_tokens: int = SUGGEST_MAX_NEW_TOKENS) -> ValueCompletion:
        """The LM's greedy continuation from where ``span``'s value starts (a span of
        :meth:`value_spans`), decoded on the cached prefix until the value closes."""
        import torch

        if span.first_token < 0:
            return ValueCompletion((), "", False)
        model, tok = self._load()
        prefix, suffix = self.prefix_ids(context, proposal), self.suffix_ids(proposal)
        with self._lock, torch.no_grad():
            cache, _, greedy = self._value_pass(model, prefix, suffix)
            return self._decode_value(model, tok, cache, len(prefix), span, int(greedy[span.first_token]),
                                      proposal.render(), max_new_tokens)

    def suggest(self, context: JudgeContext, proposal: Proposal, *, below: float = SUGGEST_BELOW,
                max_new_tokens: int = SUGGEST_MAX_NEW_TOKENS, limit: int = 1,
                tries: int = 3) -> list[ValueSuggestion]:
        """The LM's own values for the argument values of ``proposal`` it finds least likely.

        Values whose least likely token's log-probability is below ``below`` and where the LM's greedy
        token differs from the proposal's somewhere are decoded, weakest first (at most
        ``tries`` of them), each greedily from its start on the cached prefix until it
        closes; up to ``limit`` suggestions whose value parses, is not an empty string and
        differs from the proposal's are returned. A proposal without arguments gets none.
        """
        import torch

        spans = [s for s in self.value_spans(proposal) if s.first_token >= 0]
        if not spans:
            return []
        model, tok = self._load()
        prefix, suffix, rendered = self.prefix_ids(context, proposal), self.suffix_ids(proposal), proposal.render()
        out: list[ValueSuggestion] = []
        with self._lock, torch.no_grad():
            cache, logprobs, greedy = self._value_pass(model, prefix, suffix)
            weak: list[tuple[float, ValueSpan]] = []
            for s in spans:
                weakest = float(logprobs[s.first_token:s.end_token].min())
                differs = any(int(greedy[i]) != suffix[i] for i in range(s.first_token, s.end_token))
                if weakest < below and differs:
                    weak.append((weakest, s))
            weak.sort(key=lambda pair: pair[0])
            for n, (weakest, s) in enumerate(weak[:tries]):
                last = n == min(len(weak), tries) - 1
                done = self._decode_value(model, tok, cache if last else copy.deepcopy(cache), len(prefix), s,
                                          int(greedy[s.first_token]), rendered, max_new_tokens)
                if done.closed and done.value != "" and not same_value(done.value, s.value):
                    out.append(ValueSuggestion(s.call_id, s.function, s.argument, s.value, done.value, weakest))
                    if len(out) >= limit:
                        break
        return out


def rendered_value_spans(proposal: Proposal) -> list[ValueSpan]:
    """The top-level argument values of ``proposal`` and their character offsets in
    :meth:`Proposal.render` (tokens not located: ``first_token = -1``)."""
    blocks = sorted((f"<tool_call>\n{c.canonical()}\n</tool_call>", i) for i, c in enumerate(proposal.calls))
    rendered = proposal.render()
    out: list[ValueSpan] = []
    offset = 0
    for block, i in blocks:
        call = proposal.calls[i]
        base = offset + len("<tool_call>\n")
        offset += len(block) + 1
        canonical = call.canonical()
        if rendered[base : base + len(canonical)] != canonical:
            continue
        arguments = json.loads(canonical)["arguments"]
        text = '{"name": ' + json.dumps(call.name, ensure_ascii=False) + ', "arguments": {'
        found: list[ValueSpan] = []
        for key, value in arguments.items() if isinstance(arguments, dict) else ():
            if found:
                text += ", "
            text += json.dumps(key, ensure_ascii=False) + ": "
            literal = json.dumps(value, ensure_ascii=False)
            found.append(ValueSpan(call.id, call.name, key, value, base + len(text), base + len(text) + len(literal)))
            text += literal
        if text + "}}" == canonical:  # the offsets are right only where the rebuilt text is the rendering
            out.extend(found)
    return out


def _value_at(text: str, lead: str) -> tuple[Literal["open", "closed", "off"], Any]:
    """Read the JSON value that ``text`` (the rendering up to the decode, then what the LM
    wrote) holds after ``lead`` (the rendering up to the value's start): ``open`` (not
    finished yet), ``closed`` (with the value) or ``off`` (the LM wrote something else
    before the value's start)."""
    start = len(lead)
    if len(text) <= start:
        return ("open" if lead.startswith(text) else "off"), None
    if not text.startswith(lead):
        return "off", None
    try:
        value, end = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError:
        return "open", None
    # a string, list or object ends with its closing character; a number or literal with what follows it
    if end < len(text) or text[end - 1] in "\"]}":
        return "closed", value
    return "open", None


def shared_length(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens ``a`` and ``b`` have in common."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def same_value(a: Any, b: Any) -> bool:
    """JSON values equal in kind and value (``1`` is not ``True``; ``1`` is ``1.0``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def finite(x: float, default: float = -30.0) -> float:
    return x if math.isfinite(x) else default


__all__ = ["MIN_SHARED_TOKENS", "SUGGEST_BELOW", "SUGGEST_MAX_NEW_TOKENS", "VERIFY_NO", "VERIFY_QUESTION",
           "VERIFY_YES", "LMReading", "LMScorer", "TagScope", "ToolScope", "ValueCompletion", "ValueSpan",
           "ValueSuggestion", "chat_messages", "finite", "rendered_value_spans", "same_value", "shared_length"]
