"""Assemble a two-tier critic: a fast head, and an LM-reading head where the fast one is unsure.

The result is one critic directory that ``disc:<dir>`` loads
(:class:`~toolrm_agent.judges.trained.trained.TrainedJudge`): the first tier's files, its
manifest naming ``second_stage`` (a copy of the second critic, in ``<dir>/lm``), the
``band`` of first-tier scores that count as unsure, and the default ``route``.

The band is in the first tier's score space: P(correct) when that tier is calibrated. A band
known in uncalibrated scores (``sigmoid(logit)``: one chosen before the tier was calibrated)
is given as ``band_raw`` and mapped through the first tier's calibration, so that the same
proposals are routed.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

from toolrm_agent.core.errors import TrainingError
from toolrm_agent.judges.calibration import Calibration
from toolrm_agent.judges.trained.trained import HEAD, MANIFEST, CriticManifest

SECOND = "lm"


def assemble_two_tier(first: Path, second: Path, out: Path, *, band: tuple[float, float],
                      route: str = "margin", band_raw: bool = False) -> Path:
    """Write ``out``: ``first``'s critic with ``second`` as its second tier (``band_raw``:
    ``band`` is in uncalibrated scores, mapped through ``first``'s calibration)."""
    lo, hi = band
    if not 0.0 <= lo <= hi <= 1.0:
        raise TrainingError(f"band must satisfy 0 <= lo <= hi <= 1, got {band}")
    if route not in ("margin", "always", "never"):
        raise TrainingError(f"route must be margin, always or never, got {route!r}")
    manifests = []
    for d in (first, second):
        if not (d / MANIFEST).is_file() or not (d / HEAD).is_file():
            raise TrainingError(f"{d} is not a trained critic directory ({MANIFEST} + {HEAD})")
        manifests.append(CriticManifest.model_validate_json((d / MANIFEST).read_text()))
    if manifests[1].second_stage is not None:
        raise TrainingError(f"{second} has a second tier of its own; give its first tier")
    if band_raw and manifests[0].calibration is not None:
        cal = Calibration.load(first / manifests[0].calibration)
        lo, hi = (round(cal(math.log(p / (1 - p))), 6) if 0.0 < p < 1.0 else p for p in (lo, hi))
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copy(first / HEAD, out / HEAD)
    (out / SECOND).mkdir()
    shutil.copy(second / HEAD, out / SECOND / HEAD)
    # each tier's calibration map (issue 18) goes with its head
    for src, dst, manifest in ((first, out, manifests[0]), (second, out / SECOND, manifests[1])):
        if manifest.calibration is not None:
            shutil.copy(src / manifest.calibration, dst / manifest.calibration)
    (out / SECOND / MANIFEST).write_text(manifests[1].model_dump_json(indent=2) + "\n")
    top = manifests[0].model_copy(update={"second_stage": SECOND, "band": (lo, hi), "route": route})
    (out / MANIFEST).write_text(top.model_dump_json(indent=2) + "\n")
    return out


__all__ = ["assemble_two_tier"]
