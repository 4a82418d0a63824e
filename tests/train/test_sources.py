"""The dataset readers on hand-made fixtures in each real format, and on the real data."""

from __future__ import annotations

import collections
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from train.records import TrainRecord
from train.sources import READERS, discover, read_source
from train.sources import seal_tools as seal_tools_module

REAL = Path("/work/shared/data/train-sources")


def write_gz(path: Path, data: Any, *, lines: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        if lines:
            f.writelines(json.dumps(item) + "\n" for item in data)
        else:
            json.dump(data, f)
    return path


def names(record: TrainRecord) -> list[str]:
    return sorted(t["function"]["name"] for t in record.tools)


def tool(record: TrainRecord, name: str) -> dict[str, Any]:
    return next(t["function"] for t in record.tools if t["function"]["name"] == name)


def roles(record: TrainRecord) -> list[str]:
    return [m["role"] for m in record.messages]


def calls(record: TrainRecord) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, c.arguments) for c in record.calls]


# ------------------------------------------------------------------------ hammerbench


def _hb_tool(name: str, *params: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"{name} tool",
        "parameters": {
            "type": "object",
            "properties": {p: {"type": "string", "description": p} for p in params},
            "required": list(params),
        },
    }


def test_hammerbench(tmp_path: Path) -> None:
    root = tmp_path / "hammerbench"
    violation = _hb_tool("Nav.queryViolation", "city", "plate_number")
    hotel = _hb_tool("Travel.hotelAmenities", "place")
    fc = "function call"
    asked_which_city = [
        {"role": "user", "content": "Check my traffic violations"},
        {"role": fc, "content": {"name": "Nav.queryViolation", "arguments": {}}},
        {"role": "assistant", "content": "Which city?"},
    ]
    multi = {
        "messages": [
            *asked_which_city,
            {"role": "user", "content": "Guangzhou."},
            {
                "role": fc,
                "content": {"name": "Nav.queryViolation", "arguments": {"city": "Guangzhou"}},
            },
        ],
        "multiple_tools": [violation, hotel],
        "single_tool": violation,
        "id": 0,
    }
    shift = {
        "messages": [
            *asked_which_city,
            {"role": "user", "content": "Oh no, book me a flight"},
            {"role": "assistant", "content": "Sorry, no tool is suitable for your request."},
        ],
        "multiple_tools": [violation],
    }
    single = {
        "messages": [
            {"role": "user", "content": "Violations of B123 in Guangzhou?"},
            {
                "role": fc,
                "content": {"name": "Nav.queryViolation", "arguments": {"city": "Guangzhou"}},
            },
        ],
        "multiple_tools": [hotel],
    }
    write_gz(root / "en/multi-turn/HammerBench_Based.json.gz", [multi])
    write_gz(root / "en/multi-turn/HammerBench_IS.json.gz", [shift])
    write_gz(root / "en/single-turn/ir_ST_Perfect.json.gz", [single])

    records = {r.id: r for r in READERS["hammerbench"](root)}
    assert sorted(records) == [
        "hammerbench/HammerBench_Based/0/0",
        "hammerbench/HammerBench_Based/0/1",
        "hammerbench/HammerBench_IS/0/0",
        "hammerbench/HammerBench_IS/0/1",
        "hammerbench/ir_ST_Perfect/0/0",
    ]
    second = records["hammerbench/HammerBench_Based/0/1"]
    assert calls(second) == [("Nav.queryViolation", {"city": "Guangzhou"})]
    assert roles(second) == ["user", "assistant", "user"]  # the earlier call is not history
    assert names(second) == ["Nav.queryViolation", "Travel.hotelAmenities"]
    assert tool(second, "Nav.queryViolation")["parameters"]["required"] == ["city", "plate_number"]
    refusal = records["hammerbench/HammerBench_IS/0/1"]
    assert refusal.no_call and roles(refusal) == ["user", "assistant", "user"]
    irrelevant = records["hammerbench/ir_ST_Perfect/0/0"]
    assert irrelevant.no_call and not irrelevant.calls and roles(irrelevant) == ["user"]


# ------------------------------------------------------------------------- seal-tools


