"""``toolrm eval plot``: pictures of the JSON reports the other eval commands write.

Each input file is recognised by its keys:

* best-of-N (``toolrm eval bon``; has ``by_k``) → ``bon_vs_k.png``: accuracy against K,
  one line per judge for ``judge_pick``, plus ``mean_single`` (one random model) and
  ``oracle`` (any candidate right) as references; and ``bon_vs_k_by_category.png``, the
  same per BFCL category.
* TRBench (``toolrm eval trbench``; has ``per_category`` and ``w_avg``) →
  ``trbench_per_category.png``: pairwise accuracy per category, one bar per judge.
  With the paper's categories (``paper``, S … MTB), also ``trbench_paper_categories.png``.
* self-correction (``toolrm eval selfcorrect``; has ``baseline_acc`` and ``critic_acc``) →
  ``selfcorrect.png``: accuracy without and with the critic, one pair of bars per report.
* arm reports (``toolrm eval acebench``, ``toolrm demo --out``; have ``arms`` and
  ``comparisons``) → ``arms_lift.png``: each arm's accuracy with its Wilson 95% interval
  and its lift over the baseline in points; ``arms_cost.png``: accuracy against the
  policy tokens each arm spent (the cost curve); and for ACEBench reports
  ``acebench_per_category.png``, one bar per arm in each category.

Plots are drawn with matplotlib's Agg backend (no display needed) and written as PNG.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

__all__ = [
    "ReportKind",
    "command",
    "load_reports",
    "plot_bon",
    "plot_acebench_categories",
    "plot_arms_cost",
    "plot_arms_lift",
    "plot_bon_by_category",
    "plot_selfcorrect",
    "plot_trbench",
    "plot_trbench_paper",
    "report_kind",
    "write_plots",
]

ReportKind = Literal["bon", "trbench", "selfcorrect", "arms"]

DPI = 120
REFERENCE_STYLE = {"mean_single": ("grey", ":"), "oracle": ("black", "--")}


def report_kind(report: Any) -> ReportKind | None:
    """Which command wrote ``report`` (``None`` for anything else)."""
    if not isinstance(report, dict):
        return None
    if isinstance(report.get("by_k"), dict):
        return "bon"
    if "baseline_acc" in report and "critic_acc" in report:
        return "selfcorrect"
    if isinstance(report.get("per_category"), dict) and "w_avg" in report:
        return "trbench"
    if isinstance(report.get("arms"), list) and isinstance(report.get("comparisons"), dict):
        return "arms"
    return None


def load_reports(paths: Sequence[Path]) -> dict[ReportKind, list[tuple[str, dict[str, Any]]]]:
    """The reports in ``paths`` by kind, each with a label (its judge, else its file name).

    Raises ``ValueError`` for a file that is not JSON or not a known report.
    """
    out: dict[ReportKind, list[tuple[str, dict[str, Any]]]] = {}
    for path in paths:
        try:
            report = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot read a JSON report ({exc})") from exc
        kind = report_kind(report)
        if kind is None:
            raise ValueError(
                f"{path}: not a bon, trbench or selfcorrect report, nor an arm report "
                "(expected keys by_k, per_category+w_avg, baseline_acc+critic_acc, or arms+comparisons)"
            )
        label = str(report.get("judge") or (Path(path).stem if kind != "arms" else
                                             f"{report.get('policy', '?')} ({Path(path).stem})"))
        labels = [name for name, _ in out.get(kind, [])]
        if label in labels:  # two reports of the same judge: tell them apart by file
            label = f"{label} ({Path(path).stem})"
        out.setdefault(kind, []).append((label, report))
    return out


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _series(
    report: dict[str, Any], key: str, category: str | None = None
) -> tuple[list[int], list[float]]:
    """(K values, metric values) of one bon report, overall or for one category."""
    ks: list[int] = []
    values: list[float] = []
    for k, block in sorted(report["by_k"].items(), key=lambda kv: int(kv[0])):
        metrics = (
            block.get("overall")
            if category is None
            else (block.get("per_category") or {}).get(category)
        )
        value = (metrics or {}).get(key)
        if value is not None:
            ks.append(int(k))
            values.append(float(value))
    return ks, values


def _draw_bon(ax: Any, reports: Sequence[tuple[str, dict[str, Any]]], category: str | None) -> bool:
    drawn = False
    references: list[tuple[list[int], list[float]]] = []
    for key in ("mean_single", "oracle"):
        references = []
        for label, report in reports:
            ks, values = _series(report, key, category)
            if not ks or (ks, values) in references:
                continue  # the same draws give the same reference: draw it once
            color, style = REFERENCE_STYLE[key]
            suffix = f" ({label})" if references else ""
            ax.plot(ks, values, linestyle=style, color=color, marker=".", label=f"{key}{suffix}")
            references.append((ks, values))
            drawn = True
    for label, report in reports:
        ks, values = _series(report, "judge_pick", category)
        if ks:
            ax.plot(ks, values, marker="o", linewidth=2, label=f"judge_pick: {label}")
            drawn = True
    all_ks = sorted({int(k) for _, r in reports for k in r["by_k"]})
    ax.set_xscale("log", base=2)
    ax.set_xticks(all_ks)
    ax.set_xticklabels([str(k) for k in all_ks])
    ax.set_xlabel("K (candidates per question)")
    ax.set_ylabel("accuracy")
    ax.grid(True, alpha=0.3)
    return drawn


def plot_bon(reports: Sequence[tuple[str, dict[str, Any]]], out: Path) -> Path:
    """Best-of-N accuracy against K over all categories (one line per judge)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    _draw_bon(ax, reports, None)
    ax.set_title("Best-of-N on recorded BFCL outputs")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)
    return _save(plt, fig, out)


