"""Issue 21, cost: the least time the LM tier's arithmetic can take on this machine.

The target is at most 1 s per context with the 0.5B; ``disc:grounded`` takes about 1.7 s (train/RESULTS.md §7
Cost). Any reader that gives the same readings must run the 0.5B over the prefix (the conversation and the
called tools) and over every proposal, and the vocabulary head over every proposal token. This script counts
that arithmetic on the 20 seeded dev contexts of ``toolrm eval cost`` (``--split dev --limit 20 --seed 11``;
the first, the warm-up, left out, as there) and divides it by the fastest bfloat16 matrix product this machine
runs, measured here on the shapes of the 0.5B's layers. What comes out is a floor: no implementation of the same
reading can be faster on these cores.

* tokens: the distinct prefixes of each context (``tools="called"``, as the shipped reader builds them), less
  what the reader's kept prefixes already hold (the longest shared head with one of the last four prefixes,
  :data:`PREFIX_CACHE`), and the proposals' tokens;
* arithmetic: 2 FLOPs per multiply-add of every linear layer of the trunk for every token run, of the
  vocabulary head for every proposal token and one per prefix, and of attention over the tokens before it;
* rate: the best of :data:`REPEATS` timed products of a 400-token activation with each weight shape of a layer
  (q, k and v, o, the MLP's gate-and-up and down) and the vocabulary head, bfloat16, both cores;
* floor: each product's arithmetic at its own rate (``floor_seconds_per_context``), and all of it at the
  fastest rate of any of them (``floor_seconds_per_context_at_best_rate``, lower still);
* also timed: the 0.5B's own forward pass over a 390-token prefix (transformers, bfloat16, both cores), to show
  how close the reader runs to that rate.

Writes ``train/results/s13/flops-floor.json``. Run it with nothing else on the machine:

    .venv/bin/python train/results/s13/flops_floor.py
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from train.results.s13.compile_probe import best_seconds, write_report

REPEATS = 5
ROWS = 400
PREFIX_CACHE = 4


def context_tokens() -> list[dict[str, int]]:
    """Per timed context: prefix tokens run (after reuse), prefixes, proposal tokens."""
    from eval.options import load_all_results
    from eval.pairs import build_pairs, sample_pairs
    from toolrm_agent import resolve_model
    from toolrm_agent.judges.trained.lm_scoring import LMScorer, shared_length

    loaded = load_all_results([Path("../shared/data/bfcl-results")], "dev")
    pairs, _ = build_pairs(loaded, seed=11)
    pairs = sample_pairs(pairs, 20, 11)
    reader = LMScorer(resolve_model("default"), tools="called")
    kept: list[tuple[int, ...]] = []
    rows = []
    for i, pair in enumerate(pairs):
        proposals = (pair.chosen, pair.rejected)
        prefixes: list[tuple[int, ...]] = []
        for p in proposals:
            ids = tuple(reader.prefix_ids(pair.context, p))
            if ids not in prefixes:
                prefixes.append(ids)
        run = 0
        for ids in prefixes:
            reuse = max((shared_length(ids, k) for k in kept), default=0)
            run += len(ids) - min(reuse, len(ids) - 1)  # the last prefix token always runs
            kept = [*kept, ids][-PREFIX_CACHE:]
        if i == 0:
            continue  # the warm-up context
        rows.append({
            "prefixes": len(prefixes),
            "prefix_tokens": sum(len(x) for x in prefixes),
            "prefix_tokens_run": run,
            "proposal_tokens": sum(len(reader.suffix_ids(p)) for p in proposals),
            "context_tokens": max(len(x) for x in prefixes),
        })
    return rows


def arithmetic(config: Any, row: dict[str, int]) -> tuple[float, float]:
    """FLOPs of one context's reading: (the trunk's layers and attention, the vocabulary head)."""
    d, ffn, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    head_dim = d // heads
    per_token = layers * (d * heads * head_dim + 2 * d * kv_heads * head_dim + heads * head_dim * d + 3 * d * ffn)
    vocab = config.vocab_size * d
    tokens = row["prefix_tokens_run"] + row["proposal_tokens"]
    attention = layers * 2 * heads * head_dim * tokens * row["context_tokens"]  # scores and values, upper bound
    return 2.0 * (per_token * tokens + attention), 2.0 * vocab * (row["proposal_tokens"] + row["prefixes"])


def best_rate(config: Any) -> dict[str, float]:
    """The fastest bfloat16 product per weight shape of a layer, as FLOPs per second."""
    import torch

    d, ffn = config.hidden_size, config.intermediate_size
    head_dim = d // config.num_attention_heads
    shapes = {
        "qkv": (d, d + 2 * config.num_key_value_heads * head_dim),
        "o": (d, d),
        "gate_up": (d, 2 * ffn),
        "down": (ffn, d),
        "vocab": (d, config.vocab_size),
    }
    out = {}
    for name, (k, n) in shapes.items():
        a = torch.randn(ROWS, k, dtype=torch.bfloat16)
        b = torch.randn(k, n, dtype=torch.bfloat16)
        torch.matmul(a, b)
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            torch.matmul(a, b)
            times.append(time.perf_counter() - start)
        out[name] = 2.0 * ROWS * k * n / min(times)
    return out


def model_pass_seconds() -> float:
    import torch
    from transformers import AutoModelForCausalLM

    from toolrm_agent import resolve_model

    model: Any = AutoModelForCausalLM.from_pretrained(resolve_model("default"), dtype=torch.bfloat16)
    model.eval()
    return best_seconds(lambda ids: model(ids, logits_to_keep=1), 390, REPEATS)


def main() -> None:
    import os

    import torch
    from transformers import AutoConfig

    from toolrm_agent import resolve_model

    torch.set_num_threads(2)
    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(resolve_model("default"))
    load_before = os.getloadavg()
    rows = context_tokens()
    flops = [arithmetic(config, r) for r in rows]
    rates = best_rate(config)
    # the trunk's products weighted by their share of a token's arithmetic; the vocabulary head apart
    d, ffn = config.hidden_size, config.intermediate_size
    trunk_weights = {"qkv": d * (d + 2 * config.num_key_value_heads * (d // config.num_attention_heads)),
                     "o": d * d, "gate_up": 2 * d * ffn, "down": ffn * d}
    total = sum(trunk_weights.values())
    trunk_rate = total / sum(w / rates[k] for k, w in trunk_weights.items())
    # the floor at each product's own rate, and (lower still) at the best rate of any product
    floor = [t / trunk_rate + v / rates["vocab"] for t, v in flops]
    floor_best = [(t + v) / max(rates.values()) for t, v in flops]
    pass_s = model_pass_seconds()
    pass_flops = sum(arithmetic(config, {"prefix_tokens_run": 390, "proposal_tokens": 0, "prefixes": 1,
                                         "context_tokens": 390}))
    report = {
        "contexts": len(rows),
        "tokens_per_context": {k: statistics.mean(r[k] for r in rows) for k in rows[0]},
        "gflop_per_context": statistics.mean(t + v for t, v in flops) / 1e9,
        "gflop_per_context_vocab_head": statistics.mean(v for _, v in flops) / 1e9,
        "gflops_best_product": {k: v / 1e9 for k, v in rates.items()},
        "gflops_trunk_products": trunk_rate / 1e9,
        "floor_seconds_per_context": statistics.mean(floor),
        "floor_seconds_per_context_median": statistics.median(floor),
        "floor_seconds_per_context_at_best_rate": statistics.mean(floor_best),
        "model_pass_390_tokens_seconds": pass_s,
        "model_pass_gflops": pass_flops / pass_s / 1e9,
        "threads": 2, "repeats": REPEATS, "rows": ROWS,
    }
    write_report("flops-floor.json", report, load_before)


if __name__ == "__main__":
    main()
