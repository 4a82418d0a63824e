"""Benchmark a vLLM OpenAI-compatible server the way the production path uses it.

::

    # a server you started yourself
    .venv/bin/toolrm bench vllm --base-url http://127.0.0.1:8000/v1 --out out/vllm.json
    # or let the script start one from .venv-vllm on the offline Qwen model (times startup)
    .venv/bin/toolrm bench vllm --start --parser hermes --out out/vllm-hermes.json

Measures
    * ``startup_s``: process start to ``/v1/models`` answering (``--start`` only);
    * ``throughput``: output tokens per second with 1 and with 8 concurrent requests of
      ``--max-tokens`` tokens each (``ignore_eos``, so every request generates exactly that);
    * ``n``: whether ``n=4`` is honoured by the server (choices returned), what LangChain's
      ``bind_tools(...).invoke()`` returns for ``ChatOpenAI(n=4)`` (one message), and what
      :func:`~toolrm_agent.integrations.openai_server.sample_proposals` returns (4, in one
      request);
    * ``tool_calls``: for a few one-tool questions, under each ``tool_choice`` (``auto``,
      ``required``, the named function, ``none``), how many answers the server returned
      as ``tool_calls``; under ``none`` (the server's parser is skipped) how the model wrote
      its calls: inside ``<tool_call>`` tags (what the stock ``hermes`` parser reads), as
      bare or fenced JSON, or not at all.

Every request is bounded (``--timeout`` seconds); the script sends only to the given
server (use a loopback address).
"""

from __future__ import annotations

import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "convert_currency",
            "description": "Convert an amount of money between currencies.",
            "parameters": {
                "type": "object",
                "properties": {
                    "amount": {"type": "number"},
                    "from_currency": {"type": "string"},
                    "to_currency": {"type": "string"},
                },
                "required": ["amount", "from_currency", "to_currency"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "calculate_area",
            "description": "Area of a rectangle.",
            "parameters": {
                "type": "object",
                "properties": {"width": {"type": "number"}, "height": {"type": "number"}},
                "required": ["width", "height"],
            },
        },
    },
]

QUESTIONS: list[tuple[str, str]] = [
    ("What's the weather in Paris in celsius?", "get_weather"),
    ("How much is 150 US dollars in euros?", "convert_currency"),
    ("What is the area of a 3 by 4.5 rectangle?", "calculate_area"),
    ("Is it raining in Tokyo right now?", "get_weather"),
]

THROUGHPUT_PROMPT = "Write a Python function that checks whether a string is a palindrome."


app = typer.Typer(add_completion=False, help=__doc__.splitlines()[0] if __doc__ else None)


@app.command()
def main(
    out: Annotated[Path, typer.Option(help="Where to write the JSON report.")],
    base_url: Annotated[
        str | None, typer.Option(help="The server's OpenAI base URL (.../v1).")
    ] = None,
    start: Annotated[
        bool, typer.Option(help="Start a server from .venv-vllm; time startup.")
    ] = False,
    parser: Annotated[
        str, typer.Option(help="--tool-call-parser of the started server (else a label).")
    ] = "toolrm_lenient",
    model: Annotated[str | None, typer.Option(help="Served model; default: the first.")] = None,
    max_tokens: Annotated[int, typer.Option(help="Output tokens per throughput request.")] = 128,
    concurrency: Annotated[str, typer.Option(help="Concurrency levels, comma separated.")] = "1,8",
    rounds: Annotated[int, typer.Option(help="Requests per worker at each level.")] = 2,
    timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 300.0,
) -> None:
    """Startup time, output tokens/s at 1 and 8 concurrent requests, n=4, tool calls."""
    if bool(base_url) == start:
        raise typer.BadParameter("give exactly one of --base-url or --start")
    server = None
    report: dict[str, Any] = {"parser": parser, "startup_s": None}
    if start:
        from toolrm_agent.integrations.vllm_server import VLLMServerConfig, start_vllm_server
        from toolrm_agent.models import resolve_model

        config = VLLMServerConfig(model=resolve_model("default"), tool_call_parser=parser)
        console.print(f"starting vLLM ({parser}) ...")
        server = start_vllm_server(config)
        base_url = server.base_url
        report["startup_s"] = round(server.startup_s, 1)
        report["server_log"] = str(server.log_path)
        console.print(f"ready in {server.startup_s:.1f} s at {base_url}")
    assert base_url is not None  # given (checked above) or set by the started server
    try:
        report.update(_bench(base_url, model, max_tokens, concurrency, rounds, timeout))
    finally:
        if server is not None:
            server.stop()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    _print(report)
    console.print(f"wrote {out}")


def _bench(
    base_url: str, model: str | None, max_tokens: int, concurrency: str, rounds: int, timeout: float
) -> dict[str, Any]:
    from openai import OpenAI

    from toolrm_agent.integrations.openai_server import normalize_base_url

    base_url = normalize_base_url(base_url)
    client = OpenAI(base_url=base_url, api_key="EMPTY", timeout=timeout, max_retries=0)
    model = model or client.models.list().data[0].id
    report: dict[str, Any] = {"base_url": base_url, "model": model, "max_tokens": max_tokens}

    _complete(client, model, 8)  # warm-up, not timed
    report["throughput"] = {
        str(level): _throughput(client, model, level, rounds, max_tokens)
        for level in (int(x) for x in concurrency.split(","))
    }
    report["n"] = _n_check(client, base_url, model, timeout)
    report["tool_calls"] = _tool_call_check(client, model)
    return report


