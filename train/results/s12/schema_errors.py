"""Issue 21, ninth session: how often the schema judge finds a decisive error (features.DECISIVE_SCHEMA_CODES:
an unknown function, a missing required or unexpected argument, a wrong type, a value outside the enum,
unparseable arguments) in BFCL's ground truths and in the wrong answers of the pairs, and which ground truths
repeat a call exactly (not decisive), on the dev half
(``--split dev``) and on the live dev set (``out/dev-live``, after s10/record_live.sh). Dev data only: it
checks that the veto rejects wrong answers, not right ones.

Usage: ``python train/results/s12/schema_errors.py OUT_JSON``.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from eval.options import load_all_results
from eval.pairs import build_pairs
from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.verdicts import IssueCode
from toolrm_agent.judges.features import DECISIVE_SCHEMA_CODES
from toolrm_agent.judges.schema import SchemaJudge


def count(results: str, split: str) -> dict[str, object]:
    pairs, _ = build_pairs(load_all_results([Path(results)], split), seed=7)
    judge = SchemaJudge()

    def codes(context: JudgeContext, proposal: Proposal) -> set[str]:
        critique = judge.critique(context, proposal)
        return {i.code.value for v in critique.calls for i in v.issues
                if i.code in DECISIVE_SCHEMA_CODES and i.severity == "error"}

    def repeats(context: JudgeContext, proposal: Proposal) -> bool:
        critique = judge.critique(context, proposal)
        return any(i.code is IssueCode.DUPLICATE_CALL for v in critique.calls for i in v.issues)

    truths: dict[tuple[str, str], set[str]] = {}
    repeated: set[tuple[str, str]] = set()
    wrong: list[set[str]] = []
    for p in pairs:
        key = (p.question_id, p.chosen.render())
        if key not in truths:
            truths[key] = codes(p.context, p.chosen)
            if repeats(p.context, p.chosen):
                repeated.add(key)
        wrong.append(codes(p.context, p.rejected))
    return {
        "ground_truths": len(truths), "ground_truths_with_an_error": sum(bool(c) for c in truths.values()),
        "ground_truth_ids": sorted(q for (q, _), c in truths.items() if c),
        "ground_truths_that_repeat_a_call": sorted(q for q, _ in repeated),
        "wrong_answers": len(wrong), "wrong_answers_with_an_error": sum(bool(c) for c in wrong),
        "wrong_answer_codes": dict(Counter(code for c in wrong for code in c)),
    }


def main(out: Path) -> None:
    report = {"dev": count("../shared/data/bfcl-results", "dev"), "dev_live": count("out/dev-live", "all"),
              "command": f"python train/results/s12/schema_errors.py {out}"}
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
