"""The CPU-practical critic: inputs read once by a frozen trunk, a small BT head on top.

Full backpropagation through a 0.5B model costs hours per epoch on two CPU cores. Here
the expensive part runs once per candidate answer and is cached:

1. **read** — for every record of the training pairs, all its distinct candidates go
   through :class:`~toolrm_agent.judges.trained.trained.CriticReader` in one call (the frozen
   LM runs the record's prefix once, then every candidate as a short suffix) and the
   readings — call features, relevance, LM log-likelihood statistics, LM hidden states —
   are written to ``$TOOLRM_CACHE/readings/<data>-<hash>-<base>/shard_*.npz``
   (:func:`lm_cache_dir`; never into the data folder); a killed run resumes after the last shard.
   The verifier's log-odds (input ``lm_verify``, a pass of its own) are read only when asked
   for, into the ``verify/`` folder of the same cache (:func:`read_lm` with ``verify=True``).
2. **fit** — a head (standardisation, a learned projection of the hidden state, a
   tanh MLP plus a linear skip) is trained with the Bradley-Terry loss
   ``-log sigmoid(s(chosen) - s(rejected))`` on the pairs of 90% of the records; the
   other 10% (split by record, so no context is in both) give the validation accuracy
   and the accept threshold (the one that best separates passing from failing candidates,
   balanced accuracy).
3. **calibrate** — a monotone map from the head's logit to P(correct), fitted on the
   held-out records' candidates with absolute labels (:mod:`train.disc.calibration`);
   its ECE and reliability curve go into the metrics.
4. **save** — ``critic.json`` + ``head.npz`` + ``calibration.json``: a critic directory that ``disc:DIR``
   (:class:`~toolrm_agent.judges.trained.trained.TrainedJudge`) loads.

:func:`compare_inputs` fits one head per input set on the same readings, so the options
(features only, + relevance, + LM statistics, + hidden state) are measured side by side.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.errors import TrainingError
from toolrm_agent.core.progress import progress_bar
from toolrm_agent.judges.calibration import CALIBRATION, Calibration
from toolrm_agent.judges.features import FEATURE_NAMES
from toolrm_agent.judges.relevance import RELEVANCE_NAMES
from toolrm_agent.judges.trained.trained import (
    HEAD,
    LM_STAT_NAMES,
    LM_VERIFY_NAMES,
    MANIFEST,
    CriticManifest,
    CriticReader,
)
from train.disc.calibration import calibrate_head
from train.disc.config import CachedCriticConfig
from train.pairs import TrainPair, read_pairs
from train.records import TrainRecord, read_records

ALL_SCALARS: tuple[str, ...] = (*FEATURE_NAMES, *RELEVANCE_NAMES, *LM_STAT_NAMES, *LM_VERIFY_NAMES)
SHARD = 25
"""Records per readings shard."""


def candidate_key(record_id: str, proposal: Proposal) -> str:
    return hashlib.sha1(f"{record_id}\x00{proposal.render()}".encode("utf-8", "surrogatepass")).hexdigest()


def _by_record(pairs: Sequence[TrainPair]) -> dict[str, dict[str, Proposal]]:
    out: dict[str, dict[str, Proposal]] = defaultdict(dict)
    for p in pairs:
        for side in (p.chosen, p.rejected):
            out[p.record_id][candidate_key(p.record_id, side.proposal)] = side.proposal
    return out


# ------------------------------------------------------------------------------- read


def read_lm(
    records: dict[str, TrainRecord],
    pairs: Sequence[TrainPair],
    cache: Path,
    *,
    base_model: str,
    lm_tools: str = "all",
    workers: int = 1,
    limit: int | None = None,
    verify: bool = False,
    echo: Callable[[str], None] = print,
    lm_tags: str = "read",
) -> None:
    """Run the frozen LM once over every candidate of ``pairs``: ``cache/shard_*.npz``.

    ``verify``: read the verifier's log-odds instead (:data:`LM_VERIFY_NAMES`), into
    ``cache/verify/shard_*.npz`` (:func:`verify_cache`), the same way.

    ``limit``: read records only until this many are read in all (a stopped run's
    shards count; :func:`read_record_ids` then says which records the fit may use).

    Each shard holds the candidate keys, the LM statistics (:data:`LM_STAT_NAMES`) and
    the hidden states (mean and last, float16). Resumable: records already in a shard
    are skipped. ``workers`` processes (one torch thread each) read disjoint records.
    """

    if verify:
        from toolrm_agent.judges.trained.lm_scoring import VERIFY_QUESTION

        cache = verify_cache(cache)
    cache.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"base_model": base_model, "lm_stats": list(LM_STAT_NAMES), "hidden": "mean+last",
                            "lm_tools": lm_tools}
    if lm_tags != "read":  # caches written before the tag scope existed read the tags
        meta["lm_tags"] = lm_tags
    if verify:
        meta = {"base_model": base_model, "lm_verify": list(LM_VERIFY_NAMES), "question": VERIFY_QUESTION,
                "lm_tools": lm_tools}
    meta_path = cache / "readings.json"
    if meta_path.exists() and json.loads(meta_path.read_text()) != meta:
        raise TrainingError(f"{cache} holds readings of another model, tool or tag scope or question ({meta_path}); "
                            "use another cache")
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    done = read_record_ids(cache)
    cands = _by_record(pairs)
    todo_ids = [rid for rid in sorted(cands) if rid not in done and rid in records]
    if limit is not None:
        todo_ids = todo_ids[: max(0, limit - len(done))]
    if not todo_ids:
        echo(f"[read] all {len(done)} records already read")
        return
    echo(f"[read] {len(todo_ids)} records to read ({len(done)} already read), {workers} worker(s)")
    if workers == 1:
        _read_worker(records, cands, todo_ids, cache, base_model, lm_tools, "w0", None, echo, verify, lm_tags)
        return
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    jobs = [
        ctx.Process(target=_read_worker,
                    args=(records, cands, todo_ids[k::workers], cache, base_model, lm_tools, f"w{k}", 1, print,
                          verify, lm_tags))
        for k in range(workers)
    ]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    failed = [k for k, job in enumerate(jobs) if job.exitcode != 0]
    if failed:
        raise TrainingError(f"LM read workers {failed} failed; rerun to resume from the shards written")


def _shard_ids(cache: Path, column: str) -> set[str]:
    """Every id of ``column`` (``records`` or ``keys``) over the readings shards of ``cache``."""
    import numpy as np

    ids: set[str] = set()
    for shard in sorted(cache.glob("shard_*.npz")):
        with np.load(shard) as data:
            ids.update(str(v) for v in data[column])
    return ids


def read_record_ids(cache: Path) -> set[str]:
    """The records whose candidates ``cache`` holds readings of."""
    return _shard_ids(cache, "records")


def verify_cache(cache: Path) -> Path:
    """Where the verifier readings of an LM readings cache are (``cache/verify``)."""
    return cache / "verify"


def _usable_pairs(pairs: list[TrainPair], caches: Sequence[Path], echo: Callable[[str], None]) -> list[TrainPair]:
    """The pairs whose record has readings in every one of ``caches`` (all of them when none is read)."""
    if not caches:
        return pairs
    read = set.intersection(*(read_record_ids(c) for c in caches))
    keys = set.intersection(*(read_candidate_keys(c) for c in caches))
    # a record read for another build (merged folders) may lack a candidate of this one
    kept = [p for p in pairs if p.record_id in read
            and candidate_key(p.record_id, p.chosen.proposal) in keys
            and candidate_key(p.record_id, p.rejected.proposal) in keys]
    if len(kept) < len(pairs):
        echo(f"[read] fitting on the {len(kept)} of {len(pairs)} pairs whose candidates were read "
             f"({len(read)} records)")
    return kept


def read_candidate_keys(cache: Path) -> set[str]:
    """The candidate keys (:func:`candidate_key`) ``cache`` holds readings of."""
    return _shard_ids(cache, "keys")


def _read_worker(
    records: dict[str, TrainRecord], cands: dict[str, dict[str, Proposal]], todo_ids: list[str], cache: Path,
    base_model: str, lm_tools: str, tag: str, threads: int | None, echo: Callable[[str], None],
    verify: bool = False,
    lm_tags: str = "read",
) -> None:
    import numpy as np

    reader = CriticReader(features=False, relevance=False, lm_stats=not verify, lm_verify=verify,
                          hidden="none" if verify else "both", base_model=base_model,
                          lm_tools="called" if lm_tools == "called" else "all", threads=threads,
                          lm_tags="skip" if lm_tags == "skip" else "read")
    start = time.perf_counter()
    n_shard = len(list(cache.glob(f"shard_{tag}_*.npz")))
    for offset in range(0, len(todo_ids), SHARD):
        chunk = todo_ids[offset : offset + SHARD]
        keys: list[str] = []
        stats: list[Any] = []
        hiddens: list[Any] = []
        for j, rid in enumerate(chunk):
            items = list(cands[rid].items())
            x, h, _, _ = reader.inputs(records[rid].context(), [p for _, p in items])
            keys += [k for k, _ in items]
            stats.append(x)
            if h is not None:
                hiddens.append(h.astype(np.float16))
            if (offset + j + 1) % 25 == 0:
                rate = (offset + j + 1) / (time.perf_counter() - start)
                echo(f"[read {tag}] {offset + j + 1}/{len(todo_ids)} records ({rate:.2f}/s)")
        tmp = cache / f"shard_{tag}_{n_shard:05d}.tmp.npz"
        columns = {"lm_verify": np.concatenate(stats).astype(np.float32)} if verify else {
            "lm_stats": np.concatenate(stats).astype(np.float32), "hidden": np.concatenate(hiddens)}
        np.savez(tmp, records=np.array(chunk), keys=np.array(keys), **columns)
        tmp.replace(cache / f"shard_{tag}_{n_shard:05d}.npz")
        n_shard += 1
        done_now = offset + len(chunk)
        rate = done_now / (time.perf_counter() - start)
        echo(f"[read {tag}] {done_now}/{len(todo_ids)} records ({rate:.2f}/s), shard written")


def cheap_inputs(
    records: dict[str, TrainRecord], pairs: Sequence[TrainPair], *, encoder: str = "minilm",
    echo: Callable[[str], None] = print,
) -> tuple[dict[str, int], Any]:
    """Call features and relevance of every candidate (fast: recomputed on every fit)."""
    import numpy as np

    reader = CriticReader(features=True, relevance=True, encoder=encoder)
    cands = _by_record(pairs)
    keys: list[str] = []
    rows: list[Any] = []
    start = time.perf_counter()
    rids = [rid for rid in sorted(cands) if rid in records]
    echo(f"[features] call features and {encoder} relevance of {len(rids)} records")
    with progress_bar(transient=True) as progress:
        task = progress.add_task("features", total=len(rids), note="")
        for rid in rids:
            items = list(cands[rid].items())
            x, _, _, _ = reader.inputs(records[rid].context(), [p for _, p in items])
            keys += [k for k, _ in items]
            rows.append(x)
            progress.advance(task)
    if not rows:
        raise TrainingError("no candidates to read: the pairs name no record of records.jsonl")
    echo(f"[features] {len(keys)} candidates in {time.perf_counter() - start:.0f} s")
    return {k: i for i, k in enumerate(keys)}, np.concatenate(rows)


def load_lm(cache: Path) -> tuple[dict[str, int], Any, Any]:
    """(key → row, LM statistics [N, 4], hidden [N, 2h]) of every shard."""
    import numpy as np

    keys: list[str] = []
    stats, hiddens = [], []
    for shard in sorted(cache.glob("shard_*.npz")):
        with np.load(shard) as data:
            keys += [str(k) for k in data["keys"]]
            stats.append(data["lm_stats"])
            hiddens.append(data["hidden"])
    if not keys:
        raise TrainingError(f"no LM readings under {cache}")
    return {k: i for i, k in enumerate(keys)}, np.concatenate(stats), np.concatenate(hiddens)


def load_verify(cache: Path) -> tuple[dict[str, int], Any]:
    """(key → row, the verifier's log-odds [N, 1]) of every shard of ``cache``'s verifier readings."""
    import numpy as np

    keys: list[str] = []
    odds = []
    for shard in sorted(verify_cache(cache).glob("shard_*.npz")):
        with np.load(shard) as data:
            keys += [str(k) for k in data["keys"]]
            odds.append(data["lm_verify"])
    if not keys:
        raise TrainingError(f"no verifier readings under {verify_cache(cache)}")
    return {k: i for i, k in enumerate(keys)}, np.concatenate(odds)


def load_inputs(
    records: dict[str, TrainRecord], pairs: Sequence[TrainPair], lm_cache: Path | None, *,
    encoder: str = "minilm", verify: Path | None = None, echo: Callable[[str], None] = print,
) -> tuple[dict[str, int], Any, Any | None]:
    """(key → row, scalars [N, len(ALL_SCALARS)], hidden [N, 2h] or None), rows aligned.

    Candidates without LM readings get zeros there (only when ``lm_cache`` is None); the
    verifier column is read from ``verify`` (an LM cache whose ``verify/`` folder holds
    them), zeros when it is None.
    """
    import numpy as np

    index, cheap = cheap_inputs(records, pairs, encoder=encoder, echo=echo)
    lm_verify = np.zeros((len(index), len(LM_VERIFY_NAMES)), dtype=np.float32)
    if verify is not None:
        v_index, odds = load_verify(verify)
        missing = [k for k in index if k not in v_index]
        if missing:
            raise TrainingError(f"{len(missing)} candidates have no verifier reading in {verify}: read them first")
        lm_verify = odds[np.array([v_index[k] for k in index])]
    lm_stats = np.zeros((len(index), len(LM_STAT_NAMES)), dtype=np.float32)
    hidden = None
    if lm_cache is not None:
        lm_index, stats, hid = load_lm(lm_cache)
        missing = [k for k in index if k not in lm_index]
        if missing:
            raise TrainingError(f"{len(missing)} candidates have no LM reading in {lm_cache}: read them first")
        order = np.array([lm_index[k] for k in index])
        lm_stats = stats[order]
        hidden = hid[order]
    return index, np.concatenate([cheap, lm_stats, lm_verify], axis=1), hidden


# -------------------------------------------------------------------------------- fit


def scalar_columns(inputs: Sequence[str]) -> list[int]:
    names: list[str] = []
    if "features" in inputs:
        names += FEATURE_NAMES
    if "relevance" in inputs:
        names += RELEVANCE_NAMES
    if "lm_stats" in inputs:
        names += LM_STAT_NAMES
    if "lm_verify" in inputs:
        names += LM_VERIFY_NAMES
    return [ALL_SCALARS.index(n) for n in names]


def split_records(record_ids: Sequence[str], val_share: float, seed: int) -> tuple[set[str], set[str]]:
    train: set[str] = set()
    val: set[str] = set()
    for rid in record_ids:
        draw = random.Random(f"{seed}|split|{rid}").random()
        (val if draw < val_share else train).add(rid)
    return train, val


def _hidden_slice(hidden: Any, mode: str) -> Any:
    if hidden is None:
        return None
    width = hidden.shape[1] // 2
    return {"mean": hidden[:, :width], "last": hidden[:, width:], "both": hidden}[mode]


def fit_head(
    config: CachedCriticConfig,
    pairs: Sequence[TrainPair],
    index: dict[str, int],
    scalars: Any,
    hidden: Any | None,
    *,
    echo: Callable[[str], None] = print,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train one head; (numpy arrays for ``head.npz``, metrics on the held-out records)."""
    import numpy as np
    import torch

    config.check()
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    cols = scalar_columns(config.inputs)
    use_hidden = "hidden" in config.inputs and hidden is not None
    hid = _hidden_slice(hidden, config.hidden) if use_hidden else None
    train_ids, val_ids = split_records(sorted({p.record_id for p in pairs}), config.val_share, config.seed)

    def rows(subset: set[str]) -> tuple[list[int], list[int], list[TrainPair]]:
        c, r, ps = [], [], []
        for p in pairs:
            if p.record_id not in subset:
                continue
            kc = index.get(candidate_key(p.record_id, p.chosen.proposal))
            kr = index.get(candidate_key(p.record_id, p.rejected.proposal))
            if kc is None or kr is None:
                continue
            c.append(kc)
            r.append(kr)
            ps.append(p)
        return c, r, ps

    tc, tr, _ = rows(train_ids)
    vc, vr, vpairs = rows(val_ids)
    if not tc:
        raise TrainingError("no training pairs with readings: run the read stage first")
    x_all = scalars[:, cols].astype(np.float64)
    used = sorted(set(tc) | set(tr))
    mean = x_all[used].mean(0)
    std = x_all[used].std(0)
    std[std < 1e-6] = 1.0
    xs = torch.tensor((x_all - mean) / std, dtype=torch.float32)
    hs = torch.tensor(hid.astype(np.float32)) if hid is not None else None
    if hs is not None:  # centre the hidden states (the projection learns the rest)
        h_mean = hs[used].mean(0, keepdim=True)
        hs = hs - h_mean
    d_in = xs.shape[1] + (config.hidden_proj if hs is not None else 0)
    proj = torch.nn.Linear(hs.shape[1], config.hidden_proj, bias=False) if hs is not None else None
    layer1 = torch.nn.Linear(d_in, config.width)
    layer2 = torch.nn.Linear(config.width, 1)
    skip = torch.nn.Linear(xs.shape[1], 1, bias=False)
    drop = torch.nn.Dropout(config.dropout)
    modules = [m for m in (proj, layer1, layer2, skip) if m is not None]
    params = [p for m in modules for p in m.parameters()]
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)

    def score(idx: Any, train: bool) -> Any:
        x = xs[idx]
        parts = [x]
        if proj is not None and hs is not None:
            parts.append(proj(hs[idx]))
        z = torch.cat(parts, dim=1)
        h = torch.tanh(layer1(drop(z) if train else z))
        return (layer2(h) + skip(x)).squeeze(-1)

    tc_t, tr_t = torch.tensor(tc), torch.tensor(tr)
    n = len(tc)
    start = time.perf_counter()
    for epoch in range(config.epochs):
        perm = torch.randperm(n)
        total = 0.0
        for b in range(0, n, config.batch_size):
            sel = perm[b : b + config.batch_size]
            margin = score(tc_t[sel], True) - score(tr_t[sel], True)
            loss = torch.nn.functional.softplus(-margin).mean()
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]  # torch's Tensor.backward is unannotated
            opt.step()
            total += float(loss.detach()) * len(sel)
        if epoch == config.epochs - 1 or epoch % 10 == 0:
            echo(f"[fit] epoch {epoch + 1}/{config.epochs} loss {total / n:.4f}")
    with torch.no_grad():
        all_scores = score(torch.arange(xs.shape[0]), False).numpy()
    metrics = _val_metrics(vpairs, vc, vr, all_scores)
    metrics["train_pairs"] = n
    metrics["fit_seconds"] = round(time.perf_counter() - start, 1)
    # the threshold: best balanced accuracy between passing and failing val candidates
    threshold, bal = _threshold(vpairs, index, all_scores)
    metrics["threshold"] = threshold
    metrics["threshold_balanced_accuracy"] = bal
    # fold the hidden-state centring into the projection: (h - m) P = h P - m P
    arrays: dict[str, Any] = {
        "mean": mean.astype(np.float32),
        "std": std.astype(np.float32),
        "w1": layer1.weight.detach().numpy().T.copy(),
        "b1": layer1.bias.detach().numpy().copy(),
        "w2": layer2.weight.detach().numpy().T.copy(),
        "b2": layer2.bias.detach().numpy().copy(),
        "wl": skip.weight.detach().numpy().T.copy(),
    }
    if proj is not None and hs is not None:
        p = proj.weight.detach().numpy().T.copy()
        arrays["proj"] = p
        arrays["b1"] = (arrays["b1"] - (h_mean.numpy() @ p) @ arrays["w1"][xs.shape[1] :]).reshape(-1)
    return arrays, metrics


