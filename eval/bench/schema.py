"""How much does :class:`~toolrm_agent.judges.schema.SchemaJudge` cost per call?

::

    toolrm bench schema --out bench_schema.json [--repeats 30] [--limit 0]

Proposals are realistic: with ``bfcl-eval`` installed, the BFCL v4 ``simple_python``,
``multiple`` and ``parallel`` questions (function docs → :class:`ToolSpec`, the user turn
→ the conversation) with their ground-truth calls (each argument's first acceptable
value; optional arguments, marked by BFCL with ``""``, left out). Without it, synthetic
tools and calls of a similar shape. Every proposal is judged once per repeat, in a loop
over all of them (each has its own context, so nothing is served from the judge's
per-context cache); the reported cost is the **median over repeats** of the loop's time
(``time.perf_counter_ns``) divided by the number of calls or proposals.

Besides the timing, the report says how many ground-truth proposals the judge accepts
(every rejection of a ground truth is a false alarm worth a look) and how many carry an
``ungrounded_value`` warning. The JSON report::

    {"per_call_us": .., "per_proposal_us": .., "n_calls": .., "n_proposals": ..,
     "per_call_us_fastest": .., "per_call_us_cpu": .., "per_proposal_us_cpu": ..,
     "repeats": .., "source": "bfcl" | "synthetic", "per_category": {...},
     "no_grounding": {"per_call_us": .., "per_proposal_us": ..},
     "broken": {"per_call_us": .., "per_proposal_us": .., "n_calls": ..},
     "ground_truth": {"accepted": .., "with_warnings": .., "rejected_examples": [...]},
     "python": .., "machine": .., "command": ..}
"""

from __future__ import annotations

import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated, Any

import typer

from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.specs import ToolSpec
from toolrm_agent.judges.schema import SchemaJudge

CATEGORIES = ("simple_python", "multiple", "parallel")

Case = tuple[str, JudgeContext, Proposal]  # (category, context, proposal)

app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0] if __doc__ else None)


# ------------------------------------------------------------------------- proposals


def _bfcl_data() -> Path | None:
    spec = find_spec("bfcl_eval")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    return data if (data / "BFCL_v4_simple_python.json").exists() else None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _first_value(values: Any) -> Any:
    """BFCL's acceptable values ``[v, ...]`` → ``v`` (nested dicts resolved the same way)."""
    value = values[0] if isinstance(values, list) and values else values
    if isinstance(value, dict):
        return _resolve(value)
    if isinstance(value, list):
        return [_resolve(v) if isinstance(v, dict) else v for v in value]
    return value


def _resolve(possible: dict[str, Any], required: Sequence[str] = ()) -> dict[str, Any]:
    """One concrete argument dict: optional arguments (``""`` acceptable) are left out,
    except those the function doc requires, which take their first non-empty value."""
    out: dict[str, Any] = {}
    for key, values in possible.items():
        if isinstance(values, list) and "" in values:
            if key not in required:
                continue
            values = [v for v in values if v != ""] or [""]
        out[key] = _first_value(values)
    return out


def _required(docs: Sequence[dict[str, Any]], name: str) -> list[str]:
    for doc in docs:
        if doc.get("name") == name:
            return list((doc.get("parameters") or {}).get("required") or [])
    return []


def bfcl_cases(data: Path, categories: Sequence[str], limit: int) -> list[Case]:
    """BFCL questions with their ground-truth calls, as (category, context, proposal)."""
    cases: list[Case] = []
    for category in categories:
        answers = {
            e["id"]: e["ground_truth"]
            for e in _read_jsonl(data / "possible_answer" / f"BFCL_v4_{category}.json")
        }
        questions = _read_jsonl(data / f"BFCL_v4_{category}.json")
        for entry in questions[:limit] if limit else questions:
            messages = entry["question"][0]
            context = JudgeContext(
                turns=tuple(
                    Turn(
                        role=m["role"] if m["role"] in ("system", "user") else "user",
                        content=m["content"],
                    )
                    for m in messages
                ),
                tools=tuple(ToolSpec.from_bfcl(doc) for doc in entry["function"]),
            )
            calls = tuple(
                ToolCall(
                    id=f"{entry['id']}_{i}",
                    name=name,
                    arguments=_resolve(params, _required(entry["function"], name)),
                )
                for i, item in enumerate(answers[entry["id"]])
                for name, params in item.items()
            )
            cases.append((category, context, Proposal(calls=calls)))
    return cases


