"""The trained discriminative critic: features + a frozen LM + a sentence encoder → one score.

A critic directory (``toolrm train disc --method cached`` writes one; ``disc:default`` is
the one shipped in :mod:`toolrm_agent.critics`) holds

* ``critic.json`` — :class:`CriticManifest`: which inputs the head reads, the base LM
  (an offline model name such as ``default``, a local directory), the sentence encoder,
  the accept threshold, and what it was trained on and measured at;
* ``head.npz`` — the head's weights: input standardisation, an optional projection of
  the LM hidden state, and a small MLP that outputs one logit;
* ``calibration.json`` (optional, named by the manifest's ``calibration``) — the map from
  the head's logit to P(correct), fitted on held-out records
  (:mod:`toolrm_agent.judges.calibration`).

For a proposal the critic reads (:meth:`TrainedJudge.inputs`): the call features of
:mod:`toolrm_agent.judges.features` (schema, grounding, coverage, shape), the relevance
features of :mod:`toolrm_agent.judges.relevance`, and, when the manifest names a base
LM, the proposal's log-likelihood statistics and last-layer hidden state under that frozen
LM (:mod:`toolrm_agent.judges.trained.lm_scoring`, one cached prefix pass for all proposals of a
context). ``score = calibration(head(x))``, the estimated probability that the proposal
is correct, when the directory is calibrated, else ``sigmoid(head(x))``; the critique
names the findings behind a low score in words a small policy can act on.

A critic that reads a local LM also names, for a proposal it rejects, the value the LM
would write in place of the argument value it finds least likely
(:meth:`~toolrm_agent.judges.trained.lm_scoring.LMScorer.suggest`): a line of the critique
("- `start_date` of `get_events`: the language model expects "2022-12-10" here, not
"10th December 2022" (its suggestion, not a rule).") and an ``lm_suggestion`` warning on
that call. ``suggest=False`` turns it off; an LM read through a server
(``lm_url``) suggests nothing. A suggestion that fails is logged and left out.

The head was trained as a Bradley-Terry reward model: for a preference pair, the loss is
``-log sigmoid(head(x_chosen) - head(x_rejected))``.

Readings of the LM can be cached on disk (``cache_dir``): a sqlite file keyed by the
exact token ids, so re-running a benchmark does not run the LM again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.errors import CheckpointError, ConfigurationError
from toolrm_agent.core.verdicts import (
    CallVerdict,
    Critique,
    Issue,
    IssueCode,
)
from toolrm_agent.judges.base import BatchJudge
from toolrm_agent.judges.calibration import Calibration
from toolrm_agent.judges.features import Features, Finding, call_features

if TYPE_CHECKING:
    from toolrm_agent.judges.trained.lm_scoring import ValueSuggestion

log = logging.getLogger(__name__)

MANIFEST = "critic.json"
HEAD = "head.npz"
KIND: Final = "toolrm-trained-critic"

LM_STAT_NAMES: tuple[str, ...] = ("lm_mean_logprob", "lm_min_logprob", "lm_sum_logprob", "lm_tokens")
LM_VERIFY_NAMES: tuple[str, ...] = ("lm_verify_logodds",)
"""The verifier reading (:meth:`~toolrm_agent.judges.trained.lm_scoring.LMScorer.verify`): log P(yes) - log P(no)."""

HiddenMode = Literal["none", "mean", "last", "both"]


class CriticManifest(BaseModel):
    """What a critic directory holds (``critic.json``)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["toolrm-trained-critic"] = KIND
    version: int = 1
    features: bool = True
    relevance: bool = True
    lm_stats: bool = False
    lm_verify: bool = False
    """Whether the head reads the verifier's log-odds (:data:`LM_VERIFY_NAMES`, after the LM statistics)."""
    hidden: HiddenMode = "none"
    base_model: str | None = None
    """The frozen LM (``default`` = the offline Qwen2.5-Coder-0.5B, or a directory)."""
    lm_tools: Literal["all", "called"] = "all"
    """Which tools the LM reading's prefix lists (:class:`~toolrm_agent.judges.trained.lm_scoring.LMScorer`)."""
    lm_tags: Literal["read", "skip"] = "read"
    """Whether the LM statistics count the rendering's tag tokens (``LMScorer``'s ``tags``)."""
    encoder: str | None = "minilm"
    """The sentence encoder of the relevance features (``minilm`` = the offline wheel)."""
    input_names: list[str] = Field(default_factory=list)
    """Names of the scalar inputs, in order (the hidden state follows them)."""
    threshold: float = 0.5
    """Accept a proposal when its score (calibrated when ``calibration`` is set, else
    ``sigmoid(logit)``) is at least ``threshold``."""
    calibration: str | None = None
    """File of the calibration map in the directory (``calibration.json``), or ``None``:
    the score is ``sigmoid(logit)``, not a probability."""
    second_stage: str | None = None
    """A second critic directory (relative to this one) that judges where this one is unsure:
    the two-tier critic, a fast head first and an LM-reading head second."""
    band: tuple[float, float] = (0.0, 1.0)
    """With a second stage: first-stage scores in ``[band[0], band[1]]`` are unsure."""
    route: Literal["margin", "always", "never"] = "margin"
    """Which proposals the second stage judges: those in the band, all, or none."""
    trained_on: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _lm_columns_named(self) -> CriticManifest:
        """The LM columns ``input_names`` lists (when it lists any) are those the flags read."""
        if self.input_names:
            for flag, names in (("lm_stats", LM_STAT_NAMES), ("lm_verify", LM_VERIFY_NAMES)):
                listed = [n for n in self.input_names if n in names]
                if listed != (list(names) if getattr(self, flag) else []):
                    raise ConfigurationError(
                        f"{flag}={getattr(self, flag)} but input_names lists {listed} of {list(names)}"
                    )
        return self


