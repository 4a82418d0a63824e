"""TRBench-style preference pairs from recorded BFCL outputs: ground truth vs a failing answer.

The room between the BFCL data (:mod:`eval.bfcl`) and the commands that judge recorded
outputs: :func:`grade_outputs` grades every model's output per question (the pools
``toolrm eval bon`` draws its best-of-N candidates from), the pairs below are what
``toolrm eval trbench`` judges, and :func:`is_pairwise` says how a judge compares two
proposals (both commands judge that way).

For each BFCL question answered in the recorded results:

* **chosen** is BFCL's ground truth (:func:`eval.bfcl.questions.ground_truth_proposal`), kept only
  when BFCL's own checker accepts it (the question is skipped otherwise and counted in
  :attr:`RecordedPairStats.skipped_ground_truth`). For irrelevance categories the chosen answer
  is no call at all: an empty proposal with a short text reply (:data:`NO_CALL_REPLY`).
* **rejected** is a model's recorded output, decoded with :func:`eval.bfcl.decode.decode`,
  that the checker rejects; the pair carries the checker's ``error_type``, the BFCL
  category and the model. For irrelevance, a rejected output is one that calls something.
  Outputs are decoded *leniently* (``decode(..., lenient=True)``): the rejected side is
  what the model meant to call (a call list in a code fence, after a sentence of prose,
  or as JSON behind broken chat-template tokens), and the checker's verdict on that
  reading decides whether it fails. Irrelevance outputs are read strictly (a usage
  example in prose is not a call). An output that still yields no call but names an
  offered function the way a call does is an unparsed call attempt (left out below),
  so an empty rejected side on a question that needs a call is a model that answered
  in prose (asked for details, explained, declined).

Both sides are :class:`~toolrm_agent.core.calls.Proposal` objects with canonical calls only:
the model's free text is dropped from the rejected side, and ``Proposal.render()`` gives
both the same layout (sorted keys, one call per ``<tool_call>`` block, no ids, no prose),
so no formatting tells the two apart. Outputs that decode to an unparseable call are
left out by default (``include_unparsed=False``): their ``<tool_call_unparsed>`` rendering
would give the answer away by its look alone.

Sampling is deterministic: rejected outputs with the same rendering are merged (the
model credited is drawn from those who wrote it), and at most ``max_per_question``
renderings are drawn per question, with a random generator seeded by ``(seed,
question id)``, so one question's pairs do not depend on the others or on ``--limit``.

:func:`export_pairs` writes the pairs as parquet (``datasets``) in the column layout of
the public TRBench-BFCL data (see :func:`pair_rows` for the columns).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.jsonl import read_models
from toolrm_agent.core.pairs import PreferencePair
from toolrm_agent.judges.base import capabilities_of

if TYPE_CHECKING:
    from eval.bfcl.questions import BfclQuestion, CheckResult
    from eval.bfcl.results import ModelResults
    from toolrm_agent.judges.base import Judge

#: The chosen answer's text for irrelevance questions (it renders as "(no function call)").
NO_CALL_REPLY = "None of the offered functions can do this, so no function is called."

#: Error type of an irrelevance pair (BFCL's own label for "called when it should not").
IRRELEVANCE_ERROR = "irrelevance_error:decoder_success"

DEFAULT_MAX_PER_QUESTION = 3

#: Recorded "outputs" that are an API or harness error, not a model's answer (Gemini's
#: ``Internal error occurred.``, a rejected request, a blocked answer). They fail the
#: checker but say nothing about what the model would call: never a rejected side.
RECORDING_ERROR = re.compile(
    r"^\s*(?:Internal error occurred\.?\s*$|Invalid JSON payload received\.|Parsing error: \{)"
)


class Pair(PreferencePair[Proposal]):
    """One preference pair: the same context, a correct and an incorrect proposal.

    ``id`` is ``<question id>#<hash of the rejected rendering>``: stable across runs.
    """

    question_id: str
    category: str
    error_type: str
    """BFCL's error type for the rejected proposal (``simple_function_checker:wrong_count``)."""
    model: str
    """The model whose recorded output is the rejected proposal."""
    context: JudgeContext

    @classmethod
    def of_rejected(
        cls,
        question_id: str,
        rejected: Proposal,
        chosen: Proposal,
        context: JudgeContext,
        *,
        category: str,
        error_type: str | None,
        model: str,
    ) -> Pair:
        """The pair of ``question_id`` whose rejected side is ``rejected`` (its id from the
        rendering; no error type: ``unknown``)."""
        digest = hashlib.sha1(rejected.render().encode()).hexdigest()[:10]
        return cls(
            id=f"{question_id}#{digest}", question_id=question_id, category=category,
            error_type=error_type or "unknown", model=model, context=context, chosen=chosen, rejected=rejected,
        )


