"""Issue 21, cost: does ``torch.compile`` bring the 0.5B's pass near the arithmetic floor of flops_floor.py?

One forward pass of the 0.5B over a 390-token prefix (random ids; ``logits_to_keep=1``, as the reader's prefix
pass), bfloat16, both cores: eager (what the reader runs) and compiled by inductor with dynamic shapes (a
reader meets a new length at every context). The best of :data:`REPEATS` passes each; the compiled model's
first call, compilation included, is timed apart. A compiled model runs other (fused) kernels, so the
report also holds the largest difference between the two models' next-token log-probabilities over one
prefix. Writes ``compile-probe.json`` beside this file. Run it with nothing else on the machine:

    .venv/bin/python train/results/s13/compile_probe.py
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPEATS = 4
TOKENS = 390


def best_seconds(forward: Callable[[Any], Any], tokens: int = TOKENS, repeats: int = REPEATS) -> float:
    """The fastest of ``repeats`` calls of ``forward`` on ``tokens`` random ids, after one warm-up call."""
    import torch

    ids = torch.randint(100, 20000, (1, tokens))
    with torch.inference_mode():
        forward(ids)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            forward(ids)
            times.append(time.perf_counter() - start)
    return min(times)


def largest_difference(model: Any, compiled: Any) -> float:
    """The largest difference between the eager and the compiled model's log-probabilities of the next
    token at every position of one prefix of :data:`TOKENS` random ids (what a reading is made of)."""
    import torch

    ids = torch.randint(100, 20000, (1, TOKENS))
    with torch.inference_mode():
        eager = model(ids).logits.float().log_softmax(-1)
        fused = compiled(ids).logits.float().log_softmax(-1)
    return float((eager - fused).abs().max())


def write_report(
    name: str, report: dict[str, Any], load_before: tuple[float, float, float], folder: Path | None = None
) -> None:
    """``report`` with the load average before and now, as ``name`` in ``folder`` (default: beside these
    scripts), and printed."""
    report["load_average"] = {"before": [round(x, 2) for x in load_before],
                              "after": [round(x, 2) for x in os.getloadavg()]}
    target = (folder or Path(__file__).parent) / name
    target.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


def main() -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from toolrm_agent import resolve_model

    torch.set_num_threads(2)
    torch.manual_seed(0)
    load_before = os.getloadavg()
    model: Any = AutoModelForCausalLM.from_pretrained(resolve_model("default"), dtype=torch.bfloat16)
    model.eval()
    eager = best_seconds(lambda ids: model(ids, logits_to_keep=1))
    compiled: Any = torch.compile(model, dynamic=True)
    start = time.perf_counter()
    with torch.inference_mode():
        compiled(torch.randint(100, 20000, (1, TOKENS)), logits_to_keep=1)
    first = time.perf_counter() - start
    report = {
        "tokens": TOKENS, "threads": 2, "repeats": REPEATS,
        "eager_seconds": eager,
        "compiled_first_call_seconds": first,
        "compiled_seconds": best_seconds(lambda ids: compiled(ids, logits_to_keep=1)),
        "max_abs_logprob_difference": largest_difference(model, compiled),
    }
    write_report("compile-probe.json", report, load_before)


if __name__ == "__main__":
    main()