def synthetic_cases(n: int, seed: int = 0) -> list[Case]:
    """Tools and calls shaped like BFCL's (2–6 parameters, 1–4 tools, 1–3 calls)."""
    rng = random.Random(seed)
    kinds = ["string", "integer", "number", "boolean", "array", "object"]
    cities = ["Paris", "Berlin", "Tokyo", "Lima", "Cairo", "Oslo"]
    cases: list[Case] = []
    for q in range(n):
        specs = []
        for t in range(rng.randint(1, 4)):
            props: dict[str, Any] = {}
            for p in range(rng.randint(2, 6)):
                kind = rng.choice(kinds)
                schema: dict[str, Any] = {"type": kind, "description": f"parameter {p}"}
                if kind == "array":
                    schema["items"] = {"type": "number"}
                if kind == "object":
                    schema["properties"] = {"name": {"type": "string"}, "size": {"type": "integer"}}
                if kind == "string" and rng.random() < 0.3:
                    schema["enum"] = ["low", "medium", "high"]
                props[f"p{p}"] = schema
            required = [k for k in props if rng.random() < 0.7]
            specs.append(
                ToolSpec(
                    name=f"tool_{q}_{t}",
                    parameters={"type": "object", "properties": props, "required": required},
                )
            )
        city, amount = rng.choice(cities), rng.randint(2, 500)
        request = (
            f"Please look up {city} and use an amount of {amount} with ratio {amount / 7:.2f}."
        )

        calls = []
        for c, spec in enumerate(rng.sample(specs, k=min(len(specs), rng.randint(1, 3)))):
            calls.append(
                ToolCall(
                    id=f"s{q}_{c}",
                    name=spec.name,
                    arguments={
                        k: _synthetic_value(rng, s, city, amount)
                        for k, s in spec.properties.items()
                        if k in spec.required or rng.random() < 0.5
                    },
                )
            )
        context = JudgeContext(turns=(Turn(role="user", content=request),), tools=tuple(specs))
        cases.append(("synthetic", context, Proposal(calls=tuple(calls))))
    return cases


def _synthetic_value(rng: random.Random, schema: dict[str, Any], city: str, amount: int) -> Any:
    if "enum" in schema:
        return rng.choice(schema["enum"])
    return {
        "string": city,
        "integer": amount,
        "number": round(amount / 7, 2),
        "boolean": True,
        "array": [amount, round(amount / 7, 2)],
        "object": {"name": city, "size": amount},
    }[schema["type"]]


def broken(cases: Sequence[Case], seed: int = 0) -> list[Case]:
    """The same proposals with one mistake per call (renamed, dropped or retyped argument)."""
    rng = random.Random(seed)
    out: list[Case] = []
    for category, context, proposal in cases:
        calls = []
        for call in proposal.calls:
            args = dict(call.arguments)
            roll = rng.random()
            if args and roll < 0.4:
                key = rng.choice(list(args))
                args[key + "_x"] = args.pop(key)
            elif args and roll < 0.7:
                key = rng.choice(list(args))
                args[key] = json.dumps(args[key])  # JSON text instead of the value
            else:
                call = call.override(name=call.name + "_v2")
            calls.append(call.override(arguments=args))
        out.append((category, context, proposal.override(calls=tuple(calls))))
    return out


# --------------------------------------------------------------------------- timing


def timings_ns(run: Callable[[], None], repeats: int) -> tuple[list[int], list[int]]:
    """Wall times (``perf_counter_ns``) and CPU times (``process_time_ns``) of ``repeats``
    runs of ``run()``, after one warm-up run."""
    run()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter_ns(), time.process_time_ns()
        run()
        wall.append(time.perf_counter_ns() - start)
        cpu.append(time.process_time_ns() - start_cpu)
    return wall, cpu


