"""Hand-made training records for the data-stage tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from train.records import GroundTruthCall, TrainRecord, openai_tool

WEATHER = openai_tool(
    "get_weather",
    "Current weather of a city",
    {"city": {"type": "string", "description": "City name"},
     "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
     "days": {"type": "integer", "description": "Forecast days"}},
    ["city"],
)
STOCK = openai_tool(
    "get_stock_price",
    "Latest price of a stock",
    {"symbol": {"type": "string", "description": "Ticker symbol"}},
    ["symbol"],
)


def make_record(id: str = "t/s/0/0", *, calls: list[tuple[str, dict]] | None = None,
                text: str = "What is the weather in Paris and in Berlin, in fahrenheit?",
                tools: list | None = None, no_call: bool = False, source: str = "t") -> TrainRecord:
    calls = [] if no_call else (calls if calls is not None else [
        ("get_weather", {"city": "Paris", "unit": "fahrenheit"}),
        ("get_weather", {"city": "Berlin", "unit": "fahrenheit"}),
    ])
    return TrainRecord(
        id=id, source=source, subset="s", tools=tools or [WEATHER, STOCK],
        messages=[{"role": "user", "content": text}],
        calls=[GroundTruthCall(name=n, arguments=a) for n, a in calls], no_call=no_call,
    )


@pytest.fixture
def record() -> TrainRecord:
    return make_record()


def write_dataset(folder: Path, n: int = 12) -> Path:
    """A user dataset in the OpenAI tools format (one conversation per line)."""
    folder.mkdir(parents=True, exist_ok=True)
    cities = ["Paris", "Berlin", "Rome", "Madrid", "Lisbon", "Vienna", "Prague", "Oslo",
              "Dublin", "Athens", "Warsaw", "Zurich"]
    with (folder / "chats.jsonl").open("w") as fh:
        for i in range(n):
            a, b = cities[i % len(cities)], cities[(i + 3) % len(cities)]
            calls = [{"id": f"c{i}", "type": "function",
                      "function": {"name": "get_weather", "arguments": json.dumps({"city": a, "days": i + 1})}}]
            if i % 3 == 0:
                calls.append({"id": f"d{i}", "type": "function",
                              "function": {"name": "get_weather", "arguments": json.dumps({"city": b, "days": i + 1})}})
            fh.write(json.dumps({
                "tools": [WEATHER, STOCK],
                "messages": [{"role": "user", "content": f"Forecast for {a}" + (f" and {b}" if i % 3 == 0 else "")
                              + f" for {i + 1} days please"},
                             {"role": "assistant", "content": "", "tool_calls": calls}],
            }) + "\n")
    return folder


@pytest.fixture(scope="session")
def pref_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small finished `toolrm data build` folder (records, pairs, parquet)."""
    from train.build import BuildConfig, DataBuild

    root = tmp_path_factory.mktemp("pref")
    src = write_dataset(root / "mydata", n=12)
    DataBuild(BuildConfig(sources=(str(src),), target_pairs=60), root / "out", echo=lambda _: None).run()
    return root / "out"