def _seal_tool(name: str, field: str) -> dict[str, Any]:
    return {
        "api_name": name,
        "api_description": f"{name} api",
        "field": field,
        "parameters": {
            "location": {"type": "str", "description": "where"},
            "count": {"type": "int", "description": "how many", "default": 3},
        },
        "required": ["location"],
        "responses": {"result": {"type": "str", "description": "the result"}},
    }


def test_seal_tools(tmp_path: Path) -> None:
    root = tmp_path / "seal-tools"
    library = [_seal_tool(f"health{i}", "Health/Workforce") for i in range(4)]
    library += [_seal_tool(f"other{i}", "Other/Field") for i in range(4)]
    write_gz(root / "tool.jsonl.gz", library, lines=True)
    queries = [
        {
            "id": "dev-easy-0",
            "query": "How many nurses in France?",
            "calling": [
                {
                    "api": "health0",
                    "parameters": {"location": "France"},
                    "responses": ["API_call_0"],
                }
            ],
        },
        {
            "id": "dev-difficult-0",
            "query": "Look up France, then use the answer",
            "calling": [
                {
                    "api": "health1",
                    "parameters": {"location": "France"},
                    "responses": ["API_call_0"],
                },
                {
                    "api": "other0",
                    "parameters": {"location": "API_call_0 response"},
                    "responses": [],
                },
            ],
        },
        {
            "id": "dev-difficult-1",
            "query": "Only nested",
            "calling": [
                {"api": "other1", "parameters": {"location": ["API_call_3"]}, "responses": []}
            ],
        },
    ]
    write_gz(root / "dev.jsonl.gz", queries, lines=True)
    seal_tools_module.load_library.cache_clear()

    records = list(READERS["seal-tools"](root))
    assert [r.id for r in records] == ["seal-tools/dev/0/0", "seal-tools/dev/1/0"]
    easy, nested = records
    assert calls(easy) == [("health0", {"location": "France"})]
    assert len(easy.tools) == 4 and "health0" in names(easy)
    assert set(names(easy)) <= {f"health{i}" for i in range(4)}  # same field first
    assert calls(nested) == [("health1", {"location": "France"})]  # the nested call is dropped
    assert {"health1", "other0"} <= set(names(nested)) and len(nested.tools) == 4
    params = tool(easy, "health0")["parameters"]
    assert params["properties"]["location"]["type"] == "string"
    assert params["properties"]["count"] == {
        "type": "integer",
        "description": "how many",
        "default": 3,
    }
    assert params["required"] == ["location"]
    assert [r.tools for r in READERS["seal-tools"](root)] == [r.tools for r in records]  # seeded


# ---------------------------------------------------------------------------- nestful