def _val_metrics(pairs: Sequence[TrainPair], vc: list[int], vr: list[int], scores: Any) -> dict[str, Any]:
    by: dict[str, list[bool]] = defaultdict(list)
    for p, c, r in zip(pairs, vc, vr, strict=True):
        right = bool(scores[c] > scores[r])
        by[p.complexity].append(right)
        by["all"].append(right)
    return {
        "val_pairs": len(vc),
        "val_accuracy": {k: round(sum(v) / len(v), 4) for k, v in sorted(by.items())},
        "val_counts": {k: len(v) for k, v in sorted(by.items())},
    }


def _threshold(pairs: Sequence[TrainPair], index: dict[str, int], scores: Any) -> tuple[float, float]:
    seen: dict[int, bool] = {}
    for p in pairs:
        for side in (p.chosen, p.rejected):
            k = index.get(candidate_key(p.record_id, side.proposal))
            if k is not None:
                seen[k] = side.score >= 1.0
    if not seen or all(seen.values()) or not any(seen.values()):
        return 0.5, float("nan")
    probs = {k: 1.0 / (1.0 + math.exp(-float(scores[k]))) for k in seen}
    best = (0.5, 0.0)
    for t in sorted(set(round(v, 3) for v in probs.values())):
        pos = [probs[k] >= t for k, ok in seen.items() if ok]
        neg = [probs[k] < t for k, ok in seen.items() if not ok]
        bal = (sum(pos) / len(pos) + sum(neg) / len(neg)) / 2
        if bal > best[1]:
            best = (t, bal)
    return float(best[0]), round(float(best[1]), 4)