class CriticHead:
    """The head, in numpy: standardise, project the hidden state, MLP → one logit."""

    def __init__(self, arrays: dict[str, Any]) -> None:
        self.mean = arrays["mean"]
        self.std = arrays["std"]
        self.proj = arrays.get("proj")  # (hidden_dim, k) or absent
        self.w1, self.b1 = arrays["w1"], arrays["b1"]
        self.w2, self.b2 = arrays["w2"], arrays["b2"]
        self.wl = arrays.get("wl")  # linear skip from the scalar inputs (or absent)

    @classmethod
    def load(cls, path: Path) -> CriticHead:
        import numpy as np

        with np.load(path) as data:
            return cls({k: data[k] for k in data.files})

    def __call__(self, scalars: Any, hidden: Any | None) -> Any:
        import numpy as np

        x = (scalars - self.mean) / self.std
        if self.proj is not None and hidden is not None:
            x = np.concatenate([x, hidden @ self.proj], axis=1)
        h = np.tanh(x @ self.w1 + self.b1)
        out = h @ self.w2 + self.b2
        if self.wl is not None:
            out = out + ((scalars - self.mean) / self.std) @ self.wl
        return out.reshape(-1)


class ReadingCache:
    """LM readings on disk, keyed by model and exact token ids (sqlite)."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path / "readings.sqlite", check_same_thread=False)
        self._db.execute("create table if not exists r (k text primary key, v blob)")
        self._lock = threading.Lock()
        self.path = path
        self._warned = False

    @staticmethod
    def key(model: str, prefix: list[int], suffix: list[int]) -> str:
        raw = json.dumps([model, prefix, suffix]).encode()
        return hashlib.sha1(raw).hexdigest()

    @staticmethod
    def verify_key(model: str, prefix: list[int], suffix: list[int], question: list[int]) -> str:
        """The key of a verifier reading: tagged, and bound to the question's tokens (a likelihood
        reading's key, three items long, cannot be the same text)."""
        raw = json.dumps(["verify", model, prefix, suffix, question]).encode()
        return hashlib.sha1(raw).hexdigest()

    def get(self, key: str) -> Any | None:
        """The reading stored under ``key``, or None. A row this version cannot read (written
        by a version whose classes lived elsewhere, or cut short) is a miss: the reading is
        made again and overwrites it (logged once per cache)."""
        import pickle

        with self._lock:
            row = self._db.execute("select v from r where k = ?", (key,)).fetchone()
        if not row:
            return None
        try:
            return pickle.loads(row[0])  # noqa: S301 - our own cache file
        except Exception as exc:  # noqa: BLE001 - any unreadable row is a miss, never a failed judgement
            if not self._warned:
                self._warned = True
                log.warning("%s: a cached LM reading cannot be read (%s: %s); such readings are made again",
                            self.path, type(exc).__name__, exc)
            return None

    def put(self, key: str, value: Any) -> None:
        import pickle

        with self._lock:
            self._db.execute("insert or replace into r values (?, ?)", (key, pickle.dumps(value)))
            self._db.commit()


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def resolve_critic_dir(target: str | Path) -> Path:
    """``default`` / ``grounded`` → a shipped critic; anything else is a directory that must exist."""
    from toolrm_agent.critics import SHIPPED, shipped_critic_dir

    if str(target) in SHIPPED:
        return shipped_critic_dir(str(target))
    path = Path(target)
    if not (path / MANIFEST).is_file():
        raise CheckpointError(
            f"{str(path)!r} is not a trained critic directory (no {MANIFEST}); "
            "train one with `toolrm train disc --method cached`"
        )
    return path


