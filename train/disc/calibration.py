"""Calibration, a step of the critic build: head logits → P(correct) on held-out records.

After the head is fitted (:func:`train.disc.cached.fit_head`), :func:`calibrate_head`
scores every distinct candidate of the validation records (the records the head never
trained on) with the head as the runtime computes it
(:class:`~toolrm_agent.judges.trained.trained.CriticHead`), labels it with its absolute label
(the rule score is 1: correct; anything less: not), and fits a monotone map
(:class:`~toolrm_agent.judges.calibration.Calibration`: isotonic by default, or Platt).

The measurement is honest about the fit: the validation records are split in two halves
(by record); a map fitted on one half scores the other, and the pooled out-of-fold
scores give the calibrated ECE and reliability curve. The map saved in the critic
directory is then fitted on all validation records. Also reported: the uncalibrated ECE
(``sigmoid(logit)``), the accept threshold at a stated false-rejection rate (at most 5% of
correct candidates rejected) and the precision of rejections there (the share of
rejected candidates that are incorrect), all on out-of-fold scores.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from toolrm_agent.core.errors import TrainingError
from toolrm_agent.core.progress import progress_bar
from toolrm_agent.judges.calibration import CALIBRATION, Calibration, sigmoid

if TYPE_CHECKING:
    from train.disc.config import CachedCriticConfig
    from train.pairs import TrainPair

Method = Literal["isotonic", "platt"]
BINS = 10
"""Equal-width bins of the reliability curve and the ECE."""
TARGET_FRR = 0.05
"""The stated false-rejection rate the reported threshold keeps."""


# ------------------------------------------------------------------------------- fits


def fit_isotonic(logits: Sequence[float], labels: Sequence[bool], *, blend: float = 1e-3) -> Calibration:
    """Pool adjacent violators on the labels sorted by logit; knots at block means."""
    if not logits:
        raise TrainingError("cannot calibrate on no candidates")
    order = sorted(range(len(logits)), key=lambda i: logits[i])
    # blocks: [sum_x, sum_y, weight]; equal logits start in one block
    blocks: list[list[float]] = []
    for i in order:
        x, y = float(logits[i]), float(bool(labels[i]))
        if blocks and blocks[-1][0] / blocks[-1][2] == x:
            blocks[-1][0] += x
            blocks[-1][1] += y
            blocks[-1][2] += 1
        else:
            blocks.append([x, y, 1.0])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            for k in range(3):
                blocks[-1][k] += last[k]
    xs = [b[0] / b[2] for b in blocks]
    ys = [min(max(b[1] / b[2], 0.0), 1.0) for b in blocks]
    # merged blocks can share a mean logit only by float noise: keep x strictly increasing
    knots_x: list[float] = []
    knots_y: list[float] = []
    for x, y in zip(xs, ys, strict=True):
        if knots_x and x <= knots_x[-1]:
            knots_y[-1] = max(knots_y[-1], y)
            continue
        knots_x.append(x)
        knots_y.append(y)
    return Calibration(method="isotonic", x=tuple(knots_x), y=tuple(knots_y), blend=blend,
                       fitted_on=_counts(labels))


def fit_platt(logits: Sequence[float], labels: Sequence[bool], *, steps: int = 200) -> Calibration:
    """``sigmoid(a * logit + b)`` by Newton's method on the log loss (Platt's smoothed
    targets, so a separable set does not send ``a`` to infinity)."""
    if not logits:
        raise TrainingError("cannot calibrate on no candidates")
    n_pos = sum(bool(v) for v in labels)
    n_neg = len(labels) - n_pos
    hi, lo = (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0)
    targets = [hi if v else lo for v in labels]
    def loss(a: float, b: float) -> float:
        total = 0.0
        for x, t in zip(logits, targets, strict=True):
            z = a * x + b
            total += max(z, 0.0) - z * t + math.log1p(math.exp(-abs(z)))
        return total

    a, b = 0.0, 0.0  # from a flat start; Newton steps, halved while the loss does not drop
    current = loss(a, b)
    for _ in range(steps):
        ga = gb = haa = hab = hbb = 0.0
        for x, t in zip(logits, targets, strict=True):
            p = sigmoid(a * x + b)
            d, w = p - t, max(p * (1 - p), 1e-12)
            ga += d * x
            gb += d
            haa += w * x * x
            hab += w * x
            hbb += w
        det = haa * hbb - hab * hab
        if abs(det) < 1e-18:
            break
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        step = 1.0
        while step > 1e-6:
            na, nb = a - step * da, b - step * db
            new = loss(na, nb)
            if new <= current:
                break
            step /= 2
        else:
            break
        moved = abs(na - a) + abs(nb - b)
        a, b, current = na, nb, new
        if moved < 1e-10:
            break
    return Calibration(method="platt", a=a, b=b, fitted_on=_counts(labels))


def fit_calibration(logits: Sequence[float], labels: Sequence[bool], method: Method = "isotonic") -> Calibration:
    if method == "isotonic":
        return fit_isotonic(logits, labels)
    if method == "platt":
        return fit_platt(logits, labels)
    raise TrainingError(f"calibration method must be isotonic or platt, got {method!r}")


def _counts(labels: Sequence[bool]) -> dict[str, Any]:
    return {"candidates": len(labels), "correct": sum(bool(v) for v in labels)}


# ------------------------------------------------------------------------- measures


def reliability(scores: Sequence[float], labels: Sequence[bool], bins: int = BINS) -> list[dict[str, Any]]:
    """Equal-width bins over [0, 1]: candidates, mean score, share correct (non-empty bins)."""
    rows: list[list[float]] = [[0.0, 0.0, 0.0] for _ in range(bins)]
    for s, y in zip(scores, labels, strict=True):
        k = min(int(s * bins), bins - 1)
        rows[k][0] += 1
        rows[k][1] += s
        rows[k][2] += float(bool(y))
    return [
        {"bin": [round(k / bins, 3), round((k + 1) / bins, 3)], "n": int(n),
         "mean_score": round(ss / n, 4), "accuracy": round(sy / n, 4)}
        for k, (n, ss, sy) in enumerate(rows) if n
    ]


def ece(scores: Sequence[float], labels: Sequence[bool], bins: int = BINS) -> float:
    """Expected calibration error: sum over bins of (share of candidates) x |mean score - share correct|."""
    total = len(scores)
    if not total:
        return float("nan")
    curve = reliability(scores, labels, bins)
    error: float = sum(r["n"] / total * abs(r["mean_score"] - r["accuracy"]) for r in curve)
    return round(error, 4)


def threshold_at_frr(scores: Sequence[float], labels: Sequence[bool], frr: float = TARGET_FRR) -> dict[str, Any]:
    """The highest accept threshold that rejects at most ``frr`` of the correct
    candidates (a candidate is rejected when its score is below the threshold), and what
    it rejects there: the false-rejection rate, the share of incorrect candidates caught
    (recall) and the precision of rejections (rejected ones that are incorrect)."""
    correct = sorted(s for s, y in zip(scores, labels, strict=True) if y)
    if not correct:
        return {"threshold": 0.0, "frr": 0.0, "rejected": 0, "precision": float("nan"), "recall": 0.0}
    allowed = math.floor(frr * len(correct))
    # rejecting the `allowed` lowest correct scores at most: accept from the next one up
    threshold = correct[allowed]
    rejected = [(s, y) for s, y in zip(scores, labels, strict=True) if s < threshold]
    wrong = sum(1 for _, y in rejected if not y)
    n_wrong = sum(1 for y in labels if not y)
    return {
        "threshold": round(float(threshold), 4),
        "target_frr": frr,
        "frr": round(sum(1 for _, y in rejected if y) / len(correct), 4),
        "rejected": len(rejected),
        "precision": round(wrong / len(rejected), 4) if rejected else float("nan"),
        "recall": round(wrong / n_wrong, 4) if n_wrong else float("nan"),
    }


# ------------------------------------------------------------------ the build step


def val_candidates(
    config: CachedCriticConfig, pairs: Sequence[TrainPair], index: dict[str, int]
) -> dict[int, tuple[str, bool]]:
    """``{row: (record id, correct)}`` for every distinct candidate of the held-out records
    (the same split as :func:`train.disc.cached.fit_head`)."""
    from train.disc.cached import candidate_key, split_records

    _, val_ids = split_records(sorted({p.record_id for p in pairs}), config.val_share, config.seed)
    out: dict[int, tuple[str, bool]] = {}
    for p in pairs:
        if p.record_id not in val_ids:
            continue
        for side in (p.chosen, p.rejected):
            k = index.get(candidate_key(p.record_id, side.proposal))
            if k is not None:
                out[k] = (p.record_id, side.score >= 1.0)
    return out


def head_logits(config: CachedCriticConfig, arrays: dict[str, Any], scalars: Any, hidden: Any | None,
                rows: Sequence[int]) -> list[float]:
    """The saved head's logits for ``rows``, computed as the runtime computes them."""
    import numpy as np

    from toolrm_agent.judges.trained.trained import CriticHead
    from train.disc.cached import _hidden_slice, scalar_columns

    sel = np.asarray(rows, dtype=np.int64)
    x = scalars[sel][:, scalar_columns(config.inputs)].astype(np.float64)
    h = None
    if "hidden" in config.inputs and hidden is not None and "proj" in arrays:
        h = _hidden_slice(hidden, config.hidden)[sel].astype(np.float64)
    return [float(v) for v in CriticHead(dict(arrays))(x, h)]


