"""Issue 21, ninth session: what the LM reader costs on the next step of the same conversation, with and
without the reuse of the kept prefix. For each of the 20 seeded dev contexts of s9/cost.sh (the first a
warm-up), step 1 is the pair's context and its two proposals; step 2 is that context continued by the first
proposal's calls, a tool result for each, and a new user message, judged on the same two proposals. The
reader reads step 1, then step 2 is timed: with the reuse (step 2's prefix extends step 1's, so only its new
turns run) and without it (a reader that keeps nothing, as `toolrm eval cost` sees every context). Both
cores, nothing else running. It reports ms per step-2 context and the tokens each prefix pass ran.

Usage: ``python train/results/s12/next_step_cost.py OUT_JSON``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import toolrm_agent.judges.trained.lm_scoring as lm_scoring
from eval.options import load_all_results
from eval.pairs import build_pairs, sample_pairs
from toolrm_agent.core.calls import ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.models import resolve_model


def next_step(context: JudgeContext, calls: tuple[ToolCall, ...]) -> JudgeContext:
    """``context`` continued by an assistant turn with ``calls``, a tool result per call and a user turn."""
    results = [Turn(role="tool", content='{"status": "ok"}', tool_call_id=c.id) for c in calls]
    return context.override(turns=(*context.turns, Turn(role="assistant", tool_calls=calls), *results,
                                   Turn(role="user", content="Thanks. Do the same for the next one, please.")))


def main(out: Path) -> None:
    pairs, _ = build_pairs(load_all_results([Path("../shared/data/bfcl-results")], "dev"), seed=11)
    pairs = [p for p in sample_pairs(pairs, 20, 11) if p.chosen.calls]
    report: dict[str, object] = {"contexts": len(pairs) - 1,
                                 "command": f"python train/results/s12/next_step_cost.py {out}"}
    for mode in ("reuse", "none"):
        lm_scoring.MIN_SHARED_TOKENS = 8 if mode == "reuse" else 10**9  # the module constant the reader reads
        scorer = lm_scoring.LMScorer(resolve_model("default"), tools="called", threads=2, recent_readings=0)
        seconds: list[float] = []
        ran: list[int] = []
        for i, p in enumerate(pairs):
            proposals = [p.chosen, p.rejected]
            later = next_step(p.context, p.chosen.calls)
            if mode == "reuse":
                scorer.read(p.context, proposals)  # step 1: its prefix is kept
            else:
                scorer._prefixes.clear()
            model, _ = scorer._load()
            real = model.forward
            lengths: list[int] = []

            def spy(*args: object, _real: object = real, _lengths: list[int] = lengths, **kwargs: object) -> object:
                if kwargs.get("logits_to_keep") == 1:
                    _lengths.append(int(kwargs["input_ids"].shape[1]))  # type: ignore[attr-defined]
                return _real(*args, **kwargs)  # type: ignore[operator]

            model.forward = spy
            start = time.perf_counter()
            scorer.read(later, proposals)
            elapsed = time.perf_counter() - start
            model.forward = real
            if i:  # the first context is the warm-up
                seconds.append(elapsed)
                ran.append(sum(lengths))
        report[mode] = {"ms_per_context": round(1000 * statistics.fmean(seconds)),
                        "ms_median": round(1000 * statistics.median(seconds)),
                        "prefix_tokens_run_per_context": round(statistics.fmean(ran), 1)}
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
