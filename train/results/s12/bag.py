"""Issue 21: one LM head that is the mean of several trained heads (a bag), written as a critic directory.

Written 2026-12-07 (ninth session), before any bag was read. The shipped ``disc:grounded`` LM head was
trained on one policy-sample build (``out/pref-g6s``); the eighth session ran its recipe again
(``out/g/two-g6s-r``) and got a head that is better on one dev set and worse on the other. Heads trained
on independent samples of the same recipe disagree where the data are thin; their mean logit is the
textbook remedy (bagging). The two heads read the same inputs (features, relevance, LM statistics on the
0.5B, called tools), so the bag costs what one head costs: the mean of two ``tanh`` MLPs is one MLP of
twice the width, with the standardisation folded into the first layer and the output weights halved.

The choice, fixed before reading: ``select.py`` (s10) between the shipped critic and the bag, on the
dev150 and live dev sets; a tie keeps the shipped critic. Only a bag that wins goes on to the test sets
(once), the best-of-4 grid and the live self-correction grid, and it ships only if those two Done-when
lines of the issue still hold.

Usage: ``python train/results/s12/bag.py OUT HEAD_DIR HEAD_DIR ...``: ``OUT`` is a copy of the first
two-tier critic with its LM stage's head replaced by the bag (the manifest's ``trained_on`` lists the
members); calibrate it with ``toolrm train calibrate`` afterwards.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np


def folded(head: dict[str, Any]) -> dict[str, Any]:
    """The same head with its input standardisation folded into the first layer and the skip."""
    scale = 1.0 / head["std"]
    shift = head["mean"] * scale
    w1 = head["w1"] * scale[:, None]
    b1 = head["b1"] - shift @ head["w1"]
    wl = head["wl"] * scale[:, None]
    b2 = head["b2"] - shift @ head["wl"]
    return {"w1": w1, "b1": b1, "w2": head["w2"], "b2": b2, "wl": wl}


def bag(heads: list[dict[str, Any]]) -> dict[str, Any]:
    """One head whose logit is the mean of the ``heads``' logits."""
    if any("proj" in h for h in heads):
        raise SystemExit("a head that projects the hidden state cannot be bagged this way")
    parts = [folded(h) for h in heads]
    n = len(parts)
    return {
        "mean": np.zeros_like(heads[0]["mean"]), "std": np.ones_like(heads[0]["std"]),
        "w1": np.concatenate([p["w1"] for p in parts], axis=1).astype(np.float32),
        "b1": np.concatenate([p["b1"] for p in parts]).astype(np.float32),
        "w2": (np.concatenate([p["w2"] for p in parts], axis=0) / n).astype(np.float32),
        "b2": (sum(p["b2"] for p in parts) / n).astype(np.float32),
        "wl": (sum(p["wl"] for p in parts) / n).astype(np.float32),
    }


def logits(head: dict[str, Any], x: Any) -> Any:
    """The head's logits for scalar inputs ``x`` (as ``CriticHead`` computes them)."""
    z = (x - head["mean"]) / head["std"]
    out = np.tanh(z @ head["w1"] + head["b1"]) @ head["w2"] + head["b2"] + z @ head["wl"]
    return out.reshape(-1)


def main(out: Path, members: list[Path]) -> None:
    lm_dirs = [m / "lm" if (m / "lm" / "head.npz").exists() else m for m in members]
    heads = []
    for d in lm_dirs:
        with np.load(d / "head.npz") as data:
            heads.append({k: data[k].astype(np.float64) for k in data.files})
    names = [json.loads((d / "critic.json").read_text())["input_names"] for d in lm_dirs]
    if any(n != names[0] for n in names):
        raise SystemExit("the heads read different inputs")
    merged = bag(heads)
    x = np.random.default_rng(0).normal(size=(256, len(names[0]))) * 3
    want = np.mean([logits(h, x) for h in heads], axis=0)
    assert np.allclose(logits({k: v.astype(np.float64) for k, v in merged.items()}, x), want, atol=1e-4)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(members[0], out)
    np.savez(out / "lm" / "head.npz", **merged)
    manifest = json.loads((out / "lm" / "critic.json").read_text())
    manifest["trained_on"] = {**manifest["trained_on"], "bag": [str(d) for d in lm_dirs]}
    (out / "lm" / "critic.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {out}: the mean of {len(heads)} heads, width {merged['w1'].shape[1]}")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), [Path(a) for a in sys.argv[2:]])