def time_cases(judge: SchemaJudge, cases: Sequence[Case], repeats: int) -> dict[str, float]:
    """Cost per call and per proposal: the median wall time of a pass over all cases
    (headline), plus the fastest pass and the median CPU time, which are less inflated
    when other processes share the cores."""
    pairs = [(context, proposal) for _, context, proposal in cases]
    critique = judge.critique

    def run() -> None:
        for context, proposal in pairs:
            critique(context, proposal)

    wall, cpu = timings_ns(run, repeats)
    n_calls = max(sum(len(p.calls) for _, p in pairs), 1)
    n_proposals = max(len(pairs), 1)

    def us(ns: float, n: int) -> float:
        return round(ns / n / 1000, 3)

    median = statistics.median(wall)
    return {
        "per_call_us": us(median, n_calls),
        "per_proposal_us": us(median, n_proposals),
        "n_calls": n_calls,
        "n_proposals": len(pairs),
        "per_call_us_fastest": us(min(wall), n_calls),
        "per_call_us_cpu": us(statistics.median(cpu), n_calls),
        "per_proposal_us_cpu": us(statistics.median(cpu), n_proposals),
    }


def ground_truth_report(judge: SchemaJudge, cases: Sequence[Case]) -> dict[str, Any]:
    accepted = warned = 0
    rejected: list[dict[str, Any]] = []
    for category, context, proposal in cases:
        critique = judge.critique(context, proposal)
        accepted += critique.accepted
        warned += critique.accepted and bool(critique.codes)
        if not critique.accepted and len(rejected) < 10:
            rejected.append(
                {"category": category, "proposal": proposal.render(), "critique": critique.text}
            )
    n = max(len(cases), 1)
    return {
        "n": len(cases),
        "accepted": round(accepted / n, 4),
        "with_warnings": round(warned / n, 4),
        "rejected_examples": rejected,
    }


# ------------------------------------------------------------------------------ CLI


@app.command()
def main(
    out: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = Path(
        "bench_schema.json"
    ),
    repeats: Annotated[int, typer.Option(min=3, help="Timed passes over all proposals.")] = 30,
    limit: Annotated[int, typer.Option(min=0, help="Questions per category (0: all).")] = 0,
    synthetic: Annotated[
        bool, typer.Option(help="Use synthetic proposals even if BFCL is installed.")
    ] = False,
) -> None:
    """Measure SchemaJudge's cost per call and per proposal; write a JSON report."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    data = None if synthetic else _bfcl_data()
    if data is not None:
        cases, source = bfcl_cases(data, CATEGORIES, limit), "bfcl"
    else:
        cases, source = synthetic_cases(limit or 600), "synthetic"
    judge = SchemaJudge()

    report: dict[str, Any] = {
        **time_cases(judge, cases, repeats),
        "repeats": repeats,
        "source": source,
    }
    report["per_category"] = {
        category: time_cases(judge, [c for c in cases if c[0] == category], repeats)
        for category in sorted({c[0] for c in cases})
    }
    report["no_grounding"] = time_cases(judge.override(check_grounding=False), cases, repeats)
    report["broken"] = time_cases(judge, broken(cases), repeats)
    report["ground_truth"] = ground_truth_report(judge, cases)
    report["python"] = platform.python_version()
    report["machine"] = f"{platform.machine()} {platform.processor() or ''}".strip()
    report["command"] = "toolrm " + " ".join(sys.argv[1:])

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    table = Table(title=f"SchemaJudge cost ({source}, median of {repeats} passes)")
    for column in ("set", "proposals", "calls", "µs / call", "µs / proposal", "CPU µs / call"):
        table.add_column(column, justify="right" if column != "set" else "left")
    rows = [
        ("all", report),
        *report["per_category"].items(),
        ("no grounding", report["no_grounding"]),
        ("broken calls", report["broken"]),
    ]
    for label, row in rows:
        table.add_row(
            label,
            str(row["n_proposals"]),
            str(row["n_calls"]),
            f"{row['per_call_us']:.1f}",
            f"{row['per_proposal_us']:.1f}",
            f"{row['per_call_us_cpu']:.1f}",
        )
    console.print(table)
    gt = report["ground_truth"]
    console.print(
        f"ground truth accepted: {gt['accepted']:.1%}, accepted with warnings: "
        f"{gt['with_warnings']:.1%} of {gt['n']}; report written to {out}"
    )


if __name__ == "__main__":
    app()