def calibrate_head(
    config: CachedCriticConfig,
    pairs: Sequence[TrainPair],
    index: dict[str, int],
    scalars: Any,
    hidden: Any | None,
    arrays: dict[str, Any],
    metrics: dict[str, Any],
    *,
    method: Method = "isotonic",
    echo: Callable[[str], None] = print,
) -> Calibration | None:
    """Fit the calibration map on the held-out records; add ``metrics["calibration"]``
    (see the module docstring) and set ``metrics["threshold"]``, the critic's default
    accept threshold, in calibrated space: the highest one that rejects at most 5% of
    the correct held-out candidates (the uncalibrated balanced-accuracy threshold is kept
    as ``threshold_raw``, and mapped as ``threshold_balanced``). Returns the map to save
    with the critic; ``None`` (and ``metrics["calibration"]["skipped"]``, said in ``echo``)
    when the held-out records have too few candidates, or of one kind only, to fit one:
    the critic is saved uncalibrated (its score stays ``sigmoid(logit)``)."""
    cands = val_candidates(config, pairs, index)
    if not _fittable(cands.values(), metrics, echo):
        return None
    rows = sorted(cands)
    logits = head_logits(config, arrays, scalars, hidden, rows)
    return fit_map(
        logits, [cands[r][1] for r in rows], [cands[r][0] for r in rows], metrics,
        seed=config.seed, method=method, echo=echo,
    )


