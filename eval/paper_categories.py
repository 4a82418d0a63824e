"""TRBench in the ToolRM paper's categories: names, and the weighted average over those we have.

The paper reports TRBench-BFCL in nine categories: the non-live AST ones (S, M, P, PM),
the live ones (LS, LM, LP, LPM) and multi-turn base (MTB). :func:`paper_view` maps a
TRBench report's ``per_category`` table (BFCL category → ``{"n", "acc"}``) onto them:
each category's pairs and accuracy (``None`` where we have no pairs), a flag where a
category has fewer than :data:`MIN_PAIRS` pairs (too few to read much into), and
``w_avg``, the accuracy over all pairs of the categories we have (each category weighted
by its pairs). Irrelevance is not one of the nine; it stays in ``per_category`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MIN_PAIRS", "PAPER_CATEGORIES", "paper_line", "paper_view"]

#: The paper's TRBench-BFCL categories → BFCL v4 categories, in the paper's order.
PAPER_CATEGORIES: dict[str, str] = {
    "S": "simple_python",
    "M": "multiple",
    "P": "parallel",
    "PM": "parallel_multiple",
    "LS": "live_simple",
    "LM": "live_multiple",
    "LP": "live_parallel",
    "LPM": "live_parallel_multiple",
    "MTB": "multi_turn_base",
}

#: Fewer pairs than this in a category: its figure is flagged (``few_pairs``).
MIN_PAIRS = 30


def paper_view(per_category: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The paper's nine categories from a ``per_category`` table (see the module docstring).

    Keys: ``categories`` (short name → ``category``, ``n``, ``acc``, ``few_pairs``),
    ``w_avg`` and ``n_pairs`` over the categories present, ``present``, ``missing`` and
    ``few_pairs`` (short names), ``min_pairs``.
    """
    rows: dict[str, dict[str, Any]] = {}
    correct = total = 0.0
    for short, category in PAPER_CATEGORIES.items():
        cell = per_category.get(category) or {}
        n = int(cell.get("n") or 0)
        acc = cell.get("acc") if n else None
        rows[short] = {"category": category, "n": n, "acc": acc, "few_pairs": 0 < n < MIN_PAIRS}
        if n and acc is not None:
            correct += float(acc) * n
            total += n
    return {
        "categories": rows,
        "w_avg": correct / total if total else None,
        "n_pairs": int(total),
        "present": [s for s, r in rows.items() if r["n"]],
        "missing": [s for s, r in rows.items() if not r["n"]],
        "few_pairs": [s for s, r in rows.items() if r["few_pairs"]],
        "min_pairs": MIN_PAIRS,
    }


def paper_line(paper: dict[str, Any]) -> str:
    """The paper's categories in one line: ``S 0.812 (n=120) · LP 0.500 (n=8, < 30 pairs) · ...``."""
    parts = []
    for short, row in paper["categories"].items():
        if not row["n"]:
            continue
        flag = f", < {paper['min_pairs']} pairs" if row["few_pairs"] else ""
        parts.append(f"{short} {row['acc']:.3f} (n={row['n']}{flag})")
    w_avg = paper["w_avg"]
    head = f"paper categories w_avg {w_avg:.3f} over {paper['n_pairs']} pairs" if w_avg is not None else (
        "paper categories: none present"
    )
    missing = f" · missing: {', '.join(paper['missing'])}" if paper["missing"] else ""
    return head + (": " + " · ".join(parts) if parts else "") + missing
