"""Critics shipped with the package: ``disc:default`` lives in ``critics/default/``.

A shipped critic is a small directory (``critic.json`` + ``head.npz``, 13 KB for the
default) trained by ``toolrm train disc --method cached``. The default reads no LM (call
features + the offline MiniLM encoder); a critic with LM inputs provisions its frozen base
with :func:`toolrm_agent.models.resolve_model` on first use. ``train/RESULTS.md`` says how
it was trained and what it measures.
"""

from __future__ import annotations

from pathlib import Path

from toolrm_agent.errors import CheckpointError

DEFAULT = Path(__file__).parent / "default"


def default_critic_dir() -> Path:
    """The directory of ``disc:default``."""
    if not (DEFAULT / "critic.json").is_file():
        raise CheckpointError(
            f"the default critic is missing from this installation ({DEFAULT}); "
            "train one with `toolrm train disc --method cached` and pass disc:<dir>"
        )
    return DEFAULT


__all__ = ["DEFAULT", "default_critic_dir"]