class CriticReader:
    """Reads the critic's inputs off (context, proposals): features, relevance, the LM.

    The trained critic and its trainer share this class, so what the head was trained on
    is exactly what it reads at inference. ``base_model`` is resolved (and an offline
    model built once) here, so a missing model fails at construction.
    """

    def __init__(
        self,
        *,
        features: bool = True,
        relevance: bool = True,
        lm_stats: bool = False,
        lm_verify: bool = False,
        hidden: HiddenMode = "none",
        base_model: str | None = None,
        encoder: str | None = "minilm",
        cache_dir: str | Path | None = None,
        device: str = "cpu",
        lm_tools: Literal["all", "called"] = "all",
        threads: int | None = None,
        lm_url: str | None = None,
        lm_model: str | None = None,
        lm_tags: Literal["read", "skip"] = "read",
    ) -> None:
        self.features = features
        self.lm_tools = lm_tools
        self.lm_tags = lm_tags
        self.threads = threads
        self.lm_url = lm_url
        self.lm_model = lm_model
        if lm_url is not None and hidden != "none":
            raise ConfigurationError(
                "an LM server returns no hidden states: this critic reads them, so it needs the local LM "
                "(drop lm_url)"
            )
        if lm_url is not None and lm_verify:
            raise ConfigurationError(
                "the verifier reading (lm_verify) needs the next token's logits, which the LM server path "
                "does not read: this critic needs the local LM (drop lm_url)"
            )
        self.relevance = relevance
        self.lm_stats = lm_stats
        self.lm_verify = lm_verify
        self.hidden = hidden
        self.encoder_name = encoder or "minilm"
        self.device = device
        self._cache = ReadingCache(Path(cache_dir)) if cache_dir else None
        self._lm: Any = None
        self._encoder: Any = None
        self._lock = threading.Lock()
        self._base_dir = _resolve_base(base_model) if base_model is not None else None
        if (lm_stats or lm_verify or hidden != "none") and self._base_dir is None:
            raise CheckpointError("LM inputs (lm_stats / lm_verify / hidden) need a base_model")
        if relevance:
            from toolrm_agent.judges.relevance import encoder_path

            encoder_path(self.encoder_name)  # fails now if it is missing

    @property
    def lm(self) -> Any:
        with self._lock:
            if self._lm is None and self._base_dir is not None and self.lm_url is not None:
                from toolrm_agent.judges.trained.lm_server import ServerLMScorer

                self._lm = ServerLMScorer(self._base_dir, base_url=self.lm_url, tools=self.lm_tools,
                                          tags=self.lm_tags, model=self.lm_model or str(self._base_dir))
            elif self._lm is None and self._base_dir is not None:
                from toolrm_agent.judges.trained.lm_scoring import LMScorer

                self._lm = LMScorer(self._base_dir, device=self.device, tools=self.lm_tools,
                                    tags=self.lm_tags, threads=self.threads)
        return self._lm

    @property
    def encoder(self) -> Any:
        with self._lock:
            if self._encoder is None and self.relevance:
                from toolrm_agent.judges.relevance import RelevanceEncoder

                self._encoder = RelevanceEncoder(self.encoder_name)
        return self._encoder

    def lm_readings(self, context: JudgeContext, proposals: Sequence[Proposal]) -> list[Any]:
        lm = self.lm
        if self._cache is None:
            return list(lm.read(context, proposals))
        # the statistics differ with the tag scope: its readings are kept apart (the old key for "read")
        model = str(self._base_dir) + ("" if self.lm_tags == "read" else f"?lm_tags={self.lm_tags}")
        keys = [ReadingCache.key(model, lm.prefix_ids(context, p), lm.suffix_ids(p)) for p in proposals]
        found = [self._cache.get(k) for k in keys]
        todo = [i for i, f in enumerate(found) if f is None]
        if todo:
            fresh = lm.read(context, [proposals[i] for i in todo])
            for i, reading in zip(todo, fresh, strict=True):
                self._cache.put(keys[i], reading)
                found[i] = reading
        return found

    def lm_verify_readings(self, context: JudgeContext, proposals: Sequence[Proposal]) -> list[float]:
        """The verifier's log-odds per proposal (:meth:`LMScorer.verify`), cached on disk
        under :meth:`ReadingCache.verify_key`."""
        lm = self.lm
        if self._cache is None:
            return list(lm.verify(context, proposals))
        model, question = str(self._base_dir), lm.question_ids()
        keys = [ReadingCache.verify_key(model, lm.prefix_ids(context, p, verify=True), lm.suffix_ids(p), question)
                for p in proposals]
        found: list[float | None] = [self._cache.get(k) for k in keys]
        todo = [i for i, f in enumerate(found) if f is None]
        if todo:
            for i, odds in zip(todo, lm.verify(context, [proposals[i] for i in todo]), strict=True):
                self._cache.put(keys[i], odds)
                found[i] = odds
        return [float(f) for f in found if f is not None]

    def inputs(
        self, context: JudgeContext, proposals: Sequence[Proposal]
    ) -> tuple[Any, Any, list[Features], int]:
        """(scalar inputs [n, d], hidden states [n, h] or None, features, LM tokens read)."""
        import numpy as np

        feats = [call_features(context, p) for p in proposals]
        columns: list[list[float]] = [[] for _ in proposals]
        if self.features:
            for row, f in zip(columns, feats, strict=True):
                row.extend(f.values)
        if self.relevance:
            from toolrm_agent.judges.relevance import (
                relevance_features,
                relevance_findings,
                tool_similarities,
            )

            rel = relevance_features(self.encoder, context, proposals)
            sims = tool_similarities(self.encoder, context)
            for row, r in zip(columns, rel, strict=True):
                row.extend(r)
            feats = [
                Features(f.values, f.findings + relevance_findings(p, r, sims))
                for f, p, r in zip(feats, proposals, rel, strict=True)
            ]
        hidden = None
        tokens = 0
        if self._base_dir is not None and (self.lm_stats or self.hidden != "none"):
            readings = self.lm_readings(context, proposals)
            tokens = readings[0].prefix_tokens + sum(r.tokens for r in readings) if readings else 0
            if self.lm_stats:
                for row, r in zip(columns, readings, strict=True):
                    row.extend(_lm_stats(r))
            if self.hidden != "none":
                hidden = np.stack([_hidden(r, self.hidden) for r in readings])
        if self._base_dir is not None and self.lm_verify:
            for row, odds in zip(columns, self.lm_verify_readings(context, proposals), strict=True):
                row.append(odds)
        return np.asarray(columns, dtype=np.float32), hidden, feats, tokens


