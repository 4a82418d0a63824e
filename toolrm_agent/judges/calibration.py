"""A trained critic's calibration map: head logit → P(correct).

A critic directory may hold ``calibration.json`` (named by the manifest's
``calibration`` field; ``toolrm train disc --method cached`` fits one on the held-out
records, :mod:`train.disc.calibration`). With it, :class:`~toolrm_agent.judges.trained.trained.TrainedJudge`
reports ``critique().score`` as the estimated probability that the proposal is correct
(the rule score of the training data is 1); without it (critic directories written
before calibration existed), the score stays ``sigmoid(logit)``, a ranking score.

Two kinds of map, both applied without numpy:

* ``isotonic`` — knots ``(x, y)``: block means of the logits and the share of correct
  candidates in each block (pool adjacent violators), interpolated linearly, clamped at
  both ends. To keep the critic's ranking (best-of-N needs distinct scores), the map is
  blended with ``sigmoid(logit)`` at weight ``blend`` (1e-3 by default): strictly
  increasing, at most ``blend`` away from the isotonic fit.
* ``platt`` — ``sigmoid(a * logit + b)``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from toolrm_agent.core.errors import CheckpointError, ConfigurationError

CALIBRATION = "calibration.json"


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


class Calibration(BaseModel):
    """A monotone map from a critic's logit to P(correct) (see the module docstring)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["toolrm-calibration"] = "toolrm-calibration"
    method: Literal["isotonic", "platt"]
    x: tuple[float, ...] = ()
    """Isotonic knots: logits, strictly increasing."""
    y: tuple[float, ...] = ()
    """Isotonic knots: P(correct) at each ``x``, non-decreasing, in [0, 1]."""
    a: float = 1.0
    b: float = 0.0
    blend: float = Field(default=1e-3, ge=0.0, le=0.5)
    fitted_on: dict[str, Any] = Field(default_factory=dict)
    """Where the map was fitted: candidates, correct ones, records."""

    @model_validator(mode="after")
    def _knots(self) -> Calibration:
        if self.method == "isotonic":
            if not self.x or len(self.x) != len(self.y):
                raise ConfigurationError("an isotonic calibration needs as many y as x knots (at least one)")
            if any(b <= a for a, b in zip(self.x, self.x[1:], strict=False)):
                raise ConfigurationError("isotonic knots x must be strictly increasing")
            if any(b < a for a, b in zip(self.y, self.y[1:], strict=False)):
                raise ConfigurationError("isotonic values y must be non-decreasing")
            if any(not 0.0 <= v <= 1.0 for v in self.y):
                raise ConfigurationError("isotonic values y must be in [0, 1]")
        return self

    def __call__(self, logit: float) -> float:
        """P(correct) for a head logit."""
        if self.method == "platt":
            return sigmoid(self.a * logit + self.b)
        return (1.0 - self.blend) * self._isotonic(logit) + self.blend * sigmoid(logit)

    def _isotonic(self, logit: float) -> float:
        x, y = self.x, self.y
        if logit <= x[0]:
            return y[0]
        if logit >= x[-1]:
            return y[-1]
        i = bisect_right(x, logit)  # x[i-1] <= logit < x[i]
        t = (logit - x[i - 1]) / (x[i] - x[i - 1])
        return y[i - 1] + t * (y[i] - y[i - 1])

    @classmethod
    def load(cls, path: Path) -> Calibration:
        try:
            return cls.model_validate_json(path.read_text())
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{path} is not a calibration map: {exc}") from exc


__all__ = ["CALIBRATION", "Calibration", "sigmoid"]
