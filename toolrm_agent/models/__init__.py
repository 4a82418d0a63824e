"""Real models, offline: provisioning (:func:`resolve_model`) and a local tool-calling
chat model (:class:`LocalChatModel`).

Importing this package is cheap: torch and transformers are imported only when a model
is built or loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolrm_agent.core._lazy import lazy_exports as _lazy_exports
from toolrm_agent.models.provision import default_cache_dir, resolve_gguf, resolve_model
from toolrm_agent.models.registry import KNOWN_MODELS

__all__ = ["KNOWN_MODELS", "LocalChatModel", "default_cache_dir", "resolve_gguf", "resolve_model"]


# local_chat imports only langchain-core at module level, but keep it lazy anyway:
# most users of this package only want resolve_model.
__getattr__, __dir__ = _lazy_exports(globals(), {"LocalChatModel": "toolrm_agent.models.local_chat"})


if TYPE_CHECKING:  # pragma: no cover
    from toolrm_agent.models.local_chat import LocalChatModel