class TrainedJudge(BatchJudge):
    """A trained critic directory as a pointwise judge (see the module docstring).

    Args:
        path: a critic directory, or ``"default"`` for the shipped one.
        threshold: overrides the manifest's accept threshold.
        cache_dir: cache LM readings on disk here.
        device: torch device of the LM and encoder.
        threads: torch CPU threads of the LM (``None``: torch's default; 1 is faster on a
            machine whose cores other work shares).
        route: for a two-tier critic (a manifest with ``second_stage``), which proposals the
            second tier judges: ``margin`` (those the first scores inside the manifest's
            ``band``), ``always`` or ``never``; ``None`` keeps the manifest's choice.
        lm_url / lm_model: read the LM through an OpenAI-compatible server that returns
            prompt log-probabilities (vLLM) instead of locally
            (:class:`~toolrm_agent.judges.trained.lm_server.ServerLMScorer`; LM statistics only).
        suggest: name, in the critique of a rejected proposal, the value the LM expects in
            place of the one it finds least likely (see the module docstring). ``None``
            (default): on when a tier reads a local LM; ``True`` where none does (no LM, or
            one behind ``lm_url``) is a :class:`~toolrm_agent.core.errors.ConfigurationError`.
        name: the judge's name in verdicts (default ``disc:<path>``).
    """

    def __init__(
        self,
        path: str | Path = "default",
        *,
        threshold: float | None = None,
        cache_dir: str | Path | None = None,
        device: str = "cpu",
        threads: int | None = None,
        route: Literal["margin", "always", "never"] | None = None,
        lm_url: str | None = None,
        lm_model: str | None = None,
        suggest: bool | None = None,
        name: str | None = None,
    ) -> None:
        if suggest not in (None, True, False):
            raise ConfigurationError(f"suggest must be true or false, got {suggest!r}")
        self.path = resolve_critic_dir(path)
        try:
            self.manifest = CriticManifest.model_validate_json((self.path / MANIFEST).read_text())
        except ValueError as exc:
            raise CheckpointError(f"{self.path / MANIFEST} is not a critic manifest: {exc}") from exc
        if not (self.path / HEAD).is_file():
            raise CheckpointError(f"critic directory {str(self.path)!r} has no {HEAD}")
        self.head = CriticHead.load(self.path / HEAD)
        self.calibration: Calibration | None = None
        files = [self.path / MANIFEST, self.path / HEAD]
        if self.manifest.calibration is not None:
            self.calibration = Calibration.load(self.path / self.manifest.calibration)
            files.append(self.path / self.manifest.calibration)
        digest = hashlib.sha256()
        for file in files:
            digest.update(file.read_bytes())
        own_version = digest.hexdigest()[:12]
        if threshold is not None and not 0.0 <= threshold <= 1.0:
            raise ConfigurationError(f"threshold must be in [0, 1], got {threshold}")
        self.threshold = self.manifest.threshold if threshold is None else threshold
        self.device = device
        self.name = name or f"disc:{path}"
        m = self.manifest
        uses_lm = m.lm_stats or m.lm_verify or m.hidden != "none"
        if uses_lm and m.base_model is None:
            raise CheckpointError(f"{self.path / MANIFEST} reads an LM but names no base_model")
        self.reader = CriticReader(
            features=m.features,
            relevance=m.relevance,
            lm_stats=m.lm_stats,
            lm_verify=m.lm_verify,
            hidden=m.hidden,
            base_model=m.base_model if uses_lm else None,
            encoder=m.encoder,
            cache_dir=cache_dir,
            device=device,
            lm_tools=m.lm_tools,
            lm_tags=m.lm_tags,
            threads=threads,
            lm_url=lm_url if uses_lm else None,
            lm_model=lm_model,
        )
        if route is not None and route not in ("margin", "always", "never"):
            raise ConfigurationError(f"route must be margin, always or never, got {route!r}")
        self.route = route or m.route
        self.second: TrainedJudge | None = None
        if m.second_stage is not None:
            lo, hi = m.band
            if not 0.0 <= lo <= hi <= 1.0:
                raise CheckpointError(f"{self.path / MANIFEST}: band must satisfy 0 <= lo <= hi <= 1, got {m.band}")
            if (self.path / m.second_stage).resolve() == self.path.resolve():
                raise CheckpointError(f"{self.path / MANIFEST}: second_stage names the critic itself")
            self.second = TrainedJudge(self.path / m.second_stage, cache_dir=cache_dir, device=device,
                                        threads=threads, route="never", lm_url=lm_url, lm_model=lm_model,
                                        suggest=False if suggest is False else None, name=f"{self.name}+lm")
        local_lm = uses_lm and lm_url is None
        self.suggest: bool = local_lm and suggest is not False
        """Whether this tier names the LM's value in the critique of a rejected proposal."""
        if suggest and not (self.suggest or (self.second is not None and self.second.suggest)):
            raise ConfigurationError(
                f"suggest=true needs a critic that reads a local LM; {self.path} reads "
                + ("it through a server (lm_url), which suggests nothing" if uses_lm and lm_url
                   else "none")
            )
        if self.second is not None:
            second_version = str(getattr(self.second, "version", ""))
            own_version = hashlib.sha256(f"{own_version}+{second_version}".encode()).hexdigest()[:12]
        self.version: str = own_version
        """A digest of the critic's files (and its second stage's): verdicts are bound to it
        (a retrained critic judges again what an earlier one judged)."""

    def inputs(self, context: JudgeContext, proposals: Sequence[Proposal]) -> tuple[Any, Any, list[Features], int]:
        """(scalar inputs [n, d], hidden states [n, h] or None, features, LM tokens read)."""
        return self.reader.inputs(context, proposals)

    # -- scoring -----------------------------------------------------------------------

    def logits(self, context: JudgeContext, proposals: Sequence[Proposal]) -> tuple[list[float], list[Features], int]:
        scalars, hidden, feats, tokens = self.inputs(context, proposals)
        return [float(x) for x in self.head(scalars, hidden)], feats, tokens

    def probability(self, logit: float) -> float:
        """The score of a head logit: P(correct) through the calibration map when the
        directory has one, else ``sigmoid(logit)``."""
        return self.calibration(logit) if self.calibration is not None else _sigmoid(logit)

    def critique_many(self, context: JudgeContext, proposals: Sequence[Proposal]) -> list[Critique]:
        return self._critiques(context, proposals, suggest=True)

    def verdicts_many(self, context: JudgeContext, proposals: Sequence[Proposal]) -> list[Critique]:
        """The critiques without the LM's suggestions: ``compare`` and ``rank`` keep only scores
        and verdicts, and a suggestion costs a pass and a few decoding steps per rejected proposal."""
        return self._critiques(context, proposals, suggest=False)

    def _critiques(self, context: JudgeContext, proposals: Sequence[Proposal], *, suggest: bool) -> list[Critique]:
        """One critique per proposal; ``suggest=False`` leaves the LM's suggestions out even
        where this critic names them (scores and verdicts are the same either way)."""
        if not proposals:
            return []
        if self.second is not None and self.route == "always":  # the first tier would decide nothing
            return self.second._critiques(context, proposals, suggest=suggest)
        start = time.perf_counter()
        logits, feats, tokens = self.logits(context, proposals)
        seconds = (time.perf_counter() - start) / len(proposals)
        per_item = tokens // len(proposals)
        out = [
            self._critique(p, self.probability(x), f, per_item, seconds)
            for p, x, f in zip(proposals, logits, feats, strict=True)
        ]
        unsure = self.routed([c.score for c in out])
        if self.suggest and suggest:
            for i, (p, c, f) in enumerate(zip(proposals, out, feats, strict=True)):
                if c.accepted or i in unsure:  # the second tier writes the critiques it judges
                    continue
                start = time.perf_counter()
                found = self.suggestions(context, p)
                if found:
                    out[i] = self._critique(p, c.score, f, per_item, seconds + time.perf_counter() - start, found)
        if unsure and self.second is not None:
            second = self.second._critiques(context, [proposals[i] for i in unsure], suggest=suggest)
            for i, c in zip(unsure, second, strict=True):
                out[i] = c.model_copy(update={"usage": out[i].usage + c.usage,
                                              "latency_s": out[i].latency_s + c.latency_s})
        return out

    def suggestions(self, context: JudgeContext, proposal: Proposal) -> list[ValueSuggestion]:
        """The LM's own values for ``proposal`` (:meth:`LMScorer.suggest`); none when this tier
        reads no LM, and none, with a warning in the log, when the LM fails."""
        try:
            lm = self.reader.lm  # built on first use: its failure is the suggestion's too
            return [] if lm is None else list(lm.suggest(context, proposal))
        except Exception as exc:  # a hint never breaks a run
            log.warning("%s: the language model's suggestion failed (%s: %s); the critique goes without it",
                        self.name, type(exc).__name__, exc)
            return []

    def routed(self, scores: Sequence[float]) -> list[int]:
        """Indices of the first-tier ``scores`` the second tier judges (none without one)."""
        if self.second is None or self.route == "never":
            return []
        if self.route == "always":
            return list(range(len(scores)))
        lo, hi = self.manifest.band
        return [i for i, s in enumerate(scores) if lo <= s <= hi]

    def _critique(self, proposal: Proposal, score: float, feats: Features, tokens: int, seconds: float,
                  suggestions: Sequence[ValueSuggestion] = ()) -> Critique:
        findings = list(feats.findings)
        # a decisive finding (a call that breaks its tool's schema, a request only half covered)
        # rejects whatever the score; the score itself, which ranks candidates, is left as the head computed it
        accepted = score >= self.threshold and not any(f.decisive for f in findings)
        text = "" if accepted else critique_text(proposal, score, self.threshold, findings, suggestions)
        issues_by_call: dict[str | None, list[Issue]] = {}
        if not accepted:
            for f in findings or [Finding(IssueCode.JUDGE_REJECTED, "low reward")]:
                issues_by_call.setdefault(f.call, []).append(
                    Issue(code=f.code, message=f.message[:500],
                          severity="warning" if f.code == IssueCode.UNGROUNDED_VALUE and accepted else "error")
                )
        hints: dict[str, list[Issue]] = {}
        for s in suggestions:
            hints.setdefault(s.call_id, []).append(
                Issue(code=IssueCode.LM_SUGGESTION, severity="warning", message=suggestion_text(s)[:500],
                      argument=s.argument))
        whole = issues_by_call.get(None, [])
        calls = tuple(
            CallVerdict(
                tool_call_id=c.id,
                ok=accepted,
                score=score,
                issues=tuple(issues_by_call.get(c.name, []) + whole + hints.get(c.id, [])),
            )
            for c in proposal.calls
        ) + tuple(
            CallVerdict(tool_call_id=f.id, ok=False, score=0.0,
                        issues=(Issue(code=IssueCode.MALFORMED_ARGUMENTS, message=f.reason[:500]),))
            for f in proposal.failures
        )
        return self._scored_critique(
            proposal, accepted=accepted, score=score, text=text, input_tokens=tokens, seconds=seconds, calls=calls
        )



