"""Issue 21, cost: one forward pass of the 0.5B trunk over a prefix of 390 tokens (a BFCL pair's prefix,
train/RESULTS.md §7 Cost), on both cores, in bfloat16 (what the LM reader runs), float32, and float32
with torch's dynamic int8 quantisation of the linear layers. Random token ids: the cost of a pass
does not depend on them. Writes train/results/s11/probe-dtype.json. Run it with nothing else running.

    .venv/bin/python train/results/s11/probe_dtype.py
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from typing import Any

PREFIX_TOKENS = 390
REPEATS = 3


def seconds_per_pass(model: Any, ids: Any) -> float:
    import torch

    with torch.inference_mode():
        model(ids)  # warm-up
        start = time.perf_counter()
        for _ in range(REPEATS):
            model(ids)
    return (time.perf_counter() - start) / REPEATS


def main() -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from toolrm_agent import resolve_model

    torch.set_num_threads(2)
    torch.manual_seed(0)
    path = resolve_model("default")
    ids = torch.randint(100, 20000, (1, PREFIX_TOKENS))
    out: dict[str, float] = {}
    for dtype in ("bfloat16", "float32"):
        model: Any = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype))
        model.eval()
        out[dtype] = round(seconds_per_pass(model, ids), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated; measured all the same
        quantize: Any = torch.ao.quantization.quantize_dynamic
        quantized = quantize(model, {torch.nn.Linear}, dtype=torch.qint8)
        out["float32 + dynamic int8 linear"] = round(seconds_per_pass(quantized, ids), 3)
    report = {"prefix_tokens": PREFIX_TOKENS, "threads": 2, "repeats": REPEATS, "seconds_per_pass": out}
    target = Path(__file__).with_name("probe-dtype.json")
    target.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
