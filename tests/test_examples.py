"""Each example runs offline in a fresh interpreter and shows a bad call caught and fixed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_example(name: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize(
    ("example", "caught"),
    [
        ("langgraph_retry.py", "Missing required argument `city`"),
        ("create_agent_middleware.py", "did you mean `get_weather`?"),
    ],
)
def test_retry_examples_show_the_bad_call_caught_and_fixed(example: str, caught: str) -> None:
    out = run_example(example)
    assert "critic    :" in out and "Not executed: the critic rejected this call." in out
    assert caught in out
    assert ": retry (rejected" in out and ": execute (accepted" in out
    assert "RESULT    : bad call caught=True, fixed call" in out and "executed=True" in out


def test_best_of_n_example_keeps_only_the_winner() -> None:
    out = run_example("best_of_n.py")
    assert (
        "winner    : book_table({'restaurant': 'Chez Paul', 'people': 4, 'time': '19:30', 'seating': 'terrace'})"
        in out
    )
    assert "replaced=1" in out
    assert "RESULT    : bad call caught=True, fixed call executed=True, proposals in transcript=1" in out


def test_your_own_agent_example_against_a_local_openai_compatible_stub() -> None:
    """The README's "Your own agent": served_chat_model on a server that writes calls as
    text (as llama.cpp does), one custom tool, the critic on; offline (127.0.0.1 stub)."""
    from tests.fakes import PolicyStubServer, converter_policy

    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    with PolicyStubServer(converter_policy) as stub:
        proc = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "your_own_agent.py"), "--base-url", stub.base_url],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "proposal  : convert({'amount': 250, 'from': 'USD', 'to': 'EUR'})" in out
    assert "critic    : Not executed: the critic rejected this call. Missing required argument `from_currency`" in out
    assert "tool      : Error: the tool `convert` raised KeyError: 'DOLLARS'." in out  # handed back, no crash
    assert "tool      : 250 USD = 230.00 EUR" in out
    assert "assistant : That is 230.00 EUR." in out
    assert "critic    : 3 proposals judged, 1 sent back" in out
    assert "TextToolCallWarning" not in proc.stderr
