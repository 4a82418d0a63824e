"""The rule-based score of a candidate against the ground truth: a number in [0, 1].

Partial credit, the way BFCL's checker reads calls but graded instead of pass/fail:

* **No call expected** (``no_call``): 1 for an empty proposal, 0 for any call.
* **Calls expected**: the candidate's calls are matched to the ground truth's
  order-free (parallel calls are a set), maximising the summed credit. A matched pair
  of calls earns 0 when the function names differ, otherwise the share of argument
  keys (over the union of both sides' keys) whose values agree. Values agree with
  BFCL-style coercion: an int equals the same float, strings compare after
  :func:`standardize` (case, spaces and ``,./-_*^`` ignored), lists element by element,
  dicts key by key. The summed credit is divided by the larger of the two call counts,
  so a missing or an extra call costs its share.
* An unparseable call (a :class:`~toolrm_agent.core.calls.ParseFailure`) counts as a call
  that matches nothing.

The ground truth itself scores 1. :func:`score_candidate` also returns a message naming
the first error found (``"expected 2 calls, got 1"``, ``"get_weather: `city` is 'Paris,
France', expected 'Paris'"``), which the exported data carries as the reward message.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from toolrm_agent.core.calls import Proposal, ToolCall

PASS = 1.0
"""A candidate passes when it scores exactly this."""

_STRIP = re.compile(r"[ ,./\-_*^]")
_MAX_EXACT = 7
"""Up to this many calls the matching is exhaustive; above it, greedy."""


class Score(BaseModel):
    """A candidate's score and why it lost what it lost."""

    model_config = ConfigDict(frozen=True)

    value: float
    message: str = "correct"

    @property
    def passed(self) -> bool:
        return self.value >= PASS


def standardize(text: str) -> str:
    """BFCL's string normalisation: lower case, no spaces or ``,./-_*^``."""
    return _STRIP.sub("", text).lower().replace("'", '"')


def values_equal(expected: Any, got: Any) -> bool:
    """Equality with BFCL-style coercion (see the module docstring)."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return isinstance(expected, bool) and isinstance(got, bool) and expected == got
    if isinstance(expected, int | float) and isinstance(got, int | float):
        if isinstance(expected, float) and isinstance(got, float):
            return math.isclose(expected, got, rel_tol=1e-9, abs_tol=1e-12)
        return float(expected) == float(got)
    if isinstance(expected, str) and isinstance(got, str):
        return standardize(expected) == standardize(got)
    if isinstance(expected, list | tuple) and isinstance(got, list | tuple):
        return len(expected) == len(got) and all(
            values_equal(e, g) for e, g in zip(expected, got, strict=True)
        )
    if isinstance(expected, dict) and isinstance(got, dict):
        return set(expected) == set(got) and all(values_equal(expected[k], got[k]) for k in expected)
    return bool(expected == got)


def call_credit(expected: ToolCall, got: ToolCall) -> tuple[float, str]:
    """(credit in [0, 1], first error) for one matched pair of calls."""
    if expected.name != got.name:
        return 0.0, f"called `{got.name}`, expected `{expected.name}`"
    keys = sorted(set(expected.arguments) | set(got.arguments))
    if not keys:
        return 1.0, "correct"
    right = 0
    first = ""
    for key in keys:
        if key not in got.arguments:
            first = first or f"{got.name}: argument `{key}` is missing"
        elif key not in expected.arguments:
            first = first or f"{got.name}: argument `{key}` should not be given"
        elif values_equal(expected.arguments[key], got.arguments[key]):
            right += 1
        else:
            first = first or (
                f"{got.name}: `{key}` is {_show(got.arguments[key])}, "
                f"expected {_show(expected.arguments[key])}"
            )
    return right / len(keys), first or "correct"


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _best_matching(
    expected: Sequence[ToolCall], got: Sequence[ToolCall]
) -> tuple[float, list[tuple[int, int, float, str]]]:
    """Maximum summed credit over one-to-one matchings; (total, [(i, j, credit, msg)])."""
    table = [[call_credit(e, g) for g in got] for e in expected]
    n, m = len(expected), len(got)
    if min(n, m) == 0:
        return 0.0, []
    best: tuple[float, list[tuple[int, int, float, str]]] = (-1.0, [])
    if max(n, m) <= _MAX_EXACT:
        if n <= m:
            for perm in itertools.permutations(range(m), n):
                total = sum(table[i][j][0] for i, j in enumerate(perm))
                if total > best[0]:
                    best = (total, [(i, j, *table[i][j]) for i, j in enumerate(perm)])
        else:
            for perm in itertools.permutations(range(n), m):
                total = sum(table[i][j][0] for j, i in enumerate(perm))
                if total > best[0]:
                    best = (total, [(i, j, *table[i][j]) for j, i in enumerate(perm)])
        return best
    # greedy for long call lists: highest credit first
    cells = sorted(
        ((table[i][j][0], i, j) for i in range(n) for j in range(m)), reverse=True
    )
    used_i: set[int] = set()
    used_j: set[int] = set()
    chosen: list[tuple[int, int, float, str]] = []
    for credit, i, j in cells:
        if i in used_i or j in used_j:
            continue
        used_i.add(i)
        used_j.add(j)
        chosen.append((i, j, credit, table[i][j][1]))
    return sum(c[2] for c in chosen), chosen


def score_candidate(ground_truth: Proposal, candidate: Proposal, *, no_call: bool = False) -> Score:
    """Score ``candidate`` against ``ground_truth`` (see the module docstring)."""
    n_got = len(candidate.calls) + len(candidate.failures)
    if no_call:
        if n_got == 0:
            return Score(value=1.0)
        names = ", ".join(f"`{c.name}`" for c in candidate.calls) or "an unparseable call"
        return Score(value=0.0, message=f"called {names} although no offered function fits")
    expected = ground_truth.calls
    if n_got == 0:
        return Score(value=0.0, message=f"no call made; {len(expected)} expected")
    total, matched = _best_matching(expected, candidate.calls)
    value = total / max(len(expected), n_got)
    message = "correct"
    if n_got != len(expected):
        message = f"expected {len(expected)} call(s), got {n_got}"
    elif candidate.failures:
        message = "a call could not be parsed"
    else:
        for _, _, credit, msg in sorted(matched, key=lambda m: m[2]):
            if credit < 1.0:
                message = msg
                break
    value = max(0.0, min(1.0, value))
    if value >= PASS and message != "correct":  # rounding cannot make a wrong call pass
        value = 1.0 - 1e-6
    return Score(value=round(value, 6), message=message)


__all__ = ["PASS", "Score", "call_credit", "score_candidate", "standardize", "values_equal"]
