"""Issue 21, cost: would llama.cpp run the LM tier's prefix pass faster than torch on these cores?

The LM tier's reading is a 0.5B pass over the prefix and the proposals; in torch (bfloat16, both cores) one
pass over 390 tokens takes about 1 s here, and the reading's arithmetic alone 1.02 s per context
(``s13/flops_floor.py``). llama.cpp runs the same model from its GGUF with its own quantised kernels, the
fast path of the policy. Its server returns no prompt log-probabilities (so the reading cannot come from it,
train/RESULTS.md §7 "What was built"), but if its prefill were much faster, a reader built on llama.cpp's
library would be worth writing. This measures both on 390 random token ids, both cores, best of
:data:`REPEATS` after a warm-up: torch's forward pass (as ``flops_floor.py`` times it) and the server's own
prompt time for a prompt of those ids (``/completion``, one token generated, the prompt cache off).

Writes ``train/results/s14/llamacpp-prefill.json``. Run it with nothing else on the machine:

    .venv/bin/python train/results/s14/llamacpp_prefill.py
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from train.results.s13.compile_probe import best_seconds, write_report

REPEATS = 4
TOKENS = 390


def gguf_file_type(path: Any) -> str:
    """The GGUF's weight type as llama.cpp names it (``general.file_type``)."""
    import gguf

    reader = gguf.GGUFReader(path)
    field = reader.fields["general.file_type"]
    return str(gguf.LlamaFileType(int(field.parts[field.data[0]][0])).name)


def llamacpp_prompt_seconds(ids: list[int]) -> tuple[float, float, int]:
    """Best and median of the server's prompt time for ``ids`` (seconds), and the tokens it counted."""
    from toolrm_agent.integrations.llamacpp_server import LlamaCppServerConfig, start_llamacpp_server

    with start_llamacpp_server(LlamaCppServerConfig(model="default", n_parallel=1, threads=2)) as server:
        times, counted = [], 0
        for i in range(REPEATS + 1):
            body = {"prompt": ids, "n_predict": 1, "cache_prompt": False, "temperature": 0}
            reply = httpx.post(f"{server.root_url}/completion", json=body, timeout=300).json()
            counted = int(reply["timings"]["prompt_n"])
            if i:  # the first is the warm-up
                times.append(float(reply["timings"]["prompt_ms"]) / 1000)
    times.sort()
    return times[0], times[len(times) // 2], counted


def main() -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from toolrm_agent import resolve_gguf, resolve_model

    torch.set_num_threads(2)
    torch.manual_seed(0)
    load_before = os.getloadavg()
    ids = torch.randint(100, 20000, (1, TOKENS))  # best_seconds draws its own ids of the same kind for torch
    model: Any = AutoModelForCausalLM.from_pretrained(resolve_model("default"), dtype=torch.bfloat16)
    model.eval()
    torch_s = best_seconds(lambda x: model(x, logits_to_keep=1), TOKENS, REPEATS)
    best, median, counted = llamacpp_prompt_seconds([int(i) for i in ids[0]])
    report = {
        "tokens": TOKENS,
        "torch_bfloat16_seconds": torch_s,
        "torch_tokens_per_second": TOKENS / torch_s,
        "llamacpp_gguf_type": gguf_file_type(resolve_gguf("default")),
        "llamacpp_prompt_seconds": best,
        "llamacpp_prompt_seconds_median": median,
        "llamacpp_prompt_tokens_counted": counted,
        "llamacpp_tokens_per_second": counted / best,
        "llamacpp_over_torch": best / torch_s,
        "threads": 2, "repeats": REPEATS,
    }
    write_report("llamacpp-prefill.json", report, load_before, Path(__file__).parent)


if __name__ == "__main__":
    main()