def plot_bon_by_category(reports: Sequence[tuple[str, dict[str, Any]]], out: Path) -> Path | None:
    """One best-of-N panel per BFCL category; ``None`` when no report has categories."""
    categories = sorted(
        {
            c
            for _, r in reports
            for block in r["by_k"].values()
            for c in (block.get("per_category") or {})
        }
    )
    if not categories:
        return None
    plt = _pyplot()
    cols = min(3, len(categories))
    rows = (len(categories) + cols - 1) // cols
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False, sharey=True
    )
    for ax, category in zip(axes.flat, categories, strict=False):
        _draw_bon(ax, reports, category)
        ax.set_title(category, fontsize=10)
    for ax in list(axes.flat)[len(categories) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8)
    fig.suptitle("Best-of-N per category")
    fig.tight_layout(rect=(0, 0.08, 1, 0.96))
    fig.savefig(out, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return out


def _save(plt: Any, fig: Any, out: Path) -> Path:
    """Lay out, write and close ``fig``: the one ending of every plot here."""
    fig.tight_layout()
    fig.savefig(out, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return out


def _grouped_bars(
    ax: Any,
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    rotation: int = 20,
) -> None:
    width = 0.8 / max(1, len(series))
    for i, (label, values) in enumerate(series):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        heights = [v if v is not None else 0.0 for v in values]
        bars = ax.bar(xs, heights, width=width * 0.95, label=label)
        for bar, value in zip(bars, values, strict=True):
            text = "n/a" if value is None else f"{value:.2f}"
            ax.annotate(
                text,
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
                xytext=(0, 2),
                textcoords="offset points",
            )
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, rotation=rotation, ha="right" if rotation else "center", fontsize=9)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("accuracy")
    ax.grid(True, axis="y", alpha=0.3)


def plot_trbench(reports: Sequence[tuple[str, dict[str, Any]]], out: Path) -> Path:
    """TRBench pairwise accuracy per category (and overall), one bar per judge."""
    categories = sorted({c for _, r in reports for c in r["per_category"]})
    groups = [*categories, "all (w_avg)"]
    series = []
    for label, report in reports:
        values: list[float | None] = [
            (report["per_category"].get(c) or {}).get("acc") for c in categories
        ]
        values.append(report.get("w_avg"))
        series.append((f"{label} (n={report.get('n_pairs', '?')})", values))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(groups) * max(1, len(series)) ** 0.5), 4.5))
    _grouped_bars(ax, groups, series)
    ax.set_title("TRBench pairwise accuracy per BFCL category")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    return _save(plt, fig, out)


