"""The critic's decision log: one JSON line per judged proposal (``decision_log=PATH``).

Each line holds what the judge saw and what the critic decided: ``context`` (a
:class:`~toolrm_agent.core.context.JudgeContext` as JSON), ``proposal`` (the judged
:class:`~toolrm_agent.core.calls.Proposal`; ``original`` too when a sample replaced it),
``score``, ``band``, ``decision``, ``reason``, ``critique``, per-call ``calls`` (id, name,
call hash, score), the critic's name and version, ``mode``, ``shadow`` and a UTC ``time``.
``toolrm replay LOG --judge SPEC`` re-scores these proposals with another critic or other
thresholds. Writing never fails the run: an unwritable log is reported once per path in
the ``toolrm_agent.critic`` logger.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from toolrm_agent.core.jsonl import json_lines

logger = logging.getLogger("toolrm_agent.critic")

_lock = threading.Lock()
_failed: set[str] = set()


def write_decision(path: str, entry: dict[str, Any]) -> None:
    """Append ``entry`` (plus ``time``) as one JSON line to ``path``."""
    line = json.dumps({"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **entry},
                      ensure_ascii=False, default=str)
    try:
        with _lock:
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
    except OSError as exc:
        if path not in _failed:
            _failed.add(path)
            logger.warning("cannot write the decision log %s: %s", path, exc)


def read_decisions(path: str | Path) -> list[dict[str, Any]]:
    """The entries of a decision log (blank lines skipped)."""
    with Path(path).open(encoding="utf-8") as handle:
        return json_lines(handle, source=path)


# ------------------------------------------------------------------------------ replay


def replay(
    entries: list[dict[str, Any]], *, judge: Any = None, bands: Any = None
) -> list[dict[str, Any]]:
    """Each logged proposal decided again: re-judged by ``judge`` (or, without one, its
    logged scores), placed in ``bands`` (a
    :class:`~toolrm_agent.critic._options.DecisionBands`, or ``None``: the judge's own
    verdict). One row per entry: ``index``, ``message_id``, ``calls`` (rendered),
    ``before`` / ``after`` (``score``, ``band``), ``changed``."""
    from toolrm_agent.core.calls import Proposal
    from toolrm_agent.core.context import JudgeContext
    from toolrm_agent.critic._options import CriticOptions, proposal_band

    bands = CriticOptions(bands=bands).bands  # checked as the critic checks them
    rows: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        proposal = Proposal.model_validate(entry["proposal"])
        if judge is not None:
            critique = judge.critique(JudgeContext.model_validate(entry["context"]), proposal)
        else:
            critique = _logged_critique(entry)
        band = proposal_band(bands, critique, proposal) if critique is not None else None
        rows.append({
            "index": index,
            "message_id": entry.get("message_id"),
            "calls": proposal.render().replace("\n", " ")[:300],
            "before": {"score": entry.get("score"), "band": entry.get("band"), "decision": entry.get("decision"),
                       "critic": entry.get("critic")},
            "after": {"score": critique.score if critique is not None else None, "band": band},
            "changed": band is not None and entry.get("band") is not None and _runs(band) != _runs(entry["band"]),
        })
    return rows


def _runs(band: str) -> bool:
    return band == "accept"


def _logged_critique(entry: dict[str, Any]) -> Any:
    from toolrm_agent.core.verdicts import CallVerdict, Critique

    score = entry.get("score")
    if score is None:  # a budget or a judge failure decided: nothing to re-threshold
        return None
    calls = tuple(
        CallVerdict(tool_call_id=c["id"], name=c.get("name"), ok=c.get("ok") is not False,
                    score=c["score"] if c.get("score") is not None else score)
        for c in entry.get("calls", ())
    )
    return Critique(accepted=bool(entry.get("accepted")), score=score, judge=str(entry.get("critic") or "log"),
                    calls=calls)
