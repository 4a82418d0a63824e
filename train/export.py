"""Stage 5 of ``toolrm data build``: the balanced pairs as GenRM and Disc parquet files.

Both files carry the ToolPref-Pairwise-30K columns: ``id``, ``task_source`` (the
dataset), ``task_complexity``, ``chat_history`` (the conversation as ``{"role",
"content"}`` messages, tools in the system message), ``chosen_response`` /
``reject_response`` (``Proposal.render()``), ``chosen_response_from`` /
``reject_response_from`` (the candidate's origin), ``rewards`` ([chosen, rejected]
rule-based scores), ``reward_difference``, ``chosen_reward_message`` /
``reject_reward_message`` (the scorer's first error) and ``intensity``.

* ``disc.parquet`` adds ``chosen`` and ``rejected``: the full message lists a reward
  model scores (:func:`toolrm_agent.judges.trained.discriminative.reward_messages`), the
  conversational preference format trl's ``RewardTrainer`` reads.
* ``genrm.parquet`` has two rows per pair, one per order, and adds ``prompt`` (the
  runtime's own pairwise judge prompt, :func:`toolrm_agent.judges.generative.templates.pairwise_messages`),
  ``reward_model`` (``{"ground_truth": "1" | "2", "style": "rule"}``: the position of
  the chosen answer), ``data_source``, ``ability`` and ``extra_info``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from toolrm_agent.core.calls import Proposal
from train.balance import intensity
from train.pairs import TrainPair
from train.records import TrainRecord

DATA_SOURCE = "toolrm_pref_pairwise"


def _messages(lc_messages: Sequence[Any]) -> list[dict[str, str]]:
    role = {"system": "system", "human": "user", "ai": "assistant"}
    return [{"role": role.get(m.type, "user"), "content": str(m.content)} for m in lc_messages]


def common_row(pair: TrainPair, record: TrainRecord) -> dict[str, Any]:
    from toolrm_agent.judges.trained.discriminative import reward_messages

    context = record.context()
    return {
        "id": pair.id,
        "record_id": pair.record_id,
        "task_source": pair.source,
        "task_complexity": pair.complexity,
        "chat_history": reward_messages(context, Proposal())[:-1],
        "chosen_response": pair.chosen.proposal.render(),
        "reject_response": pair.rejected.proposal.render(),
        "chosen_response_from": pair.chosen.origin,
        "reject_response_from": pair.rejected.origin,
        "rewards": [pair.chosen.score, pair.rejected.score],
        "reward_difference": pair.gap,
        "chosen_reward_message": pair.chosen.message,
        "reject_reward_message": pair.rejected.message,
        "intensity": intensity(pair.gap),
    }


def disc_rows(pairs: Sequence[TrainPair], records: Mapping[str, TrainRecord]) -> list[dict[str, Any]]:
    from toolrm_agent.judges.trained.discriminative import reward_messages

    rows = []
    for pair in pairs:
        record = records[pair.record_id]
        context = record.context()
        rows.append(
            {
                **common_row(pair, record),
                "chosen": reward_messages(context, pair.chosen.proposal),
                "rejected": reward_messages(context, pair.rejected.proposal),
            }
        )
    return rows


def genrm_rows(pairs: Sequence[TrainPair], records: Mapping[str, TrainRecord]) -> list[dict[str, Any]]:
    from toolrm_agent.judges.generative.templates import pairwise_messages

    rows = []
    for index, pair in enumerate(pairs):
        record = records[pair.record_id]
        context = record.context()
        base = common_row(pair, record)
        orders = ((pair.chosen.proposal, pair.rejected.proposal, "1"),
                  (pair.rejected.proposal, pair.chosen.proposal, "2"))
        for first, second, label in orders:
            rows.append(
                {
                    **base,
                    "prompt": _messages(pairwise_messages(context, first, second)),
                    "reward_model": {"ground_truth": label, "style": "rule"},
                    "data_source": DATA_SOURCE,
                    "ability": "tool",
                    "extra_info": {"index": index, "pair_id": pair.id, "chosen_position": label},
                }
            )
    return rows


def export(
    pairs: Sequence[TrainPair], records: Mapping[str, TrainRecord], out_dir: Path
) -> dict[str, Path]:
    """Write ``disc.parquet`` and ``genrm.parquet`` under ``out_dir``; their paths."""
    from datasets import Dataset

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"disc": out_dir / "disc.parquet", "genrm": out_dir / "genrm.parquet"}
    for name, rows in (("disc", disc_rows(pairs, records)), ("genrm", genrm_rows(pairs, records))):
        tmp = paths[name].with_suffix(".parquet.tmp")
        Dataset.from_list(rows).to_parquet(str(tmp))
        tmp.replace(paths[name])
    return paths


__all__ = ["DATA_SOURCE", "common_row", "disc_rows", "export", "genrm_rows"]