def _lm_stats(r: Any) -> list[float]:
    from toolrm_agent.judges.trained.lm_scoring import finite

    return [finite(r.mean_logprob), finite(r.min_logprob), finite(r.sum_logprob) / 10.0,
            math.log1p(r.tokens)]


def _hidden(r: Any, mode: str) -> Any:
    import numpy as np

    if mode == "mean":
        return r.hidden_mean
    if mode == "last":
        return r.hidden_last
    return np.concatenate([r.hidden_mean, r.hidden_last])


def _resolve_base(name: str) -> Path:
    path = Path(name)
    if path.is_dir():
        return path
    from toolrm_agent.models import resolve_model
    from toolrm_agent.models.registry import lookup

    if lookup(name) is None:
        raise CheckpointError(f"the critic's base model {name!r} is neither a directory nor an offline model")
    return Path(resolve_model(name))


_ORDER = {
    IssueCode.UNKNOWN_FUNCTION: 0, IssueCode.MALFORMED_ARGUMENTS: 0, IssueCode.MISSING_REQUIRED: 1,
    IssueCode.UNEXPECTED_ARGUMENT: 1, IssueCode.TYPE_MISMATCH: 1, IssueCode.ENUM_VIOLATION: 1,
    IssueCode.IRRELEVANT_CALL: 2, IssueCode.NO_CALL: 2, IssueCode.DUPLICATE_CALL: 3,
    IssueCode.UNCOVERED_REQUEST: 4, IssueCode.UNGROUNDED_VALUE: 5,
}


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def suggestion_text(s: ValueSuggestion) -> str:
    """One suggestion in words, marked as the LM's (a hint, not a rule)."""
    return (f"`{s.argument}` of `{s.function}`: the language model expects {_shown(s.suggested)} here, "
            f"not {_shown(s.value)} (its suggestion, not a rule).")


