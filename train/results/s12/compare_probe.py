"""Issue 21, ninth session (dev only): would ``compare`` gain by putting a proposal the critic accepts before
one it rejects, as ``rank`` does, before the scores? Since the schema veto, a decisive finding can reject the
proposal with the higher score. For each pair of a dev set it reads both sides once (``verdicts_many``) and
counts the right picks by score alone (TRBench's rule; a tie is wrong) and by (accepted, score).

Usage: ``python train/results/s12/compare_probe.py RESULTS SPLIT LIMIT JUDGE`` (LIMIT 0: every pair), e.g.
``… ../shared/data/bfcl-results dev 150 "disc:grounded?cache_dir=out/g/cache-dev&suggest=false"`` and
``… out/dev-live all 0 "disc:grounded?cache_dir=out/g/cache-devlive&suggest=false"``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from eval.options import load_all_results
from eval.pairs import build_pairs, sample_pairs
from toolrm_agent.core.verdicts import Critique
from toolrm_agent.judges.base import BatchJudge
from toolrm_agent.judges.loader import load_judge


def main(results: str, split: str, limit: int, spec: str) -> None:
    pairs, _ = build_pairs(load_all_results([Path(results)], split), seed=7)
    if limit:
        pairs = sample_pairs(pairs, limit, 7)
    judge = load_judge(spec)
    if not isinstance(judge, BatchJudge):
        raise SystemExit(f"{spec} is not a batch judge")

    def key(c: Critique) -> tuple[bool, float]:
        return c.accepted, c.score

    by_score = by_verdict = 0
    for p in pairs:
        a, b = judge.verdicts_many(p.context, [p.chosen, p.rejected])
        by_score += a.score > b.score
        by_verdict += key(a) > key(b)
    print(f"{spec}: {len(pairs)} pairs; right by score {by_score / len(pairs):.3f}, "
          f"by (accepted, score) {by_verdict / len(pairs):.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
