"""Issue 21, ninth session: the example that showed the trained critics accepting a call that breaks its tool's
schema. "What is the weather in Paris right now, in celsius?" with the tools of
tests/integration/test_vllm_server.py, five proposals: the right call, made-up values with a unit outside the
enum, the unit alone outside the enum, the other tool, and no call. For each judge it writes every proposal's
score, verdict and issue codes. ``enum_example.sh`` runs it on the tree before the veto and on this one.

Usage: ``python train/results/s12/enum_example.py OUT_JSON``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Literal

from langchain_core.messages import HumanMessage
from langchain_core.tools import tool

from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.judges.loader import load_judge


@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Current weather for a city."""
    return f"21 degrees {unit} in {city}"


@tool
def get_time(timezone: str) -> str:
    """Current time in an IANA timezone such as Europe/Paris."""
    return "12:00"


PROPOSALS = {
    "right": Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Paris", "unit": "celsius"}),)),
    "made-up city, kelvin": Proposal(calls=(ToolCall(name="get_weather",
                                                     arguments={"city": "Paris, right now", "unit": "kelvin"}),)),
    "kelvin": Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Paris", "unit": "kelvin"}),)),
    "the other tool": Proposal(calls=(ToolCall(name="get_time", arguments={"timezone": "Europe/Paris"}),)),
    "no call": Proposal(),
}


def weather_context() -> JudgeContext:
    """The question, with both tools offered (as the vLLM test offers them)."""
    return JudgeContext.from_messages([HumanMessage("What is the weather in Paris right now, in celsius?")],
                                      [get_weather, get_time])


def main(out: Path) -> None:
    context = weather_context()
    report: dict[str, object] = {}
    for spec in ("schema", "disc:default", "disc:grounded?suggest=false"):
        judge = load_judge(spec)
        critiques = [judge.critique(context, p) for p in PROPOSALS.values()]
        report[spec] = {name: {"score": round(c.score, 3), "accepted": c.accepted, "codes": sorted(map(str, c.codes))}
                        for name, c in zip(PROPOSALS, critiques, strict=True)}
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