def _fittable(cands: Iterable[tuple[str, bool]], metrics: dict[str, Any], echo: Callable[[str], None]) -> bool:
    """Whether the held-out candidates ``(record id, correct)`` can fit a map; if not, say
    why in ``metrics["calibration"]["skipped"]`` and ``echo``."""
    labels = [ok for _, ok in cands]
    if len(labels) >= 4 and any(labels) and not all(labels):
        return True
    why = (f"calibration needs held-out candidates of both kinds; got {len(labels)} "
           f"({sum(labels)} correct): use more data or a larger val_share")
    metrics["calibration"] = {"skipped": why}
    echo(f"[calibrate] skipped, the critic stays uncalibrated: {why}")
    return False


def fit_map(
    logits: Sequence[float],
    labels: Sequence[bool],
    records: Sequence[str],
    metrics: dict[str, Any],
    *,
    seed: int,
    method: Method = "isotonic",
    accept_raw: float | None = None,
    echo: Callable[[str], None] = print,
) -> Calibration:
    """Fit the map on held-out candidates (their head logits, absolute labels and record
    ids), measure it out of fold, and write the report and thresholds into ``metrics`` (see
    :func:`calibrate_head`). ``accept_raw``: keep this uncalibrated accept threshold (one
    chosen elsewhere, for example on BFCL's dev half by ``toolrm eval rejections``), mapped
    through the fitted map, instead of the one at ≤ 5% false rejections here."""
    # out-of-fold scores: two halves by record, each scored by the map fitted on the other
    fold = {rid: random.Random(f"{seed}|calfold|{rid}").random() < 0.5 for rid in set(records)}
    oof = [0.0] * len(logits)
    for side in (True, False):
        fit_i = [i for i, rid in enumerate(records) if fold[rid] != side]
        score_i = [i for i, rid in enumerate(records) if fold[rid] == side]
        if not score_i:
            continue
        if not fit_i or len({labels[i] for i in fit_i}) < 2:  # a degenerate half: fit on all
            fit_i = list(range(len(logits)))
        cal = fit_calibration([logits[i] for i in fit_i], [labels[i] for i in fit_i], method)
        for i in score_i:
            oof[i] = cal(logits[i])
    raw = [sigmoid(v) for v in logits]
    final = fit_calibration(logits, labels, method)
    raw_threshold = float(metrics.get("threshold", 0.5))
    balanced = round(final(_logit(raw_threshold)), 4)
    frr = threshold_at_frr(oof, labels)  # honest: out-of-fold scores
    # the default accept threshold: at most TARGET_FRR of correct candidates rejected, on
    # the scores the saved map gives (what the runtime compares against)
    chosen = threshold_at_frr([final(v) for v in logits], labels)
    if accept_raw is None:
        threshold = float(chosen["threshold"])
        source = f"at most {TARGET_FRR:.0%} of the correct held-out candidates rejected"
    else:
        threshold = round(final(_logit(accept_raw)), 6)
        source = f"the uncalibrated threshold {accept_raw} given, mapped"
    report = {
        "method": method,
        "held_out_records": len(set(records)),
        "candidates": len(logits),
        "correct": sum(labels),
        "ece_raw": ece(raw, labels),
        "ece": ece(oof, labels),
        "ece_note": "ece: out-of-fold (two halves of the held-out records, each scored by the map "
                    "fitted on the other); ece_raw: sigmoid(logit) before calibration",
        "reliability_raw": reliability(raw, labels),
        "reliability": reliability(oof, labels),
        "at_frr": frr,
        "at_frr_note": f"accept threshold rejecting at most {TARGET_FRR:.0%} of correct held-out candidates, "
                       "its false-rejection rate, recall of incorrect ones and precision of rejections, "
                       "on out-of-fold scores; threshold_chosen: the same rule on the saved map's scores",
        "threshold_chosen": chosen,
        "threshold_source": source,
        "brier": round(sum((s - y) ** 2 for s, y in zip(oof, labels, strict=True)) / len(logits), 4),
    }
    metrics["calibration"] = report
    metrics["threshold_raw"] = raw_threshold
    metrics["threshold_balanced"] = balanced
    metrics["threshold"] = threshold
    echo(
        f"[calibrate] {method} on {len(logits)} held-out candidates ({sum(labels)} correct): "
        f"ECE {report['ece_raw']} → {report['ece']}; at ≤{TARGET_FRR:.0%} false rejections accept from "
        f"{frr['threshold']} (rejection precision {frr['precision']}, out of fold); threshold "
        f"{threshold} ({source}; was {raw_threshold} uncalibrated, for balanced accuracy)"
    )
    return final


