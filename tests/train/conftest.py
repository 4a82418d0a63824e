"""Hand-made training records for the data-stage tests."""

from __future__ import annotations

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
