"""ToolSpec from LangChain tools, OpenAI function dicts and BFCL function docs."""

from __future__ import annotations

import copy
from typing import Any, Literal

import pytest
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.errors import ToolRMError, ToolSpecError
from toolrm_agent.core.specs import MAX_SCHEMA_NESTING, ToolSpec, normalize_schema, spec_index, to_specs


@tool
def get_weather(city: str, unit: Literal["c", "f"] = "c", days: int | None = None) -> str:
    """Get the weather forecast for a city."""
    return f"{city}: sunny"


class SearchFlights(BaseModel):
    """Search flights between two airports."""

    origin: str = Field(description="IATA code of the departure airport")
    destination: str
    passengers: int = 1


BFCL_DOC = {
    "name": "geometry.area",
    "description": "Area of a shape.",
    "parameters": {
        "type": "dict",
        "properties": {
            "base": {"type": "integer", "description": "The base."},
            "ratio": {"type": "float"},
            "point": {"type": "tuple", "items": {"type": "float"}},
            "shape": {
                "type": "dict",
                "properties": {
                    "kind": {"type": "string", "enum": ["tri", "rect"]},
                    "sides": {"type": "array", "items": {"type": "integer"}},
                },
                "required": ["kind"],
            },
            "extra": {"type": "any"},
            "flags": {
                "type": "array",
                "items": {"type": "dict", "properties": {"on": {"type": "boolean"}}},
            },
        },
        "required": ["base"],
    },
}


def test_from_langchain_tool() -> None:
    spec = ToolSpec.from_langchain(get_weather)
    assert spec.name == "get_weather"
    assert spec.description.startswith("Get the weather forecast")
    assert spec.required == ["city"]
    assert spec.properties["city"]["type"] == "string"
    assert spec.properties["unit"]["enum"] == ["c", "f"]
    assert spec.properties["unit"]["default"] == "c"
    assert {"type": "null"} in spec.properties["days"]["anyOf"]


def test_from_langchain_pydantic_model() -> None:
    spec = ToolSpec.from_langchain(SearchFlights)
    assert spec.name == "SearchFlights"
    assert spec.required == ["origin", "destination"]
    assert spec.properties["origin"]["description"] == "IATA code of the departure airport"
    assert spec.properties["passengers"]["type"] == "integer"


def test_from_langchain_refuses_what_is_not_a_tool() -> None:
    with pytest.raises(ToolSpecError, match="cannot turn"):
        ToolSpec.from_langchain(42)


def test_from_openai_wrapped_and_bare_are_the_same() -> None:
    fn = {
        "name": "get_time",
        "description": "Current time.",
        "parameters": {
            "type": "object",
            "properties": {"tz": {"type": "string"}},
            "required": ["tz"],
        },
    }
    wrapped = ToolSpec.from_openai({"type": "function", "function": fn})
    bare = ToolSpec.from_openai(fn)
    assert wrapped == bare
    assert bare.required == ["tz"]
    assert ToolSpec.from_openai(bare.to_openai()) == bare


def test_from_openai_without_parameters_takes_no_arguments() -> None:
    spec = ToolSpec.from_openai({"name": "ping"})
    assert spec.parameters == {"type": "object", "properties": {}}
    assert spec.properties == {} and spec.required == []


@pytest.mark.parametrize(
    "bad", [{}, {"description": "x"}, {"type": "function", "function": {"name": 3}}]
)
def test_from_openai_without_a_name_is_a_clear_error(bad: dict) -> None:
    with pytest.raises(ToolSpecError, match="no 'name'"):
        ToolSpec.from_openai(bad)