def _complete(client: Any, model: str, max_tokens: int) -> tuple[int, float]:
    t0 = time.perf_counter()
    response = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": THROUGHPUT_PROMPT}],
        max_tokens=max_tokens,
        temperature=0.0,
        extra_body={"ignore_eos": True},
    )
    return response.usage.completion_tokens, time.perf_counter() - t0


def _throughput(
    client: Any, model: str, level: int, rounds: int, max_tokens: int
) -> dict[str, Any]:
    console.print(f"throughput: {level} concurrent x {rounds} rounds x {max_tokens} tokens ...")
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=level) as pool:
        results = list(
            pool.map(lambda _: _complete(client, model, max_tokens), range(level * rounds))
        )
    seconds = time.perf_counter() - t0
    tokens = sum(r[0] for r in results)
    return {
        "requests": len(results),
        "output_tokens": tokens,
        "seconds": round(seconds, 2),
        "output_tokens_per_s": round(tokens / seconds, 1),
        "mean_latency_s": round(statistics.mean(r[1] for r in results), 2),
    }


def _n_check(client: Any, base_url: str, model: str, timeout: float) -> dict[str, Any]:
    from langchain_core.callbacks import BaseCallbackHandler

    from toolrm_agent.integrations.openai_server import chat_model_for_server, sample_proposals

    console.print("n=4 ...")
    question = [{"role": "user", "content": QUESTIONS[0][0]}]
    raw = client.chat.completions.create(
        model=model, messages=question, tools=TOOLS, n=4, temperature=0.7, max_tokens=128
    )
    llm = chat_model_for_server(model, base_url, timeout_s=timeout, max_tokens=128)
    llm_n4 = chat_model_for_server(
        model, base_url, timeout_s=timeout, max_tokens=128, n=4, temperature=0.7
    )
    invoked = llm_n4.bind_tools(TOOLS).invoke(question)

    class Count(BaseCallbackHandler):
        requests = 0

        def on_chat_model_start(self, serialized: Any, messages: Any, **kw: Any) -> None:
            Count.requests += len(messages)

    samples = sample_proposals(llm, question, TOOLS, n=4, config={"callbacks": [Count()]})
    return {
        "server_choices_for_n4": len(raw.choices),
        "langchain_invoke_returns": type(invoked).__name__,
        "sample_proposals_messages": len(samples),
        "sample_proposals_requests": Count.requests,
        "sample_proposals_with_tool_calls": sum(bool(m.tool_calls) for m in samples),
    }


def _tool_call_check(client: Any, model: str) -> dict[str, Any]:
    from toolrm_agent.integrations.vllm_tool_parser import extract_tool_calls_lenient

    console.print("tool calls under each tool_choice ...")
    names = [t["function"]["name"] for t in TOOLS]
    out: dict[str, Any] = {"questions": len(QUESTIONS)}
    for label in ("auto", "required", "named", "none"):
        right, called, styles = 0, 0, {"tagged": 0, "json": 0, "bfcl": 0, "no_call": 0}
        for question, expected in QUESTIONS:
            choice: Any = label
            if label == "named":
                choice = {"type": "function", "function": {"name": expected}}
            message = (
                client.chat.completions.create(
                    model=model,
                    messages=[{"role": "user", "content": question}],
                    tools=TOOLS,
                    tool_choice=choice,
                    temperature=0.0,
                    max_tokens=160,
                )
                .choices[0]
                .message
            )
            calls = [c.function.name for c in message.tool_calls or []]
            called += bool(calls)
            right += calls[:1] == [expected]
            if label == "none":
                found = extract_tool_calls_lenient(message.content or "", tool_names=names)
                key = {"hermes": "tagged", "none": "no_call"}.get(found.style, found.style)
                styles[key] += 1
        row: dict[str, Any] = {"answers_with_tool_calls": called, "right_function_first": right}
        if label == "none":
            row["raw_text_styles"] = styles
        out[label] = row
    return out


def _print(report: dict[str, Any]) -> None:
    table = Table(title=f"vLLM at {report['base_url']} ({report['parser']})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    if report.get("startup_s") is not None:
        table.add_row("startup (s)", str(report["startup_s"]))
    for level, row in report["throughput"].items():
        table.add_row(f"output tok/s, {level} concurrent", str(row["output_tokens_per_s"]))
    for key, value in report["n"].items():
        table.add_row(key, str(value))
    calls = report["tool_calls"]
    for label in ("auto", "required", "named", "none"):
        table.add_row(
            f"tool_choice={label}: answers with tool_calls",
            f"{calls[label]['answers_with_tool_calls']}/{calls['questions']}",
        )
    table.add_row("tool_choice=none: raw styles", json.dumps(calls["none"]["raw_text_styles"]))
    console.print(table)


if __name__ == "__main__":
    app()
