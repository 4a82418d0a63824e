"""Issue 21, ninth session: zero-shot, do the LM statistics pick the right side of a call pair more often
without the rendering's tag tokens? The offline 0.5B (called tools, bfloat16, two threads) reads both sides
of the first N call pairs (irrelevance left out) of the dev draw ``--split dev --seed 7``; each statistic
(sum, mean, min of the proposal tokens' log-probabilities) picks the side where it is higher, counted over
all tokens and over the tokens that are not the tokenizer's added tokens (``<tool_call>``, ``</tool_call>``,
``<|im_end|>``). Dev data: this chose to try ``lm_tags=skip`` (s12/content.sh).

It also writes out, token by token, the log-probabilities of one right call, ``get_weather(city="Paris",
unit="celsius")`` in ``enum_example.py``'s context (``example`` in the report).

Usage: ``python train/results/s12/tags_probe.py N OUT_JSON`` (80 pairs: about 2.5 minutes on two cores).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from eval.options import load_all_results
from eval.pairs import build_pairs, sample_pairs
from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.judges.trained.lm_scoring import LMScorer
from toolrm_agent.models import resolve_model
from train.results.s12.enum_example import PROPOSALS, weather_context


def token_logprobs(scorer: LMScorer, context: JudgeContext, proposal: Proposal) -> list[tuple[int, float]]:
    """Each proposal token and its log-probability after the prefix (one full pass)."""
    model, _ = scorer._load()
    prefix, suffix = scorer.prefix_ids(context, proposal), scorer.suffix_ids(proposal)
    with torch.no_grad():
        logits = model(torch.tensor([prefix + suffix]), logits_to_keep=len(suffix) + 1).logits
    lp = logits[0].float().log_softmax(-1)
    return [(t, float(lp[i, t])) for i, t in enumerate(suffix)]


def main(n: int, out: Path) -> None:
    pairs, _ = build_pairs(load_all_results([Path("../shared/data/bfcl-results")], "dev"), seed=7)
    calls = [p for p in sample_pairs(pairs, 400, 7) if "irrelevance" not in p.category][:n]
    scorer = LMScorer(resolve_model("default"), tools="called", threads=2)
    _, tok = scorer._load()
    tags = {int(i) for i in tok.added_tokens_decoder}

    def statistics(context: JudgeContext, proposal: Proposal) -> dict[str, float]:
        read = token_logprobs(scorer, context, proposal)
        every = [v for _, v in read]
        text = [v for t, v in read if t not in tags] or every
        return {"all_sum": sum(every), "all_mean": sum(every) / len(every), "all_min": min(every),
                "text_sum": sum(text), "text_mean": sum(text) / len(text), "text_min": min(text)}

    right = dict.fromkeys(("all_sum", "all_mean", "all_min", "text_sum", "text_mean", "text_min"), 0)
    for p in calls:
        good, bad = statistics(p.context, p.chosen), statistics(p.context, p.rejected)
        for k in right:
            right[k] += good[k] > bad[k]
    example = [[tok.decode([t]), round(v, 2)]
               for t, v in token_logprobs(scorer, weather_context(), PROPOSALS["right"])]
    report = {"pairs": len(calls), "accuracy": {k: round(v / len(calls), 3) for k, v in right.items()},
              "example": example,
              "command": f"python train/results/s12/tags_probe.py {n} {out}"}
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(report)


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
