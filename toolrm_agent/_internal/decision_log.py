"""The critic's decision log: one JSON line per judged proposal (``decision_log=PATH``).

Each line holds what the judge saw and what the critic decided: ``context`` (a
:class:`~toolrm_agent.context.JudgeContext` as JSON), ``proposal`` (the judged
:class:`~toolrm_agent.calls.Proposal`; ``original`` too when a sample replaced it),
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
    out: list[dict[str, Any]] = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                from toolrm_agent.errors import ConfigurationError

                raise ConfigurationError(f"{path}:{number} is not a decision log line: {exc}") from exc
            out.append(entry)
    return out