# ------------------------------------------------------------------------------- save


def save_critic(out: Path, config: CachedCriticConfig, arrays: dict[str, Any], metrics: dict[str, Any],
                trained_on: dict[str, Any], *, calibration: Calibration | None = None) -> Path:
    import numpy as np

    out.mkdir(parents=True, exist_ok=True)
    inputs = set(config.inputs)
    uses_lm = bool(inputs & {"lm_stats", "lm_verify", "hidden"})
    manifest = CriticManifest(
        features="features" in inputs,
        relevance="relevance" in inputs,
        lm_stats="lm_stats" in inputs,
        lm_verify="lm_verify" in inputs,
        hidden=config.hidden if "hidden" in inputs else "none",
        base_model=config.base_model if uses_lm else None,
        lm_tools=config.lm_tools if uses_lm else "all",
        lm_tags=config.lm_tags if uses_lm else "read",
        encoder=config.encoder if "relevance" in inputs else None,
        input_names=[ALL_SCALARS[i] for i in scalar_columns(config.inputs)],
        threshold=float(metrics.get("threshold", 0.5)),
        trained_on={**trained_on, "config": asdict(config)},
        metrics=metrics,
        calibration=CALIBRATION if calibration is not None else None,
    )
    np.savez(out / HEAD, **arrays)
    if calibration is not None:
        (out / CALIBRATION).write_text(calibration.model_dump_json(indent=2) + "\n")
    (out / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n")
    return out


# ------------------------------------------------------------------------------ train


def load_data(data: Path) -> tuple[dict[str, TrainRecord], list[TrainPair]]:
    for name in ("records.jsonl", "pairs.jsonl"):
        if not (data / name).is_file():
            raise TrainingError(f"{data} has no {name}: build it with `toolrm data build --out {data}`")
    records = {r.id: r for r in read_records(data / "records.jsonl")}
    return records, list(read_pairs(data / "pairs.jsonl"))


def train_cached(
    config: CachedCriticConfig, data: Path, out: Path, *, cache: Path | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Read (cached), fit and save one critic; its metrics."""
    config.check()
    records, pairs = load_data(data)
    lm_cache, verify = _read(config, data, records, pairs, cache, set(config.inputs), echo)
    pairs = _usable_pairs(pairs, [c for c in (lm_cache, verify and verify_cache(verify)) if c], echo)
    index, scalars, hidden = load_inputs(records, pairs, lm_cache, encoder=config.encoder, verify=verify, echo=echo)
    arrays, metrics = fit_head(config, pairs, index, scalars, hidden, echo=echo)
    calibration = calibrate_head(config, pairs, index, scalars, hidden, arrays, metrics, echo=echo)
    save_critic(out, config, arrays, metrics, {"data": str(data), "pairs": len(pairs)}, calibration=calibration)
    echo(f"[save] {out}: val accuracy {metrics['val_accuracy']}, threshold {metrics['threshold']}")
    return metrics


def _read(
    config: CachedCriticConfig, data: Path, records: dict[str, TrainRecord], pairs: Sequence[TrainPair],
    cache: Path | None, inputs: set[str], echo: Callable[[str], None],
) -> tuple[Path | None, Path | None]:
    """Read what ``inputs`` need: (the LM cache when they read its statistics or hidden states,
    the LM cache when they read the verifier), each ``None`` otherwise."""
    if config.base_model is None:
        return None, None
    lm_cache = cache or lm_cache_dir(data, config.base_model, config.lm_tools, config.lm_tags)
    reads = [verify for verify, name in ((False, {"lm_stats", "hidden"}), (True, {"lm_verify"})) if inputs & name]
    for verify in reads:
        read_lm(records, pairs, lm_cache, base_model=config.base_model, lm_tools=config.lm_tools,
                workers=config.read_workers, limit=config.read_limit, verify=verify, echo=echo,
                lm_tags=config.lm_tags)
    return (lm_cache if False in reads else None), (lm_cache if True in reads else None)


INPUT_SETS: dict[str, tuple[str, ...]] = {
    "features": ("features",),
    "features+relevance": ("features", "relevance"),
    "lm_stats": ("lm_stats",),
    "hidden": ("hidden",),
    "features+relevance+lm_stats": ("features", "relevance", "lm_stats"),
    "all": ("features", "relevance", "lm_stats", "hidden"),
    "features+relevance+lm_verify": ("features", "relevance", "lm_verify"),
    "features+relevance+lm_stats+lm_verify": ("features", "relevance", "lm_stats", "lm_verify"),
}
VERIFY_SETS = tuple(name for name, inputs in INPUT_SETS.items() if "lm_verify" in inputs)
"""The sets that read the verifier: :func:`compare_inputs` fits them only when asked (a pass of its own)."""


def compare_inputs(
    config: CachedCriticConfig, data: Path, out: Path, *, sets: Sequence[str] | None = None,
    cache: Path | None = None, echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """One head per input set on the same cached readings; a critic dir for each.

    ``sets`` (default: every set of :data:`INPUT_SETS`, those of :data:`VERIFY_SETS` only when
    ``config.inputs`` names ``lm_verify``)."""
    if sets is None:
        sets = [s for s in INPUT_SETS if s not in VERIFY_SETS or "lm_verify" in config.inputs]
    records, pairs = load_data(data)
    inputs = {"lm_stats", "hidden"} | {i for s in sets for i in INPUT_SETS[s]}
    lm_cache, verify = _read(config, data, records, pairs, cache, inputs, echo)
    pairs = _usable_pairs(pairs, [c for c in (lm_cache, verify and verify_cache(verify)) if c], echo)
    index, scalars, hidden = load_inputs(records, pairs, lm_cache, encoder=config.encoder, verify=verify, echo=echo)
    report: dict[str, Any] = {}
    for name in sets:
        cfg = replace(config, inputs=INPUT_SETS[name])
        arrays, metrics = fit_head(cfg, pairs, index, scalars, hidden, echo=echo)
        calibration = calibrate_head(cfg, pairs, index, scalars, hidden, arrays, metrics, echo=echo)
        save_critic(out / name, cfg, arrays, metrics, {"data": str(data), "pairs": len(pairs)},
                    calibration=calibration)
        report[name] = metrics
        echo(f"[compare] {name}: val {metrics['val_accuracy']}")
    (out / "compare.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def lm_cache_dir(data: Path, base_model: str, lm_tools: str = "all", lm_tags: str = "read") -> Path:
    """Where the LM readings of ``data`` under ``base_model`` are cached: under
    ``$TOOLRM_CACHE/readings/`` (never inside the data folder), one folder per data folder,
    base model, tool scope and (when not ``read``) tag scope, so that every training on the
    same data reuses them."""
    tags = "" if lm_tags == "read" else f"-tags-{lm_tags}"
    return _readings_root() / f"{_cache_stem(data)}{_slug(base_model)}-{lm_tools}{tags}"


def _readings_root() -> Path:
    from toolrm_agent.models.provision import default_cache_dir

    return default_cache_dir() / "readings"


def _cache_stem(data: Path) -> str:
    """The start of the name of every readings cache of ``data`` (any base model, any tools)."""
    key = hashlib.sha256(str(Path(data).resolve()).encode()).hexdigest()[:12]
    return f"{Path(data).resolve().name}-{key}-"


def carry_readings(inputs: Sequence[Path], out: Path, *, echo: Callable[[str], None] = print) -> int:
    """Copy the LM readings cached for the build folders ``inputs`` (every base model and tool
    listing, the verifier's included) into the caches of their merge ``out``, so that a critic
    trained on the merge reads nothing again. Shards are keyed by record and candidate, so they
    are copied as they are, renamed by the input's position; an input whose readings were made
    with other settings (``readings.json``) than the first one's is left out. The shards copied."""
    import shutil

    copied = 0
    root, into = _readings_root(), _cache_stem(out)
    for i, folder in enumerate(inputs):
        stem = _cache_stem(folder)
        for cache in sorted(root.glob(f"{stem}*")) if root.is_dir() else []:
            target = root / f"{into}{cache.name[len(stem):]}"
            target.mkdir(parents=True, exist_ok=True)
            meta = cache / "readings.json"
            if meta.is_file():
                if not (target / meta.name).is_file():
                    shutil.copyfile(meta, target / meta.name)
                elif (target / meta.name).read_text() != meta.read_text():
                    echo(f"[merge] {cache}: read with other settings than the first input's; not carried")
                    continue
            for sub in (cache, verify_cache(cache)):
                for shard in sorted(sub.glob("shard_*.npz")):
                    dest = target / sub.relative_to(cache) / f"shard_m{i}{shard.name[len('shard'):]}"
                    if not dest.exists():
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(shard, dest)
                        copied += 1
    if copied:
        echo(f"[merge] carried {copied} LM readings shards into {root}/{into}*")
    return copied


def _slug(name: str | None) -> str:
    return "none" if name is None else "".join(c if c.isalnum() else "_" for c in Path(name).name)


__all__ = [
    "ALL_SCALARS",
    "INPUT_SETS",
    "candidate_key",
    "carry_readings",
    "compare_inputs",
    "fit_head",
    "cheap_inputs",
    "load_inputs",
    "load_lm",
    "load_verify",
    "read_lm",
    "read_record_ids",
    "save_critic",
    "train_cached",
    "verify_cache",
]