def critique_text(proposal: Proposal, score: float, threshold: float, findings: Sequence[Finding],
                  suggestions: Sequence[ValueSuggestion] = ()) -> str:
    """The rejection in words: the score, then what to fix, most important first, then
    the LM's suggestions (:meth:`TrainedJudge.suggestions`)."""
    digits = 2 if f"{score:.2f}" != f"{threshold:.2f}" else 3  # "0.75 (it accepts from 0.75)" says nothing
    lines = [f"The critic scored this proposal {score:.{digits}f} (it accepts from {threshold:.{digits}f})."]
    decisive = [f for f in findings if f.decisive]
    if score >= threshold and decisive:
        schema = any(f.code is not IssueCode.UNCOVERED_REQUEST for f in decisive)
        lines[0] = lines[0][:-1] + (", but a call does not fit its tool's schema." if schema
                                    else ", but it answers only part of the request.")
    ordered = sorted(findings, key=lambda f: _ORDER.get(f.code, 9))
    for f in ordered[:4]:
        lines.append(f"- {f.message}")
    if not ordered and not suggestions:
        lines.append(
            "- Check that the function fits the request, that every value is the user's own, "
            "and that every item the user asked about gets its call."
        )
    lines += [f"- {suggestion_text(s)}" for s in suggestions]
    return "\n".join(lines)


__all__ = ["CriticHead", "CriticManifest", "CriticReader", "LM_STAT_NAMES", "LM_VERIFY_NAMES", "ReadingCache",
           "TrainedJudge", "critique_text", "resolve_critic_dir", "suggestion_text"]