def test_nestful(tmp_path: Path) -> None:
    root = tmp_path / "nestful"
    specs = [
        {
            "name": "calculate_route",
            "description": "Best route",
            "query_parameters": {
                "locations": {"type": "array", "required": True, "description": "stops"},
                "mode": {"type": "String", "required": False, "description": "car or bike"},
            },
            "output_parameters": {"distance": {"type": "number", "description": "km"}},
        },
        {
            "name": "find_song_lyrics",
            "description": "Lyrics",
            "query_parameters": {"title": {"type": "string", "required": True, "description": "t"}},
        },
        {
            "name": "calculate_pace",
            "description": "Pace",
            "query_parameters": {
                "distance": {"type": "number", "required": True, "description": "d"}
            },
        },
    ] + [{"name": f"extra{i}", "description": "x", "query_parameters": {}} for i in range(3)]
    data = [
        {
            "input": "Route New York to Boston, lyrics of Bohemian Rhapsody, then my pace",
            "output": [
                {
                    "name": "calculate_route",
                    "arguments": {"locations": ["NY", "Boston"]},
                    "label": "var1",
                },
                {
                    "name": "find_song_lyrics",
                    "arguments": {"title": "Bohemian Rhapsody"},
                    "label": "var2",
                },
                {
                    "name": "calculate_pace",
                    "arguments": {"distance": "$var1.distance$"},
                    "label": "var3",
                },
                {"name": "var_result", "arguments": {"route": "$var1$", "pace": "$var3$"}},
            ],
        }
    ]
    write_gz(root / "non-executable-glaive-data.json.gz", data)
    write_gz(root / "non-executable-glaive-spec.json.gz", specs)
    sgd_spec = {
        "name": "Buses.FindBus",
        "description": "Find a bus",
        "arguments": {
            "origin": {"description": "from", "required": True, "allowed_values": []},
            "fare": {
                "description": "fare",
                "required": False,
                "default_value": "Economy",
                "allowed_values": ["Economy", "Flexible"],
            },
        },
        "output_parameters": {},
    }
    sgd_data = [
        {
            "input": "Bus from Paris",
            "output": [
                {"name": "Buses.FindBus", "arguments": {"origin": "Paris"}, "label": "var1"},
                {"name": "var_result", "arguments": {"bus": "$var1$"}},
            ],
        }
    ]
    write_gz(root / "non-executable-sgd-data.json.gz", sgd_data)
    write_gz(root / "non-executable-sgd-spec.json.gz", [sgd_spec])

    glaive, sgd = list(READERS["nestful"](root))
    assert glaive.id == "nestful/non-executable-glaive/0/0"
    assert calls(glaive) == [
        ("calculate_route", {"locations": ["NY", "Boston"]}),
        ("find_song_lyrics", {"title": "Bohemian Rhapsody"}),
    ]
    assert len(glaive.tools) == 5  # the 3 used functions + 2 distractors
    assert {"calculate_route", "find_song_lyrics", "calculate_pace"} <= set(names(glaive))
    route = tool(glaive, "calculate_route")["parameters"]
    assert route["required"] == ["locations"] and route["properties"]["mode"]["type"] == "string"
    assert "required" not in route["properties"]["locations"]
    bus = tool(sgd, "Buses.FindBus")["parameters"]
    assert bus["required"] == ["origin"]
    assert bus["properties"]["fare"] == {
        "type": "string",
        "description": "fare",
        "enum": ["Economy", "Flexible"],
        "default": "Economy",
    }
    assert "enum" not in bus["properties"]["origin"]


# ----------------------------------------------------------------------------- toolrl

_TOOLRL_SYSTEM = """You are a helpful multi-turn dialogue assistant.

**Available Tools**
In your response, you can use the following tools:
1. Name: Search Managers
Description: Search for managers by name
Parameters: {"name": {"description": "The manager's name", "type": "string", "default": ""}}
2. Name: Get Matches
Description: Matches of a day
Parameters: {"date": {"description": "The day", "type": "str", "default": ""}, \
"limit": {"description": "How many", "type": "int, optional", "default": 5}}

**Steps for Each Turn**
1. **Think:** Recall relevant context.

**Output Format**
<think> Your thoughts and reasoning </think>
<tool_call>
{"name": "Tool name", "parameters": {"Parameter name": "Parameter content"}}
</tool_call>
<response> AI's final response </response>
"""

_APIBANK_SYSTEM = """You are a helpful multi-turn dialogue assistant.

**Available Tools**
In your response, you can use the following tools:
1. QueryMeeting: The API for retrieving meeting details.
Parameters: {'user_name': {'type': 'str', 'description': 'Name of the user.'}}

**Steps for Each Turn**
1. **Think:** ...
"""