def test_from_bfcl_maps_python_type_names_everywhere() -> None:
    original = copy.deepcopy(BFCL_DOC)
    spec = ToolSpec.from_bfcl(BFCL_DOC)
    assert BFCL_DOC == original  # the input is not mutated
    assert spec.name == "geometry.area"
    assert spec.parameters["type"] == "object"
    props = spec.properties
    assert props["base"]["type"] == "integer"
    assert props["ratio"]["type"] == "number"
    assert props["point"] == {"type": "array", "items": {"type": "number"}}
    assert props["shape"]["type"] == "object"
    assert props["shape"]["properties"]["sides"]["items"]["type"] == "integer"
    assert props["shape"]["properties"]["kind"]["enum"] == ["tri", "rect"]
    assert "type" not in props["extra"]  # "any" means unconstrained
    assert props["flags"]["items"]["type"] == "object"
    assert props["flags"]["items"]["properties"]["on"]["type"] == "boolean"
    assert spec.required == ["base"]


def test_normalize_schema_walks_any_of_and_additional_properties() -> None:
    schema = {
        "type": "dict",
        "additionalProperties": {"type": "float"},
        "properties": {"x": {"anyOf": [{"type": "int"}, {"type": "str"}]}},
    }
    out = normalize_schema(schema)
    assert out["type"] == "object"
    assert out["additionalProperties"] == {"type": "number"}
    assert out["properties"]["x"]["anyOf"] == [{"type": "integer"}, {"type": "string"}]
    assert schema["type"] == "dict"


def test_to_specs_takes_any_mix() -> None:
    existing = ToolSpec(name="noop")
    specs = to_specs(
        [existing, get_weather, BFCL_DOC, {"type": "function", "function": {"name": "f"}}]
    )
    assert [s.name for s in specs] == ["noop", "get_weather", "geometry.area", "f"]
    assert specs[0] is existing
    assert to_specs(None) == ()


def test_spec_index_finds_dotted_names_by_their_fc_alias() -> None:
    dotted = ToolSpec(name="math.factorial")
    index = spec_index([dotted, ToolSpec(name="get_time")])
    assert index["math.factorial"] is dotted
    assert index["math_factorial"] is dotted
    assert "math_factorial" not in [s.name for s in index.values()]


def test_spec_index_prefers_a_real_name_over_an_alias() -> None:
    dotted, underscored = ToolSpec(name="a.b"), ToolSpec(name="a_b")
    assert spec_index([dotted, underscored])["a_b"] is underscored
    assert spec_index([underscored, dotted])["a_b"] is underscored



def _nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "str"}
    for _ in range(levels):
        schema = {"type": "dict", "properties": {"x": schema}, "required": ["x"]}
    return schema


def _nested_lists(levels: int) -> dict[str, Any]:
    values: list[Any] = []
    for _ in range(levels):
        values = [values]
    return {"type": "object", "properties": {"x": {"enum": values}}}


@pytest.mark.parametrize("schema", [_nested(5_000), _nested_lists(5_000)], ids=["properties", "lists"])
def test_a_very_deep_schema_is_a_tool_spec_error_not_a_recursion_error(schema: dict[str, Any]) -> None:
    with pytest.raises(ToolSpecError, match=f"nested deeper than {MAX_SCHEMA_NESTING} levels"):
        normalize_schema(schema)
    tool_dict = {"type": "function", "function": {"name": "deep", "parameters": schema}}
    with pytest.raises(ToolSpecError):
        to_specs([tool_dict])
    with pytest.raises(ToolSpecError):
        JudgeContext.build([], [tool_dict])
    assert issubclass(ToolSpecError, ToolRMError)


def test_a_schema_that_holds_itself_is_a_tool_spec_error() -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    schema["properties"]["self"] = schema
    with pytest.raises(ToolSpecError, match="holding itself"):
        normalize_schema(schema)


def test_a_deep_but_allowed_schema_is_normalised_at_every_level() -> None:
    out = normalize_schema(_nested(99))  # 199 levels of dicts: under the limit
    node, levels = out, 0
    while "properties" in node:
        assert node["type"] == "object"
        node, levels = node["properties"]["x"], levels + 1
    assert levels == 99 and node == {"type": "string"}