def _logit(p: float) -> float:
    return math.log(p / (1 - p)) if 0 < p < 1 else 0.0


# --------------------------------------------------------- an already trained critic


def calibrate_critic(
    critic: Path,
    data: Path,
    out: Path,
    *,
    method: Method = "isotonic",
    accept_raw: float | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Calibrate a critic trained before the calibration step existed (or again, on other
    data): score the candidates of ``data``'s held-out records (the records its head never
    trained on: the split of its own training config, by record id) with the critic as the
    runtime does, fit :func:`fit_map`, and write the critic, its ``calibration.json`` and
    its new threshold to ``out`` (which may be ``critic`` itself). Returns the metrics.

    A two-tier critic is refused: calibrate each stage, then assemble them again."""
    import shutil

    from toolrm_agent.judges.trained.trained import MANIFEST, TrainedJudge
    from train.disc.cached import candidate_key, load_data, split_records

    judge = TrainedJudge(critic)
    manifest = judge.manifest
    if manifest.second_stage is not None:
        raise TrainingError(f"{critic} is a two-tier critic: calibrate each stage, then `toolrm train two-tier`")
    config = manifest.trained_on.get("config", {})
    val_share, seed = float(config.get("val_share", 0.1)), int(config.get("seed", 0))
    records, pairs = load_data(data)
    _, val_ids = split_records(sorted({p.record_id for p in pairs}), val_share, seed)
    by_record: dict[str, dict[str, tuple[Any, bool]]] = {}
    for p in pairs:
        if p.record_id in val_ids and p.record_id in records:
            for side in (p.chosen, p.rejected):
                by_record.setdefault(p.record_id, {})[candidate_key(p.record_id, side.proposal)] = (
                    side.proposal, side.score >= 1.0)
    metrics = dict(manifest.metrics)
    if manifest.calibration is not None:  # fitted again: keep the uncalibrated threshold as the base
        metrics["threshold"] = float(metrics.get("threshold_raw", manifest.threshold))
    cands = [(rid, ok) for rid in sorted(by_record) for _, ok in by_record[rid].values()]
    if not _fittable(cands, metrics, echo):
        raise TrainingError(f"cannot calibrate {critic} on {data}: {metrics['calibration']['skipped']}")
    logits: list[float] = []
    echo(f"[calibrate] scoring {len(cands)} candidates of {len(by_record)} held-out records with {critic}")
    with progress_bar(transient=True) as progress:
        task = progress.add_task("calibrate", total=len(by_record), note="")
        for rid in sorted(by_record):
            got, _, _ = judge.logits(records[rid].context(), [prop for prop, _ in by_record[rid].values()])
            logits += got
            progress.advance(task)
    final = fit_map(logits, [ok for _, ok in cands], [rid for rid, _ in cands], metrics,
                    seed=seed, method=method, accept_raw=accept_raw, echo=echo)
    final = final.model_copy(update={"fitted_on": {"data": str(data), "candidates": len(cands),
                                                   "records": len(by_record)}})
    if out.resolve() != judge.path.resolve():
        shutil.copytree(judge.path, out, dirs_exist_ok=True)
    (out / CALIBRATION).write_text(final.model_dump_json(indent=2) + "\n")
    updated = manifest.model_copy(update={
        "calibration": CALIBRATION,
        "threshold": float(metrics["threshold"]),
        "metrics": metrics,
        "trained_on": {**manifest.trained_on, "calibrated_on": {"data": str(data), "method": method}},
    })
    (out / MANIFEST).write_text(updated.model_dump_json(indent=2) + "\n")
    echo(f"[calibrate] wrote {out} (`--judge disc:{out}`): threshold {metrics['threshold']}")
    return metrics


__all__ = [
    "calibrate_critic",
    "calibrate_head",
    "ece",
    "fit_calibration",
    "fit_isotonic",
    "fit_map",
    "fit_platt",
    "head_logits",
    "reliability",
    "threshold_at_frr",
    "val_candidates",
]