def test_toolrl(tmp_path: Path) -> None:
    root = tmp_path / "toolrl"
    history = (
        "**Dialogue Records History**\n<user> Matches today? </user>\n\n"
        "<think> use the tool </think>\n<tool_call>\n"
        '{"name": "Get Matches", "parameters": {"date": "01/02/2024"}}\n</tool_call>\n'
        '<obs> [{"name": "Get Matches", "results": {"matches": []}}] </obs>\n\n'
        "<think> answer </think>\n<response> No matches today. </response>\n\n"
        "<user> Thanks, and who manages Arsenal? </user>"
    )
    sft = [
        {
            "instruction": _TOOLRL_SYSTEM,
            "input": "**Dialogue Records History**\n<user> Find manager Alex Ferguson </user>",
            "output": "<think> The <tool_call> tag goes below. </think>\n<tool_call>\n"
            '{"name": "Search Managers", "parameters": {"name": "Alex Ferguson"}}\n'
            '{"name": "Get Matches", "parameters": {"date": "today"}}\n</tool_call>',
        },
        {
            "instruction": _TOOLRL_SYSTEM,
            "input": history,
            "output": "<think> no tool for that </think>\n<response> I cannot tell. </response>",
        },
    ]
    write_gz(root / "rlla_sft.json.gz", sft)
    bank = [
        {
            "system": _APIBANK_SYSTEM,
            "user": "**Dialogue Records History**\n<user>Query meeting of John</user>\n"
            "<user> Based on our conversation above, please only make one tool call.</user>\n",
            "answer": "[{'name': 'QueryMeeting', 'parameters': {'user_name': 'John'}}]",
            "other": "{'file': 'x', 'id': 0}",
        }
    ]
    write_gz(root / "api-bank/level-3-api_processed.json.gz", bank)

    records = {r.id: r for r in READERS["toolrl"](root)}
    assert sorted(records) == [
        "toolrl/level-3-api_processed/0/0",
        "toolrl/rlla_sft/0/0",
        "toolrl/rlla_sft/1/0",
    ]
    parallel = records["toolrl/rlla_sft/0/0"]
    assert calls(parallel) == [
        ("Search Managers", {"name": "Alex Ferguson"}),
        ("Get Matches", {"date": "today"}),
    ]
    assert parallel.messages == [{"role": "user", "content": "Find manager Alex Ferguson"}]
    assert names(parallel) == ["Get Matches", "Search Managers"]
    matches = tool(parallel, "Get Matches")["parameters"]
    assert matches["required"] == ["date"]  # the tool marks "limit" optional
    assert matches["properties"]["limit"] == {
        "type": "integer",
        "description": "How many",
        "default": 5,
    }
    assert tool(parallel, "Search Managers")["parameters"]["required"] == []

    text_only = records["toolrl/rlla_sft/1/0"]
    assert text_only.no_call and not text_only.calls
    assert roles(text_only) == ["user", "assistant", "tool", "assistant", "user"]
    call_turn, observation, answer = text_only.messages[1:4]
    assert call_turn["tool_calls"][0]["name"] == "Get Matches" and call_turn["content"] == ""
    assert observation["tool_call_id"] == call_turn["tool_calls"][0]["id"]
    assert json.loads(observation["content"]) == {"matches": []}
    assert answer == {"role": "assistant", "content": "No matches today."}
    assert not any(m["role"] == "system" for m in text_only.messages)

    bank_record = records["toolrl/level-3-api_processed/0/0"]
    assert calls(bank_record) == [("QueryMeeting", {"user_name": "John"})]
    assert tool(bank_record, "QueryMeeting")["parameters"]["required"] == ["user_name"]


# ------------------------------------------------------------------------- toolalpaca


def test_toolalpaca(tmp_path: Path) -> None:
    root = tmp_path / "toolalpaca"
    api = {
        "Name": "Axolotl",
        "Function_Description": {
            "getRandomImage": "A random image.\nParameters: {}\nOutput: An image.",
            "searchImages": "Search images.\nParameters: {"
            '"color": "Required. string. One of: [wild, albino]. The color.", '
            '"tags": "Array[string]. Tags to match.", "page": "integer. "}'
            "\nOutput: Images.\n - Format: application/json",
            "components": "",
        },
        "Instructions": ["Show me a random axolotl", "Find wild ones", "Find some", "Broken"],
        "Golden_Answers": [
            [{"Action": "getRandomImage", "Action_Input": "{}"}],
            [
                {"Action": "searchImages", "Action_Input": '{"color": "wild", "page": 1}'},
                {"Action": "getRandomImage", "Action_Input": "{}"},
            ],
            [{"Action": "getDetails", "Action_Input": '{"Question": "Which color?"}'}],
            [{"Action": "searchImages", "Action_Input": '{"color": ${a color}}'}],
        ],
    }
    write_gz(root / "eval_simulated.json.gz", [api])

    records = list(READERS["toolalpaca"](root))
    assert [r.id for r in records] == [
        "toolalpaca/eval_simulated/0/0",
        "toolalpaca/eval_simulated/1/0",
    ]
    assert calls(records[1]) == [("searchImages", {"color": "wild", "page": 1})]  # first step only
    assert names(records[0]) == ["getRandomImage", "searchImages"]
    search = tool(records[0], "searchImages")
    assert search["description"] == "Search images."
    assert search["parameters"]["required"] == ["color"]
    props = search["parameters"]["properties"]
    assert props["color"] == {
        "type": "string",
        "enum": ["wild", "albino"],
        "description": "The color.",
    }
    assert props["tags"] == {
        "type": "array",
        "items": {"type": "string"},
        "description": "Tags to match.",
    }
    assert props["page"] == {"type": "integer"}


