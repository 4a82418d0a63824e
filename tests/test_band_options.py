"""Decision bands on the command line: ``--accept``, ``--uncertain``, ``--tool-band``,
``--on-uncertain`` and ``--on-ask-timeout`` of ``toolrm eval selfcorrect`` and ``toolrm
demo`` (and ``toolrm replay``'s band options): validated as usage errors, passed into the
critic of every arm, written into the report. Fakes only, no model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eval.commands import demo, selfcorrect
from tests.fakes import ScriptedChatModel, area_call, area_policy, area_tasks, area_width, command_app
from toolrm_agent import DecisionBands
from toolrm_agent.cli import bands_from_cli, parse_tool_band
from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.judges.schema import SchemaJudge


def test_no_band_option_means_no_bands() -> None:
    assert bands_from_cli(None, None, []) is None


def test_band_options_build_the_bands() -> None:
    bands = bands_from_cli(0.9, 0.4, ["delete_file=0.99,0.95", "get_time=0.7"], on_uncertain="ask",
                           on_ask_timeout="approve")
    assert bands == DecisionBands(accept=0.9, uncertain=0.4, on_uncertain="ask", on_ask_timeout="approve",
                                  tools={"delete_file": (0.99, 0.95), "get_time": (0.7, 0.7)})
    assert bands_from_cli(0.8, None, []) == DecisionBands(accept=0.8, uncertain=0.8)  # no uncertain band
    assert bands_from_cli(None, 0.3, []) == DecisionBands(accept=0.5, uncertain=0.3)
    assert parse_tool_band(" rm =1,0.5") == ("rm", 1.0, 0.5)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((0.5, 0.7, []), {}, r"--uncertain \(0.7\) must be <= --accept \(0.5\)"),
        ((None, 0.7, []), {}, r"--accept \(0.5, the default\)"),
        ((1.5, None, []), {}, r"--accept must be in \[0, 1\]"),
        ((None, None, ["get_time"]), {}, "--tool-band takes NAME=ACCEPT,UNCERTAIN"),
        ((None, None, ["get_time=high"]), {}, "--tool-band takes"),
        ((None, None, ["get_time=0.9,0.5,0.1"]), {}, "--tool-band takes"),
        ((None, None, ["get_time=1.2,0.5"]), {}, "--tool-band takes"),
        ((None, None, ["get_time=nan"]), {}, "--tool-band takes"),
        ((None, None, ["=0.9,0.5"]), {}, "--tool-band takes"),
        ((None, None, ["get_time=0.5,0.9"]), {}, r"UNCERTAIN \(0.9\) must be <= ACCEPT \(0.5\)"),
        ((None, None, ["a=0.9,0.5", "a=0.8,0.5"]), {}, "names 'a' twice"),
        ((0.9, 0.4, []), {"on_uncertain": "shrug"}, "--on-uncertain takes retry, resample, ask"),
        ((0.9, None, []), {"on_uncertain": "ask"}, "applies to no call: there is no uncertain band"),
        ((0.9, 0.4, []), {"on_uncertain": "ask", "on_ask_timeout": "maybe"}, "--on-ask-timeout takes approve"),
        ((0.9, 0.4, []), {"on_ask_timeout": "approve"}, "only with --on-uncertain ask"),
    ],
)
def test_bad_band_options_say_which_option(args: tuple[Any, ...], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        bands_from_cli(*args, **kwargs)


def test_a_per_tool_uncertain_band_is_enough_for_on_uncertain() -> None:
    bands = bands_from_cli(None, None, ["delete_file=0.99,0.9"], on_uncertain="ask")
    assert bands is not None and bands.on_uncertain == "ask" and bands.thresholds("delete_file") == (0.99, 0.9)


# ------------------------------------------------------------------ the commands


BAD_INVOCATIONS = [
    (["--accept", "0.5", "--uncertain", "0.7"], "--uncertain (0.7) must be <= --accept (0.5)"),
    (["--accept", "1.5"], "--accept"),
    (["--tool-band", "get_time"], "--tool-band takes NAME=ACCEPT,UNCERTAIN"),
    (["--tool-band", "get_time=0.5,0.9"], "must be <= ACCEPT"),
    (["--on-uncertain", "shrug", "--accept", "0.9", "--uncertain", "0.2"], "--on-uncertain takes"),
    (["--on-uncertain", "ask"], "no uncertain band"),
    (["--on-ask-timeout", "approve", "--accept", "0.9", "--uncertain", "0.2"], "only with --on-uncertain ask"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INVOCATIONS)
@pytest.mark.parametrize("command", ["selfcorrect", "demo"])
def test_commands_refuse_bad_bands_before_loading_anything(
    command: str, args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_model(*_: Any, **__: Any) -> Any:
        raise AssertionError("a model was loaded before the options were checked")

    module: Any = selfcorrect if command == "selfcorrect" else demo
    monkeypatch.setattr(module, "load_policy", no_model)
    app = command_app(selfcorrect.command) if command == "selfcorrect" else demo.app
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, [*args, "--judge", "schema", "--out", str(out)])
    assert result.exit_code == 2, result.output
    flat = " ".join(result.output.replace("│", " ").split())
    assert message in flat and "Traceback" not in flat
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


def test_the_help_names_every_band_option() -> None:
    for app, args in ((command_app(selfcorrect.command), ["--help"]), (demo.app, ["--help"])):
        result = CliRunner().invoke(app, args, terminal_width=200)
        assert result.exit_code == 0
        for option in ("--accept", "--uncertain", "--tool-band", "--on-uncertain", "--on-ask-timeout"):
            assert option in result.output
        assert "retry|resample|ask" in result.output and "NAME=ACCEPT,UNCERTAIN" in result.output


def test_selfcorrect_passes_the_bands_into_the_critic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The schema critic scores the incomplete call 0: with ``--uncertain 0`` it is
    uncertain, so it is asked about; nobody answers (``--on-ask-timeout reject``), it goes
    back to the model, which fixes it."""
    monkeypatch.setattr(selfcorrect, "load_policy", lambda *_, **__: area_policy())
    monkeypatch.setattr(selfcorrect, "load_tasks", lambda *_, **__: area_tasks(2))
    out = tmp_path / "r.json"
    result = CliRunner().invoke(command_app(selfcorrect.command), [
        "--judge", "schema", "--out", str(out), "--accept", "0.9", "--uncertain", "0",
        "--tool-band", "other_tool=1,0.5", "--on-uncertain", "ask", "--on-ask-timeout", "reject",
    ])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["bands"] == {"accept": 0.9, "uncertain": 0.0, "on_uncertain": "ask",
                               "tools": {"other_tool": [1.0, 0.5]}, "on_ask_timeout": "reject"}
    assert report["baseline_acc"] == 0.5 and report["critic_acc"] == 1.0
    critic = {r["id"]: r for r in report["runs"] if r["arm"] == "critic"}
    kinds = [e["kind"] for e in critic["simple_python_8001"]["events"]]
    assert kinds[:3] == ["proposal", "ask", "critique"] and kinds[-1] == "executed"
    assert "scored 0.00" in critic["simple_python_8001"]["events"][1]["text"]
    assert [e["kind"] for e in critic["simple_python_8002"]["events"]] == ["proposal", "accepted", "executed"]


