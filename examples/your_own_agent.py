"""Your own agent: one tool of yours, a local policy served by llama.cpp, the critic on.

    toolrm serve --model default                 # terminal 1: llama.cpp on 127.0.0.1:8080
    python examples/your_own_agent.py            # terminal 2
    python examples/your_own_agent.py --base-url http://127.0.0.1:8000/v1   # a vLLM server
    python examples/your_own_agent.py --judge disc:default                   # the trained critic

``served_chat_model(base_url)`` is the one helper from a served model to a policy: it asks
the server which model it serves and reads the calls a small model writes as text into
``tool_calls`` (llama.cpp), or passes a vLLM server's parsed ``tool_calls`` through. The
critic judges every proposed call before it runs; a rejected call is sent back with its
critique, and a tool that raises answers with its error, so the model can correct itself.
"""

from __future__ import annotations

import argparse

from _common import show, show_verdicts
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool

from toolrm_agent import ToolRMCritic, build_agent_graph, load_judge, served_chat_model

RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 151.3}
SYSTEM = (
    "You convert money with the `convert` tool: call it once per amount. When its result is in "
    "the conversation, answer the user in one short sentence and call nothing more."
)


@tool
def convert(amount: float, from_currency: str, to_currency: str) -> str:
    """Convert an amount of money from one currency to another (ISO codes: USD, EUR, GBP, JPY)."""
    value = amount / RATES[from_currency.upper()] * RATES[to_currency.upper()]  # KeyError: unknown code
    return f"{amount:g} {from_currency.upper()} = {value:.2f} {to_currency.upper()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8080/v1", help="the policy's server")
    parser.add_argument("--judge", default="schema", help="a judge spec: schema, disc:default, ...")
    parser.add_argument("--question", default="How much is 250 US dollars in euros?")
    args = parser.parse_args()

    policy = served_chat_model(args.base_url, max_tokens=256)  # the served model, calls read from text
    critic = ToolRMCritic(load_judge(args.judge), mode="retry", max_retries=2)
    graph = build_agent_graph(policy, [convert], critic=critic, system_prompt=SYSTEM)
    out = graph.invoke({"messages": [HumanMessage(args.question)]})

    show(out["messages"], ids=False)
    print()
    show_verdicts(out["toolrm_verdicts"])
    usage = out["toolrm_usage"]
    print(f"critic    : {usage.get('proposals_judged', 0)} proposals judged, {usage.get('retries', 0)} sent back")


if __name__ == "__main__":
    main()
