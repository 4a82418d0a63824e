"""Tokens per second of the local model on this machine: transformers (per dtype) against
the llama.cpp server, side by side in one run.

::

    toolrm bench local-model --out bench_local.json
    toolrm bench local-model --model smollm2 --dtypes float32 --repeats 2
    toolrm bench local-model --dtypes bfloat16 --no-llamacpp

It loads the model once per dtype through :class:`toolrm_agent.models.LocalChatModel`
and, unless ``--no-llamacpp``, starts the llama.cpp server on the model's GGUF
(:mod:`toolrm_agent.integrations.llamacpp_server`, the weights as shipped, 4-bit
quantised). It warms each up, then measures on a BFCL-like prompt (system turn, three
tools, a user request; the model's own chat template), the backends taking turns run by
run so that all see the same load on a shared machine:

* ``decode``: greedy ``generate`` of exactly ``--new-tokens`` tokens (EOS ignored): the
  steady decoding speed, output tokens / seconds, prompt prefill included;
* ``call``: ``LocalChatModel.invoke`` with the tools bound, as an agent uses it (stops
  at EOS, so usually fewer tokens); reports tokens/s, latency and whether a call parsed;
* ``sampled``: ``n`` samples in one call (``num_return_sequences``), as best-of-N uses it;
  for the server, ``n`` concurrent requests (its parallel slots batch them).

The server backend is named ``llamacpp`` in the report; ``speedup_vs`` gives each
backend's decode and call tokens/s over the first transformers dtype's.

Medians over ``--repeats`` runs. The machine may be shared: the load average before and
after is recorded next to the numbers.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, help=__doc__)
console = Console(stderr=True)

SYSTEM = "You are an expert in composing functions. Call the functions needed to answer."
QUESTION = (
    "Find the area of a triangle with a base of 10 units and a height of 5 units, "
    "then convert 25 degrees Celsius to Fahrenheit."
)
TOOLS: list[dict[str, Any]] = [
    {
        "name": "calculate_triangle_area",
        "description": "Calculate the area of a triangle given its base and height.",
        "parameters": {
            "type": "dict",
            "properties": {
                "base": {"type": "integer", "description": "The base of the triangle."},
                "height": {"type": "integer", "description": "The height of the triangle."},
                "unit": {
                    "type": "string",
                    "description": "The unit of measure (defaults to 'units').",
                },
            },
            "required": ["base", "height"],
        },
    },
    {
        "name": "convert_temperature",
        "description": "Convert a temperature between Celsius, Fahrenheit and Kelvin.",
        "parameters": {
            "type": "dict",
            "properties": {
                "value": {"type": "float", "description": "The temperature to convert."},
                "from_unit": {"type": "string", "enum": ["celsius", "fahrenheit", "kelvin"]},
                "to_unit": {"type": "string", "enum": ["celsius", "fahrenheit", "kelvin"]},
            },
            "required": ["value", "from_unit", "to_unit"],
        },
    },
    {
        "name": "get_stock_price",
        "description": "Get the latest stock price of a company by its ticker symbol.",
        "parameters": {
            "type": "dict",
            "properties": {"ticker": {"type": "string", "description": "e.g. AAPL"}},
            "required": ["ticker"],
        },
    },
]


def _messages() -> list[Any]:
    from langchain_core.messages import HumanMessage, SystemMessage

    return [SystemMessage(SYSTEM), HumanMessage(QUESTION)]


def _decode_once(llm: Any, new_tokens: int) -> dict[str, float]:
    import torch

    loaded = llm.load()
    prompt = llm.render_prompt(_messages(), tools=TOOLS)
    inputs = loaded.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(
        loaded.device
    )
    with torch.inference_mode():
        started = time.perf_counter()
        out = loaded.model.generate(
            **inputs,
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            pad_token_id=loaded.pad_token_id,
        )
        seconds = time.perf_counter() - started
    produced = int(out.shape[1] - inputs["input_ids"].shape[1])
    return {
        "prompt_tokens": int(inputs["input_ids"].shape[1]),
        "new_tokens": produced,
        "seconds": seconds,
        "tokens_per_second": produced / seconds,
    }


def _call_once(llm: Any, **kwargs: Any) -> dict[str, Any]:
    started = time.perf_counter()
    if kwargs:  # several samples: generate() returns all of them
        result = llm.generate([_messages()], tools=TOOLS, **kwargs)
        messages = [g.message for g in result.generations[0]]
    else:  # as an agent calls it
        messages = [llm.bind_tools(TOOLS).invoke(_messages())]
    return _call_result(messages, time.perf_counter() - started,
                        messages[0].response_metadata.get("raw_text", ""))


def _call_result(messages: list[Any], seconds: float, first_text: str) -> dict[str, Any]:
    """One call run's figures (both backends report the same fields)."""
    out_tokens = sum((m.usage_metadata or {}).get("output_tokens", 0) for m in messages)
    return {
        "samples": len(messages),
        "output_tokens": out_tokens,
        "seconds": seconds,
        "tokens_per_second": out_tokens / seconds,
        "calls_parsed": sum(1 for m in messages if m.tool_calls),
        "first_text": first_text,
    }