def test_on_uncertain_resample_samples_in_a_retry_arm() -> None:
    sampler = ScriptedChatModel(default=lambda m: area_call({"width": area_width(m), "height": 3}))
    bands = DecisionBands(accept=0.9, uncertain=0.0, on_uncertain="resample")
    arms = selfcorrect.build_arms(area_policy(), SchemaJudge(), mode="retry", n=3, max_retries=1,
                                  sampler=sampler, bands=bands)
    runs = selfcorrect.run_selfcorrect(area_tasks(2), arms, max_retries=1)
    critic = {r.id: r for r in runs if r.arm == "critic"}
    assert [e.kind for e in critic["simple_python_8001"].events][:2] == ["proposal", "best_of_n"]
    assert len(sampler.calls) == 2  # only the uncertain proposal drew samples
    assert all(r.valid for r in critic.values())


def test_demo_passes_the_bands_into_every_arm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "load_policy", lambda *_, **__: area_policy())
    monkeypatch.setattr(demo, "demo_tasks", lambda *_, **__: area_tasks(2))
    out = tmp_path / "demo.json"
    result = CliRunner().invoke(demo.app, [
        "--judge", "schema", "--mode", "retry", "--quiet", "--out", str(out), "--retry-temperature", "0",
        "--accept", "0.9", "--uncertain", "0", "--on-uncertain", "ask",
    ])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["bands"]["on_uncertain"] == "ask" and report["bands"]["on_ask_timeout"] == "reject"
    retry_runs = [r for r in report["runs"] if r["arm"] == "retry"]
    assert any(e["kind"] == "ask" for r in retry_runs for e in r["events"])
    assert all(r["valid"] for r in retry_runs)


def test_replay_takes_tool_band_and_refuses_a_bad_one(tmp_path: Path) -> None:
    from toolrm_agent.cli import app

    log = tmp_path / "empty.jsonl"
    log.write_text("")
    runner = CliRunner()
    ok = runner.invoke(app, ["replay", str(log), "--tool-band", "get_weather=0.95,0.5"])
    assert ok.exit_code == 0, ok.output
    assert "1 per-tool" in ok.output
    bad = runner.invoke(app, ["replay", str(log), "--tool-band", "get_weather=x"])
    assert bad.exit_code == 2 and "--tool-band takes NAME=ACCEPT,UNCERTAIN" in bad.output
