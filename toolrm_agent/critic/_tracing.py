"""Verdicts as run metadata, for LangSmith, OpenTelemetry and any LangChain callback handler.

Each decision the critic makes on a judged call (enforcing or in shadow mode, an
escalation once decided included) becomes one child run named ``toolrm_verdict`` of the
run that judged it (the critic node, or the middleware's model call / ``after_model``
hook), through LangChain's public runnable API: its ``metadata`` is a small flat dict
(:func:`verdict_metadata`: critic and version, tool, call hash, band, score, action,
reason, shadow), its ``tags`` ``["toolrm", "toolrm:<action>"]``, and it is also its
input. A tracer shows it as a span with those attributes; a handler sees it in
``on_chain_start(serialized, inputs, metadata=..., tags=...)``; ``astream_events``
yields it as ``on_chain_start`` / ``on_chain_end`` with ``name == "toolrm_verdict"``.

Off the hot path: nothing is built when the run has no callback handler (no tracer, no
handler passed in ``config["callbacks"]``), nor for a verdict replayed from state
(it was traced when it was made).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.callbacks import BaseCallbackManager
from langchain_core.runnables import RunnableConfig, RunnableLambda

RUN_NAME = "toolrm_verdict"

MetadataValue = str | float | bool | None


def verdict_metadata(record: Mapping[str, Any]) -> dict[str, MetadataValue]:
    """The flat metadata of one stored verdict (a ``toolrm_verdicts`` record)."""
    score = record.get("score")
    return {
        "toolrm_tool_call_id": _text(record.get("tool_call_id")),
        "toolrm_tool": _text(record.get("name")),
        "toolrm_call_hash": _text(record.get("call_hash")),
        "toolrm_critic": _text(record.get("critic") or record.get("judge")),
        "toolrm_critic_version": _text(record.get("critic_version")),
        "toolrm_band": _text(record.get("call_band") or record.get("band")),
        "toolrm_score": float(score) if isinstance(score, int | float) else None,
        "toolrm_action": _text(record.get("decision")),
        "toolrm_reason": _text(record.get("reason")),
        "toolrm_human": _text(record.get("human")),
        "toolrm_shadow": bool(record.get("shadow", False)),
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def has_handlers(config: RunnableConfig | None) -> bool:
    """Whether anything listens to this run's callbacks (a tracer or a handler)."""
    callbacks = (config or {}).get("callbacks")
    if isinstance(callbacks, BaseCallbackManager):
        return bool(callbacks.handlers)
    return bool(callbacks)


def _identity(metadata: dict[str, MetadataValue]) -> dict[str, MetadataValue]:
    return metadata


_VERDICT_RUN: RunnableLambda[dict[str, MetadataValue], dict[str, MetadataValue]] = RunnableLambda(
    _identity, name=RUN_NAME
)


def trace_verdicts(
    records: Mapping[str, Mapping[str, Any]] | None, config: RunnableConfig | None, *, reused: bool = False
) -> None:
    """One ``toolrm_verdict`` child run per record (see the module docstring); nothing
    without a listener, records or for ``reused`` (replayed) verdicts. Never raises:
    tracing must not change the run."""
    if reused or not records or not has_handlers(config):
        return
    assert config is not None
    for record in records.values():
        if not isinstance(record, Mapping):
            continue
        try:
            metadata = verdict_metadata(record)
            child: RunnableConfig = {
                "callbacks": config.get("callbacks"),
                "metadata": dict(metadata),
                "tags": ["toolrm", f"toolrm:{metadata.get('toolrm_action')}"],
                "run_name": RUN_NAME,
            }
            _VERDICT_RUN.invoke(metadata, child)
        except Exception:  # noqa: BLE001, S110 - a broken handler must not break the run
            pass


__all__ = ["RUN_NAME", "has_handlers", "trace_verdicts", "verdict_metadata"]