def _openai_tools() -> list[dict[str, Any]]:
    from toolrm_agent.core.specs import ToolSpec

    return [ToolSpec.from_bfcl(t).to_openai() for t in TOOLS]


def _server_decode_once(llm: Any, new_tokens: int) -> dict[str, float]:
    started = time.perf_counter()
    message = llm.invoke(_messages(), max_tokens=new_tokens, extra_body={"ignore_eos": True})
    seconds = time.perf_counter() - started
    usage = message.usage_metadata or {}
    produced = int(usage.get("output_tokens", 0))
    return {
        "prompt_tokens": int(usage.get("input_tokens", 0)),
        "new_tokens": produced,
        "seconds": seconds,
        "tokens_per_second": produced / seconds,
    }


def _server_call_once(llm: Any, n: int = 0, seed: int = 0) -> dict[str, Any]:
    bound = llm.bind_tools(_openai_tools())
    started = time.perf_counter()
    if n:
        messages = bound.batch([_messages()] * n, temperature=0.7, top_p=0.95, seed=seed)
    else:
        messages = [bound.invoke(_messages())]
    return _call_result(messages, time.perf_counter() - started,
                        str(messages[0].content) or json.dumps(messages[0].tool_calls))


def _median(runs: list[dict[str, Any]], key: str) -> float:
    values: list[float] = [r[key] for r in runs]
    return round(statistics.median(values), 2)


