"""The one preference-pair model the wings share: one context, a better and a worse answer.

``eval`` builds pairs from recorded benchmark outputs (each side a
:class:`~toolrm_agent.core.calls.Proposal`, the context a
:class:`~toolrm_agent.core.context.JudgeContext`: :class:`eval.pairs.Pair`) and ``train``
from scored candidates (each side a proposal with its origin and score:
:class:`train.pairs.TrainPair`). Both are a :class:`PreferencePair` over their kind of
side; the wings never import each other, so the shared model lives here, in the runtime.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

SideT = TypeVar("SideT")
PairT = TypeVar("PairT", bound="PreferencePair[Any]")


class PreferencePair(BaseModel, Generic[SideT]):
    """A preference pair: ``chosen`` is the better answer to one context, ``rejected`` the worse.

    ``id`` is stable across runs (a source id and a hash of the renderings). Each wing
    adds what locates the context (a benchmark question, a training record) and its
    own kind of side.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    chosen: SideT
    rejected: SideT


__all__ = ["PreferencePair"]
