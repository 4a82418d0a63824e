"""Records made from records: what the sources lack and BFCL asks for.

The trajectory datasets have few requests where nothing fits and few that need the same
function called several times; BFCL has many of both. Two constructions, each the way
BFCL (or HammerBench) builds its own questions:

* :func:`irrelevance_variant` — the same request with the functions it needs removed:
  **near** (the record's other, same-domain tools stay) or **far** (the tools are replaced
  by one to three functions of other records, as BFCL's irrelevance questions offer
  functions from elsewhere). The right answer is no call.
* :func:`compose` — two single-turn requests joined into one ("... Also, ..."): the tools
  of both are offered and the right answer is the calls of both. Partners that call the
  same function make **parallel** requests, others **parallel_multiple** ones; dropping a
  call then leaves part of the request unanswered, which is BFCL's most common mistake.
* :func:`respin` — a single-call request whose values the user wrote verbatim, with those
  values swapped for others of the same kind (another string value of the pool, another
  number); composed with the original it makes a **parallel** request ("the weather in
  Paris ... Also, the weather in Lisbon ..."), the shape the sources almost never have.

:func:`augment` applies them to seeded shares of the records; every made record's id
names its construction (``#irrelevant-near``, ``#irrelevant-far``, ``#and:<other id>``)
and its subset gets the same suffix, so the balancing sees it as its own cell.
"""

from __future__ import annotations

import copy
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from train.records import TrainRecord

CONNECTORS = ("Also, ", "And then ", "Additionally, ", "After that, ", "Next, ")


def _name(tool: dict[str, Any]) -> str:
    return str(tool.get("function", tool).get("name"))


def irrelevance_variant(
    record: TrainRecord, *, far_tools: Sequence[dict[str, Any]] | None = None
) -> TrainRecord | None:
    """The request with its functions removed (near), or replaced by ``far_tools`` (far)."""
    if record.no_call:
        return None
    needed = {c.name for c in record.calls}
    if far_tools is not None:
        tools = [copy.deepcopy(t) for t in far_tools if _name(t) not in needed]
        kind = "irrelevant-far"
    else:
        tools = [copy.deepcopy(t) for t in record.tools if _name(t) not in needed]
        kind = "irrelevant-near"
    if not tools:
        return None
    return record.model_copy(
        update={
            "id": f"{record.id}#{kind}",
            "subset": f"{record.subset}+{kind}",
            "tools": tools,
            "calls": [],
            "no_call": True,
        }
    )


def _single_turn(record: TrainRecord) -> bool:
    return not record.no_call and all(m.get("role") in ("system", "user") for m in record.messages) \
        and sum(m.get("role") == "user" for m in record.messages) == 1


def compose(a: TrainRecord, b: TrainRecord, connector: str) -> TrainRecord | None:
    """``a``'s request, then ``b``'s; both records' tools and calls (None if they clash)."""
    if not (_single_turn(a) and _single_turn(b)):
        return None
    tools = {_name(t): t for t in a.tools}
    for t in b.tools:
        if _name(t) in tools and tools[_name(t)] != t:
            return None  # same name, different schema: not one tool set
        tools.setdefault(_name(t), t)
    text_b = b.last_user_text().strip()
    if not text_b:
        return None
    joined = a.last_user_text().rstrip() + " " + connector + text_b[:1].lower() + text_b[1:]
    messages = [m if m.get("role") != "user" else {**m, "content": joined} for m in a.messages]
    return a.model_copy(
        update={
            "id": f"{a.id}#and:{b.id}",
            "subset": f"{a.subset}+composed",
            "messages": messages,
            "tools": [copy.deepcopy(t) for t in tools.values()],
            "calls": list(a.calls) + list(b.calls),
        }
    )


_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")


def respin(record: TrainRecord, pool: Sequence[str], rng: random.Random) -> TrainRecord | None:
    """The record with the values the user wrote swapped for others (None if none can be)."""
    if not _single_turn(record) or len(record.calls) != 1:
        return None
    text = record.last_user_text()
    call = record.calls[0]
    args = dict(call.arguments)
    changed = 0
    for key, value in call.arguments.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, str) and len(value) >= 3 and value in text and pool:
            new = rng.choice(pool)
            if new != value and new not in text:
                text = text.replace(value, new)
                args[key] = new
                changed += 1
        elif isinstance(value, int | float) and str(value) in _NUMBER.findall(text):
            new_num = value + rng.randint(1, 9) if isinstance(value, int) else round(value * rng.uniform(1.5, 3.0), 2)
            if str(new_num) not in text:
                text = re.sub(rf"(?<![\w.]){re.escape(str(value))}(?![\w.])", str(new_num), text, count=1)
                args[key] = new_num
                changed += 1
    if not changed:
        return None
    messages = [m if m.get("role") != "user" else {**m, "content": text} for m in record.messages]
    return record.model_copy(
        update={
            "id": f"{record.id}#respin",
            "messages": messages,
            "calls": [call.model_copy(update={"arguments": args})],
        }
    )


def augment(
    records: Sequence[TrainRecord], *, irrelevance_share: float, compose_share: float, seed: int,
    pool: Sequence[str] = (),
) -> list[TrainRecord]:
    """The made records for seeded shares of ``records`` (see the module docstring)."""
    for name, share in (("irrelevance", irrelevance_share), ("compose", compose_share)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} share must be in [0, 1], got {share}")
    out: list[TrainRecord] = []
    all_tools = [t for r in records for t in r.tools]
    by_function: dict[str, list[TrainRecord]] = defaultdict(list)
    singles = [r for r in records if _single_turn(r)]
    for r in singles:
        for c in r.calls:
            by_function[c.name].append(r)
    for record in records:
        rng = random.Random(f"{seed}|augment|{record.id}")
        if rng.random() < irrelevance_share:
            near = irrelevance_variant(record)
            if near is not None:
                out.append(near)
            far = [rng.choice(all_tools) for _ in range(rng.randint(1, 3))] if all_tools else []
            variant = irrelevance_variant(record, far_tools=far)
            if variant is not None:
                out.append(variant)
        if _single_turn(record) and rng.random() < compose_share:
            twin = respin(record, pool, rng) if rng.random() < 0.5 else None
            same = [r for c in record.calls for r in by_function[c.name] if r.id != record.id]
            if twin is not None:
                partner = twin  # the same function with other values: a parallel request
            else:
                partner = rng.choice(same) if same and rng.random() < 0.7 else rng.choice(singles)
            if partner.id != record.id:
                made = compose(record, partner, rng.choice(CONNECTORS))
                if made is not None:
                    out.append(made)
    return out


__all__ = ["CONNECTORS", "augment", "compose", "irrelevance_variant", "respin"]