class GradedOutput(BaseModel):
    """One model's recorded answer to one question: decoded and checked."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    model: str
    proposal: Proposal
    valid: bool
    error_type: str | None = None


class RecordedPairStats(BaseModel):
    """What went into the pairs from recorded outputs and what was left out, for the report."""

    questions: int = 0
    """Questions with at least one recorded output."""
    questions_with_pairs: int = 0
    outputs: int = 0
    """Recorded outputs read."""
    failing_outputs: int = 0
    """Outputs the checker rejects (candidates for the rejected side)."""
    unparsed_skipped: int = 0
    """Failing outputs left out because they hold an unparseable call."""
    recording_errors_skipped: int = 0
    """Failing outputs left out because they are an API error, not an answer."""
    duplicate_renderings: int = 0
    """Failing outputs merged into an identical rendering of another model's output."""
    capped: int = 0
    """Distinct failing renderings left out by ``max_per_question``."""
    skipped_ground_truth: list[str] = Field(default_factory=list)
    """Questions whose ground truth does not pass the checker (no pairs built)."""
    skipped_categories: list[str] = Field(default_factory=list)
    """Categories in the results that pairs are not built for (multi-turn, unknown)."""
    pairs: int = 0


# --------------------------------------------------------------------------- grading

Graded = dict[str, dict[str, list[GradedOutput]]]
"""category → question id → the graded outputs of every model (sorted by model)."""


def pair_categories(
    found: Iterable[str], wanted: Sequence[str] | None = None
) -> tuple[list[str], list[str]]:
    """(categories to build, categories skipped): single-turn BFCL categories only."""
    from eval.bfcl.questions import CATEGORIES, MULTI_TURN_CATEGORIES

    found = set(found)
    supported = [c for c in CATEGORIES if c not in MULTI_TURN_CATEGORIES]
    if wanted:
        unknown = sorted(set(wanted) - set(supported))
        if unknown:
            raise ValueError(f"unsupported categories {unknown}; pairs are built for {supported}")
        use = [c for c in supported if c in wanted and c in found]
    else:
        use = [c for c in supported if c in found]
    return use, sorted(found - set(use))


