"""Issue 21, ninth session: the LM reader with and without the reuse of a kept prefix's KV cache, both cores,
nothing else running. Two measurements on the 20 seeded dev contexts of s9/cost.sh (the first a warm-up):

* **unrelated questions**, as ``toolrm eval cost`` sees them: each context's two proposals, one context after
  the other, alternating a reader without the reuse and one with it, twice. It reports ms per context, the
  prefix tokens each pass ran, the start every tool-listing prefix shares (Qwen's system turn and tool
  preamble), and the largest difference between the two readers' readings of any proposal;
* **the next step of the same conversation**, on the contexts whose right answer calls a tool: step 2 is the
  context continued by the right answer's calls, a tool result for each and a new user message, judged on
  the same two proposals. With the reuse the reader has read step 1 first (step 2's prefix extends it);
  without it the reader keeps nothing. It reports ms per step-2 context and the prefix tokens run.

Usage: ``python train/results/s12/reuse_check.py OUT_JSON``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import toolrm_agent.judges.trained.lm_scoring as lm_scoring
from eval.options import load_all_results
from eval.pairs import Pair, build_pairs, sample_pairs
from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.models import resolve_model


def reader(reuse: bool) -> lm_scoring.LMScorer:
    lm_scoring.MIN_SHARED_TOKENS = 8 if reuse else 10**9  # the module constant the reader reads at call time
    return lm_scoring.LMScorer(resolve_model("default"), tools="called", threads=2, recent_readings=0)


def timed(scorer: lm_scoring.LMScorer, context: JudgeContext,
          proposals: list[Proposal]) -> tuple[float, int, list[lm_scoring.LMReading]]:
    """(seconds, prefix tokens run, readings) of ``scorer.read(context, proposals)``; a prefix pass keeps only
    its last position's logits."""
    model, _ = scorer._load()
    real = model.forward
    ran: list[int] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("logits_to_keep") == 1:
            ran.append(int(kwargs["input_ids"].shape[1]))
        return real(*args, **kwargs)

    model.forward = spy
    try:
        start = time.perf_counter()
        result = scorer.read(context, proposals)
        return time.perf_counter() - start, sum(ran), result
    finally:
        model.forward = real


def next_step(context: JudgeContext, calls: tuple[ToolCall, ...]) -> JudgeContext:
    """``context`` continued by an assistant turn with ``calls``, a tool result per call and a user turn."""
    results = [Turn(role="tool", content='{"status": "ok"}', tool_call_id=c.id) for c in calls]
    return context.override(turns=(*context.turns, Turn(role="assistant", tool_calls=calls), *results,
                                   Turn(role="user", content="Thanks. Do the same for the next one, please.")))


def unrelated(pairs: list[Pair]) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    readings: dict[bool, list[Any]] = {}
    for reuse in (False, True, False, True):
        scorer = reader(reuse)
        scorer.read(pairs[0].context, [pairs[0].chosen])  # the warm-up
        seconds = tokens = 0.0
        readings[reuse] = []
        for p in pairs[1:]:
            s, n, got = timed(scorer, p.context, [p.chosen, p.rejected])
            seconds, tokens = seconds + s, tokens + n
            readings[reuse].append(got)
        runs.append({"reuse": reuse, "ms_per_context": round(1000 * seconds / (len(pairs) - 1)),
                     "prefix_tokens_run": int(tokens)})
    diff = max(abs(getattr(a, f) - getattr(b, f)) for ra, rb in zip(readings[True], readings[False], strict=True)
               for a, b in zip(ra, rb, strict=True) for f in ("mean_logprob", "min_logprob", "sum_logprob"))
    scorer = reader(True)
    listing = [scorer.prefix_ids(p.context, q) for p in pairs[1:] for q in (p.chosen, p.rejected)
               if scorer.tool_names(p.context, q)]  # a call to no offered tool lists none
    head = min(lm_scoring.shared_length(listing[0], ids) for ids in listing[1:])
    return {"contexts": len(pairs) - 1, "runs": runs, "max_abs_difference": diff,
            "tokens_every_tool_listing_prefix_shares": head}


def next_steps(pairs: list[Pair]) -> dict[str, Any]:
    calling = [p for p in pairs if p.chosen.calls]
    out: dict[str, Any] = {"contexts": len(calling) - 1}
    for reuse in (True, False):
        scorer = reader(reuse)
        seconds: list[float] = []
        tokens: list[int] = []
        for i, p in enumerate(calling):
            proposals = [p.chosen, p.rejected]
            if reuse:
                scorer.read(p.context, proposals)  # step 1: its prefix is kept
            later = next_step(p.context, p.chosen.calls)
            s, n, _ = timed(scorer, later, proposals)
            if i:  # the first is the warm-up
                seconds.append(s)
                tokens.append(n)
        out["reuse" if reuse else "none"] = {
            "ms_per_context": round(1000 * statistics.fmean(seconds)),
            "ms_median": round(1000 * statistics.median(seconds)),
            "prefix_tokens_run_per_context": round(statistics.fmean(tokens), 1)}
    return out


def main(out: Path) -> None:
    pairs, _ = build_pairs(load_all_results([Path("../shared/data/bfcl-results")], "dev"), seed=11)
    pairs = sample_pairs(pairs, 20, 11)
    report = {"unrelated": unrelated(pairs), "next_step": next_steps(pairs),
              "command": f"python train/results/s12/reuse_check.py {out}"}
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
