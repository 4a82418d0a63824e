"""Tool specifications: what the agent was offered, as one typed model.

:class:`ToolSpec` holds a name, a description and a JSON-schema ``parameters`` object.
It is built from LangChain tools, OpenAI function dicts (``{"type": "function",
"function": {...}}`` or the bare function dict) and BFCL function docs (where the type
``dict`` means ``object``, ``float`` means ``number`` and ``tuple`` means ``array``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from toolrm_agent.core.errors import ToolSpecError

# BFCL (and other Python-flavoured) type names → JSON schema type names.
_TYPE_ALIASES: dict[str, str] = {
    "dict": "object",
    "float": "number",
    "double": "number",
    "int": "integer",
    "long": "integer",
    "str": "string",
    "bool": "boolean",
    "list": "array",
    "tuple": "array",
    "any": "",
}


class ToolSpec(BaseModel):
    """One function the agent may call."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}, "required": []}
    )

    @property
    def properties(self) -> dict[str, Any]:
        """The schema of each parameter by name."""
        props = self.parameters.get("properties") or {}
        return props if isinstance(props, dict) else {}

    @property
    def required(self) -> list[str]:
        """Names of the required parameters."""
        req = self.parameters.get("required") or []
        return [r for r in req if isinstance(r, str)]

    def to_openai(self) -> dict[str, Any]:
        """The spec as an OpenAI ``tools`` entry."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    @classmethod
    def from_openai(cls, spec: dict[str, Any]) -> ToolSpec:
        """From ``{"type": "function", "function": {...}}`` or a bare function dict."""
        fn = spec.get("function", spec) if spec.get("type") == "function" else spec
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise ToolSpecError(f"not a function spec (no 'name'): {str(spec)[:200]}")
        params = fn.get("parameters") or {"type": "object", "properties": {}}
        return cls(
            name=fn["name"],
            description=str(fn.get("description") or ""),
            parameters=normalize_schema(params),
        )

    @classmethod
    def from_bfcl(cls, doc: dict[str, Any]) -> ToolSpec:
        """From a BFCL function doc (``parameters.type == "dict"``)."""
        return cls.from_openai(doc)

    @classmethod
    def from_langchain(cls, tool: Any) -> ToolSpec:
        """From a LangChain ``BaseTool``, a decorated function, or a pydantic model."""
        from langchain_core.utils.function_calling import convert_to_openai_tool

        try:
            return cls.from_openai(convert_to_openai_tool(tool))
        except Exception as exc:  # noqa: BLE001 - convert_to_openai_tool raises many types
            raise ToolSpecError(f"cannot turn {tool!r} into a tool spec: {exc}") from exc


MAX_SCHEMA_NESTING = 200
"""A tool schema whose dicts and lists nest deeper than this is refused with a
:class:`~toolrm_agent.core.errors.ToolSpecError`: real schemas are a few levels deep, and a
deeper one would exhaust Python's recursion limit in copying, rendering and validation."""


def _nesting_depth(value: Any, limit: int) -> int:
    """How deep dicts and lists nest in ``value``, counted without recursion; stops (and
    returns ``limit + 1``) as soon as it passes ``limit``, so a cycle ends it too."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        depth += 1
        if depth > limit:
            return depth
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def normalize_schema(schema: Any) -> Any:
    """A deep copy of ``schema`` with Python/BFCL type names mapped to JSON schema.

    Raises :class:`~toolrm_agent.core.errors.ToolSpecError` for a schema nested deeper than
    :data:`MAX_SCHEMA_NESTING` levels (or holding itself), never ``RecursionError``.
    """
    if _nesting_depth(schema, MAX_SCHEMA_NESTING) > MAX_SCHEMA_NESTING:
        raise ToolSpecError(
            f"tool schema nested deeper than {MAX_SCHEMA_NESTING} levels (or holding itself); "
            "flatten it or use $ref"
        )
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            t = node.get("type")
            if isinstance(t, str) and t in _TYPE_ALIASES:
                if _TYPE_ALIASES[t]:
                    node["type"] = _TYPE_ALIASES[t]
                else:
                    node.pop("type")
            for key in ("properties",):
                if isinstance(node.get(key), dict):
                    node[key] = {k: walk(v) for k, v in node[key].items()}
            for key in ("items", "additionalProperties"):
                if isinstance(node.get(key), dict):
                    node[key] = walk(node[key])
            for key in ("anyOf", "oneOf", "allOf"):
                if isinstance(node.get(key), list):
                    node[key] = [walk(v) for v in node[key]]
        return node

    return walk(schema)


def to_specs(tools: Iterable[Any] | None) -> tuple[ToolSpec, ...]:
    """Any mix of ToolSpecs, LangChain tools, OpenAI dicts and BFCL docs → ToolSpecs."""
    out: list[ToolSpec] = []
    for tool in tools or ():
        if isinstance(tool, ToolSpec):
            out.append(tool)
        elif isinstance(tool, dict):
            out.append(ToolSpec.from_openai(tool))
        else:
            out.append(ToolSpec.from_langchain(tool))
    return tuple(out)


def spec_index(specs: Sequence[ToolSpec]) -> dict[str, ToolSpec]:
    """Specs by name; also under ``a_b`` for a function named ``a.b`` (FC-style names)."""
    index: dict[str, ToolSpec] = {}
    for spec in specs:
        index[spec.name] = spec
    for spec in specs:
        index.setdefault(spec.name.replace(".", "_"), spec)
    return index
