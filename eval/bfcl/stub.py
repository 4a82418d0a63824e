"""Import BFCL's checkers without BFCL's model registry.

``bfcl_eval.eval_checker.ast_eval.ast_checker`` imports ``MODEL_CONFIG_MAPPING`` from
``bfcl_eval.constants.model_config``, and that module imports every model handler BFCL
ships (OpenAI, Anthropic, vLLM, ... SDKs), none of which is installed here
(``bfcl-eval`` is installed with ``--no-deps``). The checker only reads one attribute of
that mapping, ``MODEL_CONFIG_MAPPING[model].underscore_to_dot``, to decide whether a
function named ``a.b`` should be looked up as ``a_b``. We put a small stand-in module
into :data:`sys.modules` first; it answers ``underscore_to_dot=False`` for every model,
so names are compared exactly (our decoders map FC-style ``a_b`` names back to ``a.b``
using the offered function names, see :mod:`eval.bfcl.decode`).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MODULE = "bfcl_eval.constants.model_config"


@dataclass(frozen=True)
class StubModelConfig:
    """The one field of BFCL's ``ModelConfig`` that the checkers read."""

    model_name: str = "toolrm"
    underscore_to_dot: bool = False
    is_fc_model: bool = False


class _AnyModel(Mapping[str, StubModelConfig]):
    """A mapping that knows every model name (all compare function names exactly)."""

    def __getitem__(self, key: str) -> StubModelConfig:
        return StubModelConfig(model_name=str(key))

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def install() -> None:
    """Put the stand-in ``model_config`` module in place unless one is loaded already."""
    if MODULE in sys.modules:
        return
    import bfcl_eval.constants  # the real package __init__ is light

    module = types.ModuleType(MODULE)
    module.__doc__ = "toolrm stand-in for BFCL's model registry (see eval/bfcl/stub.py)."
    module.ModelConfig = StubModelConfig  # type: ignore[attr-defined]
    module.MODEL_CONFIG_MAPPING = _AnyModel()  # type: ignore[attr-defined]
    module.__toolrm_stub__ = True  # type: ignore[attr-defined]
    sys.modules[MODULE] = module
    bfcl_eval.constants.model_config = module


def ast_checker_module() -> Any:
    """BFCL's ``ast_checker`` module, imported behind the stub, names compared exactly."""
    install()
    from bfcl_eval.eval_checker.ast_eval import ast_checker

    # Also when the real registry was imported by someone else first: our decoders already
    # map names, so the checker must not rewrite them.
    ast_checker.MODEL_CONFIG_MAPPING = _AnyModel()
    return ast_checker


def multi_turn_modules() -> tuple[Any, Any]:
    """BFCL's ``multi_turn_checker`` and ``multi_turn_utils`` modules."""
    install()
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_checker, multi_turn_utils

    return multi_turn_checker, multi_turn_utils