@app.command()
def main(
    out: Annotated[Path, typer.Option(help="where to write the JSON report")] = Path(
        "bench_local_model.json"
    ),
    model: Annotated[str, typer.Option(help="anything resolve_model accepts")] = "default",
    dtypes: Annotated[str, typer.Option(help="comma-separated torch dtypes")] = "bfloat16,float32",
    new_tokens: Annotated[int, typer.Option(help="tokens per decode run")] = 64,
    repeats: Annotated[int, typer.Option(help="measured runs per setting (median)")] = 3,
    samples: Annotated[int, typer.Option(help="n for the sampled best-of-N run (0 = skip)")] = 4,
    llamacpp: Annotated[
        bool, typer.Option("--llamacpp/--no-llamacpp", help="also measure the llama.cpp server")
    ] = True,
) -> None:
    """Measure and write the report."""
    import torch

    from toolrm_agent.models import LocalChatModel, resolve_model
    from toolrm_agent.models.local_chat import DType, clear_model_cache

    path = resolve_model(model)
    report: dict[str, Any] = {
        "model": model,
        "model_dir": str(path),
        "machine": {
            "cpu": _cpu_name(),
            "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "load_avg_before": list(os.getloadavg()),
            "note": "shared machine: other engineers' jobs may run at the same time",
        },
        "settings": {"new_tokens": new_tokens, "repeats": repeats, "samples": samples},
        "results": {},
    }
    # Load every dtype first, then interleave the runs (bf16, fp32, bf16, ...): on a
    # shared machine the load changes by the minute, and interleaving exposes both
    # dtypes to the same conditions.
    clear_model_cache()
    models: dict[str, Any] = {}
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for dtype in [d.strip() for d in dtypes.split(",") if d.strip()]:
        llm = LocalChatModel(model_path=str(path), torch_dtype=cast(DType, dtype), max_new_tokens=new_tokens)
        started = time.perf_counter()
        llm.load()
        report["results"][dtype] = {"load_seconds": round(time.perf_counter() - started, 2)}
        console.print(f"[bold]{dtype}[/]: loaded in {report['results'][dtype]['load_seconds']}s; warming up")
        _decode_once(llm, 8)
        models[dtype] = llm
        runs[dtype] = {"decode": [], "call": [], "sampled": []}
    server = None
    if llamacpp:
        from toolrm_agent.integrations.llamacpp_server import (
            LlamaCppServerConfig,
            lenient_chat_model,
            start_llamacpp_server,
        )

        started = time.perf_counter()
        server = start_llamacpp_server(LlamaCppServerConfig(model=model, n_parallel=max(samples, 1)))
        report["results"]["llamacpp"] = {"load_seconds": round(time.perf_counter() - started, 2),
                                         "gguf": str(server.gguf)}
        client = lenient_chat_model(server, max_tokens=new_tokens)
        console.print(f"[bold]llamacpp[/]: ready in {report['results']['llamacpp']['load_seconds']}s; warming up")
        _server_decode_once(client, 8)
        models["llamacpp"] = client
        runs["llamacpp"] = {"decode": [], "call": [], "sampled": []}
    try:
        for i in range(repeats):
            for name, llm in models.items():
                if name == "llamacpp":
                    runs[name]["decode"].append(_server_decode_once(llm, new_tokens))
                    runs[name]["call"].append(_server_call_once(llm))
                    if samples > 1:
                        runs[name]["sampled"].append(_server_call_once(llm, n=samples, seed=i))
                else:
                    runs[name]["decode"].append(_decode_once(llm, new_tokens))
                    runs[name]["call"].append(_call_once(llm))
                    if samples > 1:
                        runs[name]["sampled"].append(
                            _call_once(llm, n=samples, temperature=0.7, top_p=0.95, seed=i)
                        )
                console.print(f"  round {i + 1}/{repeats} {name}: done")
    finally:
        if server is not None:
            server.stop()
    for dtype, r in runs.items():
        decode, call, sampled = r["decode"], r["call"], r["sampled"]
        entry = report["results"][dtype]
        entry.update(
            {
                "prompt_tokens": decode[0]["prompt_tokens"],
                "decode_tokens_per_second": _median(decode, "tokens_per_second"),
                "decode_seconds": _median(decode, "seconds"),
                "call_tokens_per_second": _median(call, "tokens_per_second"),
                "call_seconds": _median(call, "seconds"),
                "call_output_tokens": _median(call, "output_tokens"),
                "call_parsed_fraction": sum(x["calls_parsed"] for x in call) / len(call),
                "call_example": call[0]["first_text"],
                "runs": {
                    "decode": decode,
                    "call": [{k: v for k, v in x.items() if k != "first_text"} for x in call],
                },
            }
        )
        if sampled:
            entry["sampled_n"] = samples
            entry["sampled_tokens_per_second"] = _median(sampled, "tokens_per_second")
            entry["sampled_seconds"] = _median(sampled, "seconds")
            entry["runs"]["sampled"] = [
                {k: v for k, v in x.items() if k != "first_text"} for x in sampled
            ]
    clear_model_cache()
    report["machine"]["load_avg_after"] = list(os.getloadavg())
    results = report["results"]
    if results:
        report["fastest"] = max(results, key=lambda d: results[d]["decode_tokens_per_second"])
        base = next(iter(results))
        report["speedup_vs"] = {
            "baseline": base,
            **{
                name: {
                    "decode": round(e["decode_tokens_per_second"] / results[base]["decode_tokens_per_second"], 2),
                    "call": round(e["call_tokens_per_second"] / results[base]["call_tokens_per_second"], 2),
                }
                for name, e in results.items()
            },
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    table = Table(
        title=f"{model} on {report['machine']['cpu']} ({report['machine']['cores']} cores, shared)"
    )
    for col in ("backend", "load s", "decode tok/s", "call tok/s", "call s", f"n={samples} tok/s"):
        table.add_column(col)
    for dtype, e in results.items():
        table.add_row(
            dtype,
            str(e["load_seconds"]),
            str(e["decode_tokens_per_second"]),
            str(e["call_tokens_per_second"]),
            str(e["call_seconds"]),
            str(e.get("sampled_tokens_per_second", "-")),
        )
    console.print(table)
    console.print(f"wrote {out}")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    app()