def grade_outputs(
    results: Sequence[ModelResults],
    *,
    categories: Sequence[str] | None = None,
    lenient: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[Graded, list[str]]:
    """Decode and check every recorded output once; (graded outputs, skipped categories).

    ``lenient`` decodes what each model meant to call (``decode(..., lenient=True)``:
    code fences opened, calls found inside prose, unreadable call attempts marked as
    parse failures); the default reads outputs the way BFCL's leaderboard did.
    Irrelevance categories are always read strictly: there the question is whether the
    model made a call at all, and a prose answer that shows how a function *would* be
    used (``you can use it like this: f(a=1)``) is not one.
    ``progress`` is called with the number of outputs done after each question batch.
    """
    from eval.bfcl.decode import decode
    from eval.bfcl.questions import IRRELEVANCE_CATEGORIES, check, load_questions

    found = {e.category for r in results for e in r.entries.values()}
    use, skipped = pair_categories(found, categories)
    graded: Graded = {}
    for category in use:
        questions = load_questions(category)
        read_leniently = lenient and category not in IRRELEVANCE_CATEGORIES
        per_q: dict[str, list[GradedOutput]] = defaultdict(list)
        for res in sorted(results, key=lambda r: r.model):
            for entry in res.entries.values():
                if entry.category != category:
                    continue
                question = questions.get(entry.id)
                if question is None:
                    continue
                proposal = decode(
                    entry.raw,
                    model=res.model,
                    style=res.style,
                    functions=question.functions,
                    lenient=read_leniently,
                )
                result = check(question, proposal, category=category)
                per_q[entry.id].append(_graded(res.model, proposal, result))
                if progress is not None:
                    progress(1)
        graded[category] = dict(sorted(per_q.items(), key=lambda kv: _natural_key(kv[0])))
    return graded, skipped


def _graded(model: str, proposal: Proposal, result: CheckResult) -> GradedOutput:
    return GradedOutput(
        model=model, proposal=proposal, valid=result.valid, error_type=result.error_type
    )


def _natural_key(qid: str) -> tuple[Any, ...]:
    """``simple_python_10`` after ``simple_python_9``; live ids ``live_simple_3-2-0`` too."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", qid))


# ----------------------------------------------------------------------------- pairs


def chosen_proposal(question: BfclQuestion, answer: Any = None) -> Proposal:
    """The correct answer for a pair: the ground truth, or no call for irrelevance."""
    from eval.bfcl.questions import IRRELEVANCE_CATEGORIES, ground_truth_proposal

    if question.category in IRRELEVANCE_CATEGORIES:
        return Proposal(content=NO_CALL_REPLY)
    return ground_truth_proposal(question, answer)


def is_recording_error(proposal: Proposal) -> bool:
    """Is this recorded output an API/harness error rather than an answer?"""
    return proposal.is_empty and bool(RECORDING_ERROR.match(proposal.content or ""))


def candidate_key(proposal: Proposal) -> str:
    """What a judge sees of a candidate: its canonical calls, or its text when it has none."""
    if proposal.is_empty:
        return f"(no function call)\n{proposal.content.strip()}"
    return proposal.render()


def limit_questions(graded: Graded, limit: int | None, seed: int) -> Graded:
    """At most ``limit`` questions in all (a seeded draw), in their original order."""
    if limit is None:
        return graded
    ids = [(c, q) for c, per_q in graded.items() for q in per_q]
    if limit >= len(ids):
        return graded
    keep = set(random.Random(f"{seed}|limit").sample(ids, limit))
    return {
        c: {q: outs for q, outs in per_q.items() if (c, q) in keep} for c, per_q in graded.items()
    }


def rejected_candidate(output: GradedOutput, *, include_unparsed: bool = False) -> Proposal | None:
    """The proposal an output contributes to the rejected side, or None.

    Only failing outputs count; their free text is dropped (only calls are compared);
    an output holding an unparseable call is skipped unless ``include_unparsed``, and a
    recorded API error (:data:`RECORDING_ERROR`) always is.
    """
    if output.valid or is_recording_error(output.proposal):
        return None
    if output.proposal.failures and not include_unparsed:
        return None
    return output.proposal.override(content="")


def pairs_for_question(
    question: BfclQuestion,
    chosen: Proposal,
    outputs: Sequence[GradedOutput],
    *,
    max_per_question: int = DEFAULT_MAX_PER_QUESTION,
    seed: int = 0,
    include_unparsed: bool = False,
    stats: RecordedPairStats | None = None,
) -> list[Pair]:
    """The pairs of one question (see the module docstring for the sampling rules)."""
    stats = stats if stats is not None else RecordedPairStats()
    chosen_text = chosen.render()
    groups: dict[str, list[tuple[GradedOutput, Proposal]]] = defaultdict(list)
    for out in outputs:
        if out.valid:
            continue
        stats.failing_outputs += 1
        if is_recording_error(out.proposal):
            stats.recording_errors_skipped += 1
            continue
        proposal = rejected_candidate(out, include_unparsed=include_unparsed)
        if proposal is None:
            stats.unparsed_skipped += 1
            continue
        text = proposal.render()
        if text == chosen_text:  # means the same as the ground truth: no signal
            continue
        if groups[text]:
            stats.duplicate_renderings += 1
        groups[text].append((out, proposal))
    rng = random.Random(f"{seed}|{question.id}")
    renderings = sorted(groups)
    rng.shuffle(renderings)
    if len(renderings) > max_per_question:
        stats.capped += len(renderings) - max_per_question
        renderings = renderings[:max_per_question]
    context = question.context()
    pairs: list[Pair] = []
    for text in renderings:
        members = sorted(groups[text], key=lambda m: m[0].model)
        out, proposal = members[rng.randrange(len(members))]
        pairs.append(
            Pair.of_rejected(
                question.id, proposal, chosen, context,
                category=question.category, error_type=out.error_type, model=out.model,
            )
        )
    return sorted(pairs, key=lambda p: p.id)


def pairs_from_graded(
    graded: Graded,
    *,
    max_per_question: int = DEFAULT_MAX_PER_QUESTION,
    seed: int = 0,
    include_unparsed: bool = False,
    stats: RecordedPairStats | None = None,
) -> list[Pair]:
    """All pairs of the graded outputs, in category then question order."""
    from eval.bfcl.questions import check, load_answers, load_questions

    if max_per_question < 1:
        raise ValueError(f"max_per_question must be >= 1, got {max_per_question}")
    stats = stats if stats is not None else RecordedPairStats()
    pairs: list[Pair] = []
    for category, per_q in graded.items():
        questions = load_questions(category)
        answers = load_answers(category)
        for qid, outputs in per_q.items():
            question = questions[qid]
            stats.questions += 1
            stats.outputs += len(outputs)
            chosen = chosen_proposal(question, answers.get(qid))
            if not check(question, chosen, category=category).valid:
                stats.skipped_ground_truth.append(qid)
                continue
            found = pairs_for_question(
                question,
                chosen,
                outputs,
                max_per_question=max_per_question,
                seed=seed,
                include_unparsed=include_unparsed,
                stats=stats,
            )
            stats.questions_with_pairs += bool(found)
            pairs.extend(found)
    stats.pairs = len(pairs)
    return pairs


def build_pairs(
    results: Sequence[ModelResults],
    *,
    categories: Sequence[str] | None = None,
    max_per_question: int = DEFAULT_MAX_PER_QUESTION,
    seed: int = 0,
    include_unparsed: bool = False,
    lenient: bool = True,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Pair], RecordedPairStats]:
    """Grade the recorded outputs and build the pairs; (pairs, stats). ``progress`` is
    called as outputs are graded (see :func:`grade_outputs`).

    Outputs are decoded leniently by default (see :func:`grade_outputs`): a rejected
    side is what the model meant to call, and the checker's verdict on that reading
    decides whether it fails. ``lenient=False`` uses the leaderboard's strict reading.
    """
    graded, skipped = grade_outputs(results, categories=categories, lenient=lenient, progress=progress)
    stats = RecordedPairStats(skipped_categories=skipped)
    pairs = pairs_from_graded(
        graded,
        max_per_question=max_per_question,
        seed=seed,
        include_unparsed=include_unparsed,
        stats=stats,
    )
    return pairs, stats


def sample_pairs(pairs: Sequence[Pair], limit: int | None, seed: int = 0) -> list[Pair]:
    """At most ``limit`` pairs, drawn with ``seed``, kept in their original order."""
    if limit is None or limit >= len(pairs):
        return list(pairs)
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    keep = set(random.Random(f"{seed}|limit").sample(range(len(pairs)), limit))
    return [p for i, p in enumerate(pairs) if i in keep]


# ---------------------------------------------------------------------------- export

#: Columns of the exported parquet, after the public TRBench-BFCL data.
PAIR_COLUMNS: tuple[str, ...] = (
    "uuid",
    "raw_id",
    "task_source",
    "error_type",
    "chat_history",
    "chosen_response",
    "reject_response",
    "chosen_response_from",
    "reject_response_from",
    "data_source",
    "prompt",
    "ability",
    "reward_model",
    "extra_info",
)

DATA_SOURCE = "toolrm_trbench_bfcl"


def _judge_prompt(pair: Pair) -> list[dict[str, str]]:
    """Our own pairwise judge prompt, chosen as Response 1 (``reward_model.ground_truth``)."""
    from toolrm_agent.judges.generative.templates import pairwise_messages

    role = {"system": "system", "human": "user"}
    return [
        {"role": role.get(m.type, "user"), "content": str(m.content)}
        for m in pairwise_messages(pair.context, pair.chosen, pair.rejected)
    ]


def pair_rows(pairs: Sequence[Pair], *, split: str = "test") -> list[dict[str, Any]]:
    """The pairs as rows in the TRBench-BFCL column layout.

    ``chat_history``: the conversation as ``{"role", "content"}`` messages, the tools in
    the system message (the same text a reward model reads, see
    :func:`~toolrm_agent.judges.trained.discriminative.reward_messages`); ``chosen_response`` /
    ``reject_response``: ``Proposal.render()`` of each side; ``task_source``: the BFCL
    category; ``prompt``: our pairwise judge prompt with the chosen side as Response 1;
    ``reward_model``: ``{"ground_truth": "1", "style": "rule"}``; ``extra_info``: the pair
    id, question id, category, split, index and the rewards (1 chosen, 0 rejected) with
    their messages (``"ground truth"`` / the error type).
    """
    from toolrm_agent.judges.trained.discriminative import reward_messages

    rows: list[dict[str, Any]] = []
    for index, pair in enumerate(pairs):
        history = reward_messages(pair.context, Proposal())[:-1]
        rows.append(
            {
                "uuid": index,
                "raw_id": pair.question_id,
                "task_source": pair.category,
                "error_type": pair.error_type,
                "chat_history": history,
                "chosen_response": pair.chosen.render(),
                "reject_response": pair.rejected.render(),
                "chosen_response_from": "ground truth",
                "reject_response_from": pair.model,
                "data_source": DATA_SOURCE,
                "prompt": _judge_prompt(pair),
                "ability": "tool",
                "reward_model": {"ground_truth": "1", "style": "rule"},
                "extra_info": {
                    "pair_id": pair.id,
                    "raw_id": pair.question_id,
                    "task_source": pair.category,
                    "split": split,
                    "index": index,
                    "chosen_response_reward": 1,
                    "chosen_response_reward_message": "ground truth",
                    "reject_response_reward": 0,
                    "reject_response_reward_message": pair.error_type,
                    "tools": json.dumps([t.to_openai() for t in pair.context.tools]),
                },
            }
        )
    return rows


def export_pairs(pairs: Sequence[Pair], out_dir: Path, *, name: str = "trbench_pairs") -> Path:
    """Write the pairs to ``out_dir/<name>.parquet`` (and a JSONL twin for reading)."""
    from datasets import Dataset

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = pair_rows(pairs)
    path = out_dir / f"{name}.parquet"
    Dataset.from_list(rows).to_parquet(str(path))
    with (out_dir / f"{name}.pairs.jsonl").open("w", encoding="utf-8") as fh:
        for pair in pairs:
            fh.write(pair.model_dump_json() + "\n")
    return path


def load_pairs(path: Path) -> list[Pair]:
    """Pairs back from the JSONL twin :func:`export_pairs` writes."""
    return list(read_models(path, Pair))


def count_by(pairs: Iterable[Pair], key: Callable[[Pair], str]) -> Mapping[str, int]:
    """How many pairs per ``key`` (category, error type, model)."""
    counts: dict[str, int] = defaultdict(int)
    for pair in pairs:
        counts[key(pair)] += 1
    return dict(sorted(counts.items()))


__all__ = [
    "DEFAULT_MAX_PER_QUESTION",
    "IRRELEVANCE_ERROR",
    "NO_CALL_REPLY",
    "PAIR_COLUMNS",
    "RECORDING_ERROR",
    "GradedOutput",
    "Pair",
    "RecordedPairStats",
    "build_pairs",
    "candidate_key",
    "chosen_proposal",
    "count_by",
    "export_pairs",
    "limit_questions",
    "grade_outputs",
    "is_recording_error",
    "load_pairs",
    "pair_rows",
    "pairs_for_question",
    "pairs_from_graded",
    "rejected_candidate",
    "sample_pairs",
]


# ------------------------------------------------------------------- how a judge compares


def is_pairwise(judge: Judge) -> bool:
    """Does the judge compare two proposals itself (else it scores them one by one)?

    What the judge declares in ``capabilities.pairwise`` (a generative judge with
    ``rank_strategy="pointwise"``, e.g. the spec ``gen:default?rank_strategy=pointwise``,
    declares itself pointwise); a judge that declares nothing is taken as pairwise
    (:func:`~toolrm_agent.judges.base.capabilities_of`). TRBench judges its pairs and
    best-of-N ranks its pools the way this says.
    """
    return capabilities_of(judge).pairwise
