"""Immutability that holds: one mechanism (:class:`Frozen`) for the judges, the two critic
adapters and the critic's options (``CriticOptions``, ``CriticBudget``, ``DecisionBands``:
dataclasses on the same base), one helper for the ``override`` of every pydantic value
object (which pydantic's own ``frozen=True`` keeps immutable).

* :class:`Frozen` (with the metaclass :class:`FrozenMeta`): once the outermost
  ``__init__`` has returned, setting or deleting a public attribute raises
  :class:`~toolrm_agent.core.errors.FrozenError`. Underscore attributes stay writable: they
  hold implementation state (a lazily loaded model, a lock, a cache), never options.
  The constructor's arguments are recorded, so :func:`rebuild` (what ``.override()``
  uses) makes a new object through ``__init__`` again: validated like the first one,
  with fresh derived state (an adapter's engine, a judge's default name).
* A keyword that the constructor does not take raises
  :class:`~toolrm_agent.core.errors.ConfigurationTypeError` (also a ``TypeError``) before
  ``__init__`` runs; so does an unknown name given to ``override``.
* :func:`validated_override`: ``model.override(**changes)`` for frozen pydantic models,
  validated like the constructor (``Critique.override(score=5)`` raises pydantic's
  ``ValidationError``; ``model_copy(update=...)`` would not validate).
"""

from __future__ import annotations

import inspect
from abc import ABCMeta
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from toolrm_agent.core.errors import ConfigurationTypeError, FrozenError

__all__ = ["Frozen", "FrozenMeta", "rebuild", "validated_override"]

_FROZEN = "_toolrm_frozen_"
_ARGS = "_toolrm_init_args_"
_SIGNATURES: dict[type[Any], inspect.Signature] = {}

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound="Frozen")


def _signature(cls: type[Any]) -> inspect.Signature:
    """``cls.__init__``'s signature without ``self`` (cached per class)."""
    sig = _SIGNATURES.get(cls)
    if sig is None:
        full = inspect.signature(cls.__init__)
        sig = full.replace(parameters=list(full.parameters.values())[1:])
        _SIGNATURES[cls] = sig
    return sig


class FrozenMeta(ABCMeta):
    """Checks the keywords, runs ``__init__``, records its arguments, then freezes."""

    @property
    def __signature__(cls) -> inspect.Signature:
        """The constructor's signature for ``inspect.signature(cls)`` (else it would read
        this metaclass's ``__call__``); instances are not affected."""
        return _signature(cls)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        try:
            bound = _signature(cls).bind(*args, **kwargs)
        except TypeError as exc:
            raise ConfigurationTypeError(f"{cls.__name__}(): {exc}") from exc
        obj = super().__call__(*args, **kwargs)
        object.__setattr__(obj, _ARGS, dict(bound.arguments))
        object.__setattr__(obj, _FROZEN, True)
        return obj


class Frozen(metaclass=FrozenMeta):
    """Base of the objects that are immutable once built (see the module docstring)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and self.__dict__.get(_FROZEN, False):
            raise FrozenError(
                f"{type(self).__name__} is immutable: cannot set {name!r}; "
                f"use .override({name}=...) to get a changed copy"
            )
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if not name.startswith("_") and self.__dict__.get(_FROZEN, False):
            raise FrozenError(f"{type(self).__name__} is immutable: cannot delete {name!r}")
        object.__delattr__(self, name)


def rebuild(obj: F, changes: Mapping[str, Any]) -> F:
    """A new object of ``obj``'s class from the arguments ``obj`` was built with, with
    ``changes`` applied, built (and so validated) through ``__init__`` again."""
    cls = type(obj)
    sig = _signature(cls)
    params = sig.parameters
    var_kw = next((p.name for p in params.values() if p.kind is p.VAR_KEYWORD), None)
    arguments = dict(obj.__dict__.get(_ARGS, {}))
    named = [p.name for p in params.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    for key, value in changes.items():
        param = params.get(key)
        if param is not None and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            arguments[key] = value
        elif var_kw is not None:
            arguments[var_kw] = {**arguments.get(var_kw, {}), key: value}
        else:
            raise ConfigurationTypeError(
                f"{cls.__name__}.override() got an unknown option {key!r}; it takes {named}"
            )
    bound = inspect.BoundArguments(sig, arguments)
    return cls(*bound.args, **bound.kwargs)


def validated_override(model: M, changes: Mapping[str, Any]) -> M:
    """A copy of the frozen pydantic ``model`` with ``changes``, validated as the
    constructor validates (nested model instances are kept as they are). Fields never set
    keep their defaults; an unknown field raises :class:`ConfigurationTypeError`."""
    cls = type(model)
    fields = cls.model_fields
    unknown = sorted(set(changes) - set(fields))
    if unknown:
        raise ConfigurationTypeError(
            f"{cls.__name__}.override() got unknown field(s) {unknown}; it has {sorted(fields)}"
        )
    data = {name: getattr(model, name) for name in model.model_fields_set if name in fields}
    data.update(changes)
    return cls(**data)
