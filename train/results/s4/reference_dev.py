"""Issue 21, option "an independent reference", measured on dev (not shipped).

For each of the 150 seeded dev pairs (`toolrm eval trbench --split dev --limit 150 --seed 7`),
the offline 1.5B (`llamacpp:qwen1.5b`, greedy) answers the request once per question, as the
agent of `toolrm eval selfcorrect` would (our system prompt, stub tools); each side of the pair
is compared with that answer argument by argument (`toolrm_agent.core.agreement.proposal_agreement`).
The pair is right when the ground truth agrees more (a tie is wrong), and, combined, when
`disc:grounded`'s score + W x agreement is higher for the ground truth (W swept here: a dev
figure, chosen and read on the same pairs).

    python train/results/s4/reference_dev.py OUT.json [--policy llamacpp:qwen1.5b]

Resumable: the reference answers are cached in OUT.json's folder (references-<policy>.json).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def main() -> None:
    out = Path(sys.argv[1])
    policy = sys.argv[sys.argv.index("--policy") + 1] if "--policy" in sys.argv else "llamacpp:qwen1.5b"
    from eval.bfcl.questions import load_questions
    from eval.options import judge_from_option, load_all_results
    from eval.pairs import build_pairs, sample_pairs
    from eval.tasks.runner import AgentTask
    from toolrm_agent.core.agreement import proposal_agreement
    from toolrm_agent.core.calls import Proposal
    from toolrm_agent.core.parsing import proposal_from_message
    from toolrm_agent.models.policy import load_chat_model

    loaded = load_all_results([Path("../shared/data/bfcl-results")], "dev")
    pairs, _ = build_pairs(loaded, seed=7)  # the defaults of `toolrm eval trbench`
    pairs = sample_pairs(pairs, 150, 7)
    cache = out.parent / f"references-{policy.replace(':', '_')}.json"
    refs: dict[str, dict[str, Any]] = json.loads(cache.read_text()) if cache.exists() else {}
    model = load_chat_model(policy, max_new_tokens=256)
    start = time.perf_counter()
    for i, pair in enumerate(pairs):
        if pair.question_id in refs:
            continue
        question = load_questions(pair.category)[pair.question_id]
        task = AgentTask.from_question(question)
        box = task.toolbox()
        t0 = time.perf_counter()
        message = model.bind_tools(box.tools).invoke(list(task.messages))
        proposal = box.to_original_proposal(proposal_from_message(message))
        refs[pair.question_id] = {"proposal": proposal.model_dump(mode="json"),
                                  "seconds": round(time.perf_counter() - t0, 2)}
        cache.write_text(json.dumps(refs))
        print(f"[{i + 1}/{len(pairs)}] {pair.question_id} {time.perf_counter() - start:.0f}s", flush=True)
    judge = judge_from_option("disc:grounded?cache_dir=out/g/cache-dev&threads=1&suggest=false")
    rows: list[dict[str, Any]] = []
    for pair in pairs:
        ref = Proposal.model_validate(refs[pair.question_id]["proposal"])
        chosen, rejected = judge.critique(pair.context, pair.chosen), judge.critique(pair.context, pair.rejected)
        rows.append({"category": pair.category, "error_type": pair.error_type,
                     "agree": (proposal_agreement(pair.chosen, ref), proposal_agreement(pair.rejected, ref)),
                     "score": (chosen.score, rejected.score)})
    weights = [0.0, 0.1, 0.2, 0.3, 0.5, 1.0]
    seconds = [r["seconds"] for r in refs.values()]
    report: dict[str, Any] = {"policy": policy, "pairs": len(rows), "reference_seconds": seconds}

    def accuracy(right: list[bool], cats: list[str]) -> dict[str, Any]:
        per: dict[str, list[bool]] = {}
        for ok, c in zip(right, cats, strict=True):
            per.setdefault(c, []).append(ok)
        calls = [ok for ok, c in zip(right, cats, strict=True) if c != "irrelevance"]
        return {"all": round(sum(right) / len(right), 3), "calls": round(sum(calls) / max(len(calls), 1), 3),
                **{c: round(sum(v) / len(v), 3) for c, v in sorted(per.items())}}

    cats = [r["category"] for r in rows]
    vs = [r["error_type"].startswith("value_error:string") for r in rows]
    report["reference_alone"] = accuracy([r["agree"][0] > r["agree"][1] for r in rows], cats)
    report["combined"] = {}
    for w in weights:
        right = [r["score"][0] + w * r["agree"][0] > r["score"][1] + w * r["agree"][1] for r in rows]
        string_right = sum(ok for ok, v in zip(right, vs, strict=True) if v)
        report["combined"][str(w)] = {**accuracy(right, cats), "value_error:string": f"{string_right}/{sum(vs)}"}
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "reference_seconds"}, indent=1))


if __name__ == "__main__":
    main()