# ----------------------------------------------------------------------------- openai


def test_openai_format(tmp_path: Path) -> None:
    root = tmp_path / "mydata"
    root.mkdir()
    weather = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather of a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    conversation = {
        "tools": [weather],
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            {"role": "assistant", "content": "Sunny."},
            {"role": "user", "content": "And Rome?"},
            {
                "role": "assistant",
                "content": "<tool_call>\n"
                '{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tool_call>',
            },
        ],
    }
    chat = {
        "tools": [weather["function"]],
        "messages": [
            {"role": "user", "content": "Tell me a joke"},
            {"role": "assistant", "content": "No."},
        ],
    }
    record_line = TrainRecord(
        id="mine/1",
        source="mine",
        tools=[weather],
        calls=[{"name": "get_weather", "arguments": {}}],
        messages=[{"role": "user", "content": "hi"}],
    ).model_dump()
    (root / "records.jsonl").write_text(
        "\n".join(json.dumps(x) for x in (conversation, chat, record_line)) + "\n"
    )

    assert discover([root]) == [("openai", root)]
    records = {r.id: r for r in read_source("openai", root)}
    assert sorted(records) == [
        "mine/1",
        "mydata/records/1/0",
        "mydata/records/1/1",
        "mydata/records/2/0",
    ]
    first, hermes = records["mydata/records/1/0"], records["mydata/records/1/1"]
    assert calls(first) == [("get_weather", {"city": "Paris"})]
    assert roles(first) == ["system", "user"]
    assert calls(hermes) == [("get_weather", {"city": "Rome"})]
    assert roles(hermes) == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert hermes.messages[2]["tool_calls"] == [
        {"id": "c1", "name": "get_weather", "arguments": {"city": "Paris"}}
    ]
    assert hermes.messages[3] == {"role": "tool", "content": "sunny", "tool_call_id": "c1"}
    joke = records["mydata/records/2/0"]
    assert joke.no_call and names(joke) == ["get_weather"]
    assert records["mine/1"].source == "mine"


# -------------------------------------------------------------------------- discovery


def test_discover(tmp_path: Path) -> None:
    for name in ("toolrl", "hammerbench", "notes"):
        (tmp_path / name).mkdir()
    (tmp_path / "custom").mkdir()
    (tmp_path / "custom" / "train.jsonl").write_text("")
    assert discover([tmp_path]) == [
        ("openai", tmp_path / "custom"),
        ("hammerbench", tmp_path / "hammerbench"),
        ("toolrl", tmp_path / "toolrl"),
    ]
    assert discover([tmp_path / "toolrl"]) == [("toolrl", tmp_path / "toolrl")]
    with pytest.raises(ValueError, match="notes.*known: hammerbench"):
        discover([tmp_path / "notes"])
    with pytest.raises(ValueError, match="unknown dataset"):
        read_source("nope", tmp_path)


# --------------------------------------------------------------------------- real data


@pytest.mark.skipif(not REAL.is_dir(), reason="the shared train-sources data is not here")
def test_real_sources() -> None:
    found = discover([REAL])
    assert {name for name, _ in found} == set(READERS) - {"openai"}
    ids: set[str] = set()
    for name, path in found:
        counts: collections.Counter[str] = collections.Counter()
        no_call: collections.Counter[str] = collections.Counter()
        for record in read_source(name, path):
            assert record.id not in ids, record.id
            ids.add(record.id)
            TrainRecord.model_validate(record.model_dump())
            record.context()
            counts[record.subset] += 1
            no_call[record.subset] += record.no_call
        assert sum(counts.values()) > 0, name
        for subset in sorted(counts):
            print(f"{name}/{subset}: {counts[subset]} records ({no_call[subset]} no_call)")