def plot_selfcorrect(reports: Sequence[tuple[str, dict[str, Any]]], out: Path) -> Path:
    """Accuracy without and with the critic, per self-correction report."""
    groups = [f"{label}\n{r.get('category', '')} n={r.get('n', '?')}" for label, r in reports]
    series = [
        ("without critic", [r.get("baseline_acc") for _, r in reports]),
        ("with critic", [r.get("critic_acc") for _, r in reports]),
    ]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(5.0, 2.2 * len(groups)), 4.5))
    _grouped_bars(ax, groups, series, rotation=0)
    ax.set_title("Live self-correction on BFCL")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    return _save(plt, fig, out)


def plot_trbench_paper(reports: Sequence[tuple[str, dict[str, Any]]], out: Path) -> Path | None:
    """TRBench accuracy in the paper's nine categories (and their weighted average), one bar
    per judge; categories we have no pairs for show ``n/a``. ``None``: no report has them."""
    with_paper = [(label, r) for label, r in reports if isinstance(r.get("paper"), dict)]
    if not with_paper:
        return None
    shorts = list(with_paper[0][1]["paper"]["categories"])
    groups = [*shorts, "w_avg"]
    series = []
    for label, report in with_paper:
        paper = report["paper"]
        values: list[float | None] = [paper["categories"][s]["acc"] for s in shorts]
        values.append(paper.get("w_avg"))
        series.append((f"{label} (n={paper.get('n_pairs', '?')})", values))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(7.0, 0.9 * len(groups) * max(1, len(series)) ** 0.5), 4.5))
    _grouped_bars(ax, groups, series, rotation=0)
    ax.set_title("TRBench in the paper's categories (bars over < 30 pairs: read with care)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    return _save(plt, fig, out)


def _arm_points(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per arm: name, accuracy, interval, policy tokens, lift over the baseline (points)."""
    points = []
    base = None
    for arm in report["arms"]:
        s = arm["summary"]
        if arm.get("mode") is None:
            base = s.get("accuracy")
    for arm in report["arms"]:
        s = arm["summary"]
        acc = s.get("accuracy")
        ci = s.get("accuracy_ci95") or (acc, acc)
        tokens = s.get("policy_tokens") or {}
        points.append({
            "name": arm["name"],
            "acc": acc,
            "ci": ci,
            "tokens": int(tokens.get("prompt", 0)) + int(tokens.get("completion", 0)),
            "lift": None if acc is None or base is None or arm.get("mode") is None else 100 * (acc - base),
            "n": s.get("n"),
        })
    return points


def plot_arms_lift(reports: Sequence[tuple[str, dict[str, Any]]], out: Path) -> Path:
    """Each arm's accuracy with its Wilson 95% interval; the lift over the baseline on top."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(reports), figsize=(4.5 * len(reports), 4.5), squeeze=False)
    for ax, (label, report) in zip(axes.flat, reports, strict=True):
        points = [p for p in _arm_points(report) if p["acc"] is not None]
        xs = range(len(points))
        accs = [p["acc"] for p in points]
        low = [p["acc"] - p["ci"][0] for p in points]
        high = [p["ci"][1] - p["acc"] for p in points]
        ax.bar(xs, accs, yerr=[low, high], capsize=4, color="tab:blue", alpha=0.8)
        for x, p in zip(xs, points, strict=True):
            text = f"{p['acc']:.2f}" if p["lift"] is None else f"{p['acc']:.2f} ({p['lift']:+.0f} pts)"
            ax.annotate(text, (x, p["ci"][1]), ha="center", va="bottom", fontsize=7,
                        xytext=(0, 2), textcoords="offset points")
        ax.set_xticks(list(xs))
        ax.set_xticklabels([p["name"] for p in points], rotation=20, ha="right", fontsize=8)
        ax.set_ylim(0, 1.1)
        ax.set_ylabel("accuracy (95% Wilson interval)")
        ax.set_title(f"{label}\nn={points[0]['n'] if points else '?'} per arm", fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
    return _save(plt, fig, out)


def plot_arms_cost(reports: Sequence[tuple[str, dict[str, Any]]], out: Path) -> Path:
    """Accuracy against the policy tokens (prompt + completion) each arm spent."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 5.0))
    for label, report in reports:
        points = [p for p in _arm_points(report) if p["acc"] is not None]
        xs = [p["tokens"] for p in points]
        ys = [p["acc"] for p in points]
        yerr = [[p["acc"] - p["ci"][0] for p in points], [p["ci"][1] - p["acc"] for p in points]]
        ax.errorbar(xs, ys, yerr=yerr, marker="o", capsize=3, linestyle="-", label=label)
        for x, y, p in zip(xs, ys, points, strict=True):
            ax.annotate(p["name"], (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("policy tokens (prompt + completion, all tasks)")
    ax.set_ylabel("accuracy (95% Wilson interval)")
    ax.set_title("Accuracy against the policy's tokens, per arm")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _save(plt, fig, out)


def plot_acebench_categories(reports: Sequence[tuple[str, dict[str, Any]]], out: Path) -> Path | None:
    """ACEBench accuracy per category, one bar per (report, arm); ``None`` without ACEBench reports."""
    ace = [(label, r) for label, r in reports if r.get("benchmark") == "acebench"]
    if not ace:
        return None
    groups = list(dict.fromkeys(c for _, r in ace for c in (*r.get("categories", []), "normal", "special", "all")))
    series = []
    for label, report in ace:
        for arm, row in report["per_category"].items():
            name = arm if len(ace) == 1 else f"{label}: {arm}"
            series.append((name, [(row.get(g) or {}).get("accuracy") for g in groups]))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(8.0, 0.8 * len(groups) * max(1, len(series)) ** 0.5), 4.8))
    _grouped_bars(ax, [g.removeprefix("normal_").removeprefix("special_") for g in groups], series, rotation=40)
    ax.set_title("ACEBench accuracy per category and arm")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=3, frameon=False)
    return _save(plt, fig, out)


def write_plots(paths: Sequence[Path], out_dir: Path) -> list[Path]:
    """Every plot the reports in ``paths`` allow, written under ``out_dir``."""
    reports = load_reports(paths)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if reports.get("bon"):
        written.append(plot_bon(reports["bon"], out_dir / "bon_vs_k.png"))
        by_category = plot_bon_by_category(reports["bon"], out_dir / "bon_vs_k_by_category.png")
        if by_category is not None:
            written.append(by_category)
    if reports.get("trbench"):
        written.append(plot_trbench(reports["trbench"], out_dir / "trbench_per_category.png"))
        paper = plot_trbench_paper(reports["trbench"], out_dir / "trbench_paper_categories.png")
        if paper is not None:
            written.append(paper)
    if reports.get("selfcorrect"):
        written.append(plot_selfcorrect(reports["selfcorrect"], out_dir / "selfcorrect.png"))
    if reports.get("arms"):
        written.append(plot_arms_lift(reports["arms"], out_dir / "arms_lift.png"))
        written.append(plot_arms_cost(reports["arms"], out_dir / "arms_cost.png"))
        per_category = plot_acebench_categories(reports["arms"], out_dir / "acebench_per_category.png")
        if per_category is not None:
            written.append(per_category)
    return written


def command(
    inputs: Annotated[
        list[Path] | None,
        typer.Option(
            "--inputs",
            "--input",
            help="Report JSON file of bon, trbench, selfcorrect, acebench or demo (repeatable).",
        ),
    ] = None,
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="More report files (so that `--inputs a.json b.json` works).", show_default=False
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for the PNG files.")] = Path(
        "plots"
    ),
) -> None:
    """Plot best-of-N accuracy against K, TRBench per-category bars and self-correction."""
    inputs = [*(inputs or []), *(files or [])]
    if not inputs:
        raise typer.BadParameter("give at least one report file", param_hint="--inputs")
    missing = [str(p) for p in inputs if not Path(p).is_file()]
    if missing:
        raise typer.BadParameter(f"no such file: {', '.join(missing)}", param_hint="--inputs")
    try:
        written = write_plots(inputs, out)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--inputs") from exc
    for path in written:
        typer.echo(str(path))
