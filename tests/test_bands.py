"""Verdicts that decide: decision bands, resample on reject, shadow mode, verdicts bound
to the exact call, and what ``None`` means, on the node and the middleware, sync and async."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage

from tests.fakes import (
    ASK,
    BAD,
    GOOD,
    ScriptedChatModel,
    ScriptedJudge,
    assert_every_call_answered,
    critic_app,
    critic_messages,
    recording_tools,
    run_graph,
    tool_call_message,
)
from toolrm_agent import CriticOptions, DecisionBands, ToolRMCritic, ToolRMMiddleware, build_agent_graph
from toolrm_agent.core.calls import Proposal
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.errors import ConfigurationError, ConfigurationTypeError
from toolrm_agent.core.verdicts import CallVerdict, Critique, TokenUsage
from toolrm_agent.judges.base import BaseJudge


class ScoreJudge(BaseJudge):
    """Scores each call by its first argument's value (``scores``; else ``default``)."""

    name = "scores"

    def __init__(self, scores: dict[str, float], default: float = 1.0, version: str | None = None) -> None:
        self.scores = scores
        self.default = default
        self.version = version
        self.seen: list[Proposal] = []

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        self.seen.append(proposal)
        verdicts = []
        for call in proposal.calls:
            value = str(next(iter(call.arguments.values()), ""))
            score = self.scores.get(value, self.default)
            verdicts.append(CallVerdict(tool_call_id=call.id, name=call.name, ok=score >= 0.5, score=score,
                                        feedback="" if score >= 0.5 else f"{value} looks wrong"))
        score = min((v.score for v in verdicts), default=0.0)
        accepted = all(v.ok for v in verdicts) and not proposal.failures
        return Critique(accepted=accepted, score=score, text="" if accepted else f"scored {score}",
                        judge=self.name, calls=tuple(verdicts), usage=TokenUsage(input_tokens=3))


def weather(city: str, call_id: str) -> AIMessage:
    return tool_call_message(("get_weather", {"city": city}), ids=[call_id])


# ----------------------------------------------------------------------------- bands


def test_bands_are_validated_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="uncertain"):
        DecisionBands(accept=0.5, uncertain=0.7)
    with pytest.raises(ConfigurationError, match=r"\[0, 1\]"):
        DecisionBands(accept=1.5)
    with pytest.raises(ConfigurationError, match="delete_file"):
        DecisionBands(tools={"delete_file": (0.5, 0.9)})
    with pytest.raises(ConfigurationTypeError, match="accept, uncertain"):
        DecisionBands(tools={"delete_file": 0.9})
    with pytest.raises(ConfigurationError, match="on_uncertain"):
        DecisionBands(on_uncertain="shrug")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationTypeError, match="bands"):
        ToolRMCritic(ScriptedJudge(), bands={"accept": 0.9})  # type: ignore[typeddict-item]
    bands = DecisionBands(accept=0.8, uncertain=0.4, tools={"get_time": (0.95, 0.9)}, block={"rm"})
    assert bands.thresholds("get_time") == (0.95, 0.9) and bands.thresholds("get_weather") == (0.8, 0.4)
    assert bands.band_of("get_weather", 0.8) == "accept" and bands.band_of("get_weather", 0.5) == "uncertain"
    assert bands.band_of("get_weather", 0.1) == "reject" and bands.band_of("rm", 0.1) == "block"
    assert hash(bands) == hash(bands.override())  # options stay hashable
    assert bands.override(accept=0.9).thresholds("get_time") == (0.95, 0.9)


async def test_each_band_decides(how: str, kind: str) -> None:
    tools, executed = recording_tools()
    judge = ScoreJudge({"Paris": 0.9, "Lyon": 0.6, "Nice": 0.2})
    bands = DecisionBands(accept=0.8, uncertain=0.5)
    model = ScriptedChatModel(script=[weather("Nice", "n"), weather("Lyon", "l"), weather("Paris", "p"), "Sunny."])
    out = await run_graph(critic_app(kind, model, tools, judge, bands=bands, max_retries=3), how)
    verdicts = out["toolrm_verdicts"]
    def seen(call_id: str) -> tuple[str, str, str]:
        return verdicts[call_id]["band"], verdicts[call_id]["decision"], verdicts[call_id]["reason"]

    assert seen("n") == ("reject", "retry", "rejected")
    assert seen("l") == ("uncertain", "retry", "uncertain")
    assert (verdicts["p"]["band"], verdicts["p"]["decision"]) == ("accept", "execute")
    assert executed == [("get_weather", {"city": "Paris"})]
    assert_every_call_answered(out["messages"])


async def test_bands_not_the_judges_accepted_decide(how: str, kind: str) -> None:
    """The judge accepts 0.6 (its own threshold is 0.5); the bands ask for 0.7."""
    tools, executed = recording_tools()
    judge = ScoreJudge({"Lyon": 0.6})
    model = ScriptedChatModel(script=[weather("Lyon", "l"), weather("Paris", "p"), "Sunny."])
    out = await run_graph(critic_app(kind, model, tools, judge, bands=DecisionBands(accept=0.7, uncertain=0.3)), how)
    assert out["toolrm_verdicts"]["l"]["decision"] == "retry"
    assert executed == [("get_weather", {"city": "Paris"})]


async def test_per_tool_thresholds_and_worst_call_decides(how: str, kind: str) -> None:
    tools, executed = recording_tools()
    judge = ScoreJudge({"Paris": 0.9, "UTC": 0.9, "CET": 0.99})
    bands = DecisionBands(accept=0.8, uncertain=0.5, tools={"get_time": (0.95, 0.5)})
    first = tool_call_message(("get_weather", {"city": "Paris"}), ("get_time", {"zone": "UTC"}), ids=["w1", "t1"])
    second = tool_call_message(("get_weather", {"city": "Paris"}), ("get_time", {"zone": "CET"}), ids=["w2", "t2"])
    model = ScriptedChatModel(script=[first, second, "Done."])
    out = await run_graph(critic_app(kind, model, tools, judge, bands=bands), how)
    verdicts = out["toolrm_verdicts"]
    assert verdicts["w1"]["decision"] == "retry" and verdicts["t1"]["band"] == "uncertain"
    assert verdicts["w2"]["decision"] == "execute"
    assert sorted(executed) == [("get_time", {"zone": "CET"}), ("get_weather", {"city": "Paris"})]
    assert_every_call_answered(out["messages"])


async def test_a_blocked_tool_stops_the_run(how: str, kind: str) -> None:
    tools, executed = recording_tools()
    judge = ScoreJudge({"Nice": 0.1})
    bands = DecisionBands(accept=0.8, uncertain=0.5, block={"get_weather"})
    model = ScriptedChatModel(script=[weather("Nice", "n"), "never"])
    out = await run_graph(critic_app(kind, model, tools, judge, bands=bands), how)
    record = out["toolrm_verdicts"]["n"]
    assert (record["decision"], record["reason"], record["band"]) == ("halt", "blocked", "block")
    assert executed == [] and len(model.calls) == 1
    assert out["toolrm_usage"]["blocked"] == 1
    assert "blocked on rejection" in out["messages"][-1].content
    assert_every_call_answered(out["messages"])


# ------------------------------------------------------------------------- resample


def _resample_agent(kind: str, script: list[Any], samples: list[Any], judge: Any, tools: list[Any],
                    **options: Any) -> tuple[Any, ScriptedChatModel, ScriptedChatModel | None]:
    if kind == "node":
        model = ScriptedChatModel(script=script)
        proposer = ScriptedChatModel(script=samples, default=samples[-1] if samples else None)
        return critic_app(kind, model, tools, judge, proposer=proposer, **options), model, proposer
    # the middleware samples the agent's own model: the samples follow the first answer
    model = ScriptedChatModel(script=[script[0], *samples, *script[1:]])
    return critic_app(kind, model, tools, judge, **options), model, None


async def test_resample_judges_once_when_accepted(how: str, kind: str) -> None:
    tools, executed = recording_tools()
    judge = ScoreJudge({})
    app, model, proposer = _resample_agent(kind, [weather("Paris", "p"), "Sunny."], [], judge, tools,
                                           mode="resample", n=4)
    out = await run_graph(app, how)
    assert len(judge.seen) == 1 and "samples" not in out["toolrm_usage"]
    assert len(model.calls) == 2 and (proposer is None or not proposer.calls)
    assert executed == [("get_weather", {"city": "Paris"})]


async def test_resample_samples_only_when_rejected_and_keeps_the_best(how: str, kind: str) -> None:
    tools, executed = recording_tools()
    judge = ScoreJudge({"Nice": 0.1, "Lyon": 0.3, "Paris": 0.9})
    app, model, proposer = _resample_agent(
        kind, [weather("Nice", "n"), "Sunny."], [weather("Lyon", "s1"), weather("Paris", "s2")], judge, tools,
        mode="resample", n=3,
    )
    out = await run_graph(app, how)
    assert len(judge.seen) == 3  # the first proposal, then the two samples; never the first again
    assert executed == [("get_weather", {"city": "Paris"})]
    assert out["toolrm_usage"]["samples"] == 2 and out["toolrm_usage"]["resampled"] == 1
    assert out["toolrm_usage"]["replaced"] == 1 and out["toolrm_verdicts"]["s2"]["candidates"] == 3
    proposals = [m for m in out["messages"] if isinstance(m, AIMessage) and m.tool_calls]
    assert [c["id"] for p in proposals for c in p.tool_calls] == ["s2"]  # only the winner in the transcript
    assert_every_call_answered(out["messages"])


async def test_resample_falls_back_to_retry_with_the_critique(how: str, kind: str) -> None:
    tools, executed = recording_tools()
    judge = ScoreJudge({"Nice": 0.1, "Lyon": 0.3})
    app, model, _ = _resample_agent(
        kind, [weather("Nice", "n"), weather("Paris", "fixed"), "Sunny."], [weather("Lyon", "s1")], judge, tools,
        mode="resample", n=2, max_retries=1,
    )
    out = await run_graph(app, how)
    critiques = critic_messages(out["messages"])
    assert len(critiques) == 1 and "scored 0.3" in str(critiques[0].content)  # the best sample's critique
    assert executed == [("get_weather", {"city": "Paris"})]
    assert out["toolrm_verdicts"]["fixed"]["decision"] == "execute"
    assert out["toolrm_usage"]["retries"] == 1
    assert_every_call_answered(out["messages"])


async def test_uncertain_band_can_resample_in_retry_mode(how: str, kind: str) -> None:
    tools, executed = recording_tools()
    judge = ScoreJudge({"Lyon": 0.6, "Paris": 0.9})
    bands = DecisionBands(accept=0.8, uncertain=0.5, on_uncertain="resample")
    app, _, _ = _resample_agent(kind, [weather("Lyon", "l"), "Sunny."], [weather("Paris", "s1")], judge, tools,
                                bands=bands, n=2)
    out = await run_graph(app, how)
    assert executed == [("get_weather", {"city": "Paris"})] and out["toolrm_usage"]["resampled"] == 1


def test_a_sampling_critic_needs_a_proposer_in_a_hand_built_graph() -> None:
    from langgraph.graph import START, StateGraph
    from langgraph.prebuilt import ToolNode

    from toolrm_agent import ToolRMState, add_critic

    builder: StateGraph[Any, Any, Any, Any] = StateGraph(ToolRMState)
    builder.add_node("agent", lambda state: {})
    builder.add_node("tools", ToolNode(recording_tools()[0]))
    builder.add_edge(START, "agent")
    with pytest.raises(ConfigurationError, match="resample critic needs a proposer"):
        add_critic(builder, ToolRMCritic(ScriptedJudge(), mode="resample"))


# --------------------------------------------------------------------------- shadow


def _transcript(messages: list[BaseMessage]) -> list[tuple[Any, ...]]:
    def calls(m: BaseMessage) -> tuple[tuple[str, str], ...]:
        return tuple((c["name"], json.dumps(c["args"])) for c in getattr(m, "tool_calls", []))

    return [(type(m).__name__, str(m.content), calls(m), getattr(m, "tool_call_id", None)) for m in messages]


async def test_shadow_mode_changes_nothing_and_logs_what_it_would_have_done(
    how: str, kind: str, tmp_path: Path
) -> None:
    def script() -> ScriptedChatModel:
        return ScriptedChatModel(script=[tool_call_message(BAD, ids=["x"]), tool_call_message(GOOD, ids=["y"]),
                                         "Sunny."])

    tools, plain_executed = recording_tools()
    if kind == "node":
        plain = build_agent_graph(script(), tools)
    else:
        plain = create_agent(script(), tools)
    without = await run_graph(plain, how)

    log = tmp_path / "decisions.jsonl"
    tools, executed = recording_tools()
    judge = ScriptedJudge()
    out = await run_graph(critic_app(kind, script(), tools, judge, shadow=True, decision_log=str(log)), how)
    assert _transcript(out["messages"]) == _transcript(without["messages"])
    assert executed == plain_executed
    assert not critic_messages(out["messages"])
    assert judge.calls == 2
    x, y = out["toolrm_verdicts"]["x"], out["toolrm_verdicts"]["y"]
    assert x["shadow"] and (x["decision"], x["reason"]) == ("retry", "rejected")
    assert y["shadow"] and y["decision"] == "execute"
    assert out["toolrm_usage"]["shadow_interventions"] == 1 and "retries" not in out["toolrm_usage"]
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["decision"], e["shadow"]) for e in lines] == [("retry", True), ("execute", True)]
    assert lines[0]["context"]["turns"][0]["content"] == "What is the weather in Paris?"
    assert lines[0]["proposal"]["calls"][0]["arguments"] == {"town": "Paris"}
    assert lines[0]["calls"][0]["call_hash"] == x["call_hash"]


def test_shadow_mode_draws_no_samples() -> None:
    assert not CriticOptions(mode="best_of_n", shadow=True).draws_samples
    assert CriticOptions(mode="resample").draws_samples
    assert CriticOptions(bands=DecisionBands(on_uncertain="resample")).draws_samples


# ------------------------------------------------------------- bound to the call


async def test_a_call_changed_after_judging_is_judged_again(how: str) -> None:
    """A later middleware rewrites the approved call (same ids) before the tools run:
    the stored verdict does not match it, so the critic judges the new call."""

    class Rewrite(AgentMiddleware):  # type: ignore[type-arg]
        def after_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
            last = state["messages"][-1]
            if isinstance(last, AIMessage) and last.tool_calls and last.tool_calls[0]["args"] == {"city": "Paris"}:
                call = {**last.tool_calls[0], "args": {"city": "Atlantis"}}
                return {"messages": [last.model_copy(update={"tool_calls": [call]})]}
            return None

        async def aafter_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
            return self.after_model(state, runtime)

    tools, executed = recording_tools()
    judge = ScoreJudge({"Atlantis": 0.1})
    model = ScriptedChatModel(script=[weather("Paris", "p"), weather("Rome", "r"), "Done."])
    # after_model hooks run last to first: Rewrite's runs before the critic's
    app = create_agent(model, tools, middleware=[ToolRMMiddleware(judge), Rewrite()])
    out = await run_graph(app, how)
    assert [str(next(iter(p.calls[0].arguments.values()))) for p in judge.seen] == ["Paris", "Atlantis", "Rome"]
    assert out["toolrm_verdicts"]["p"]["decision"] == "retry"  # the rewritten call, judged again
    assert executed == [("get_weather", {"city": "Rome"})]


def test_a_stored_verdict_is_replayed_only_for_the_same_call_and_critic() -> None:
    tools, _ = recording_tools()
    proposal = weather("Paris", "p")
    state: dict[str, Any] = {"messages": [ASK["messages"][0], proposal]}
    judge = ScoreJudge({}, version="v1")
    first = ToolRMCritic(judge, tools=tools)(state, {})
    record = first.update["toolrm_verdicts"]["p"]
    assert record["call_hash"] and record["critic"] == "scores" and record["critic_version"] == "v1"
    state["toolrm_verdicts"] = first.update["toolrm_verdicts"]
    ToolRMCritic(judge, tools=tools)(state, {})
    assert len(judge.seen) == 1  # same call, same critic: replayed
    ToolRMCritic(ScoreJudge({}, version="v2"), tools=tools)(state, {})
    newer = ScoreJudge({}, version="v2")
    ToolRMCritic(newer, tools=tools)(state, {})
    assert len(newer.seen) == 1  # another version of the critic judges again
    edited = dict(state, toolrm_verdicts={"p": {**record, "call_hash": "0" * 16}})
    ToolRMCritic(judge, tools=tools)(edited, {})
    assert len(judge.seen) == 2  # the call's hash does not match: judged again


# ------------------------------------------------------------------- None semantics


def test_none_lifts_a_limit_in_the_constructor_as_in_override() -> None:
    for adapter in (ToolRMCritic(ScriptedJudge(), max_critic_calls=None),
                    ToolRMMiddleware(ScriptedJudge(), max_critic_calls=None, judge_timeout_s=None)):
        assert adapter.options.budget.max_critic_calls is None
        assert adapter.override(max_critic_calls=None).options.budget.max_critic_calls is None
    assert ToolRMCritic(ScriptedJudge()).options.budget.max_critic_calls == 100  # left out: the default
    kept = ToolRMCritic(ScriptedJudge(), options=CriticOptions(n=3), max_critic_calls=None)
    assert kept.options.n == 3 and kept.options.budget.max_critic_calls is None
    with pytest.raises(ConfigurationError, match="mode"):
        ToolRMCritic(ScriptedJudge(), mode=None)  # type: ignore[typeddict-item]
    with pytest.raises(ConfigurationTypeError, match="max_retries"):
        ToolRMMiddleware(ScriptedJudge(), max_retries=None)  # type: ignore[typeddict-item]



# ---------------------------------------------------------------------------- replay


def test_replay_re_decides_logged_proposals(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from toolrm_agent.cli import app

    log = tmp_path / "decisions.jsonl"
    tools, _ = recording_tools()
    judge = ScoreJudge({"Lyon": 0.6, "Paris": 0.9})
    model = ScriptedChatModel(script=[weather("Lyon", "l"), "Done."])
    build_agent_graph(model, tools, ToolRMCritic(judge, shadow=True, decision_log=str(log))).invoke(ASK)
    model = ScriptedChatModel(script=[weather("Paris", "p"), "Done."])
    build_agent_graph(model, tools, ToolRMCritic(judge, shadow=True, decision_log=str(log))).invoke(ASK)
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["band"], e["score"]) for e in entries] == [("accept", 0.6), ("accept", 0.9)]

    runner = CliRunner()
    stricter = runner.invoke(app, ["replay", str(log), "--accept", "0.8", "--uncertain", "0.5",
                                   "--out", str(tmp_path / "rows.json")])
    assert stricter.exit_code == 0, stricter.output
    assert "2 logged proposals re-decided with the logged scores" in stricter.output
    assert "1 would change (0 would now run, 1 would now be stopped)" in stricter.output
    assert "accept (0.600) -> uncertain (0.600)" in stricter.output
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert [r["changed"] for r in rows] == [True, False]
    per_tool = runner.invoke(app, ["replay", str(log), "--tool", "get_weather=0.95,0.5"])
    assert "2 would change" in per_tool.output
    rejudged = runner.invoke(app, ["replay", str(log), "--judge", "schema"])
    assert rejudged.exit_code == 0 and "with judge schema" in rejudged.output
    bad = runner.invoke(app, ["replay", str(log), "--accept", "0.2", "--uncertain", "0.5"])
    assert bad.exit_code == 2 and "uncertain" in bad.output


# ----------------------------------------------------------------- run metadata


class VerdictRecorder(BaseCallbackHandler):
    """Records the metadata and tags of every ``toolrm_verdict`` run it sees."""

    def __init__(self) -> None:
        self.seen: list[tuple[dict[str, Any], list[str]]] = []

    def on_chain_start(self, serialized: Any, inputs: Any, *, metadata: Any = None, tags: Any = None,
                       name: str | None = None, **kwargs: Any) -> None:
        if name == "toolrm_verdict":
            self.seen.append((dict(metadata or {}), list(tags or [])))


@pytest.mark.parametrize("shadow", [False, True])
async def test_verdicts_are_run_metadata_for_tracers(how: str, kind: str, shadow: bool) -> None:
    tools, _ = recording_tools()
    judge = ScoreJudge({"Lyon": 0.6, "Paris": 0.9}, version="v7")
    bands = DecisionBands(accept=0.8, uncertain=0.5)
    model = ScriptedChatModel(script=[weather("Lyon", "l"), weather("Paris", "p"), "Sunny."])
    app = critic_app(kind, model, tools, judge, bands=bands, shadow=shadow)
    recorder = VerdictRecorder()
    config = {"callbacks": [recorder]}
    out = app.invoke(ASK, config) if how == "sync" else await app.ainvoke(ASK, config)
    seen = {m["toolrm_tool_call_id"]: (m, tags) for m, tags in recorder.seen}
    assert sorted(seen) == ["l", "p"]  # the model proposes Paris next whether Lyon ran (shadow) or not
    lyon, tags = seen["l"]
    assert {k: v for k, v in lyon.items() if k.startswith("toolrm_")} == {
        "toolrm_tool_call_id": "l",
        "toolrm_tool": "get_weather",
        "toolrm_call_hash": out["toolrm_verdicts"]["l"]["call_hash"],
        "toolrm_critic": "scores",
        "toolrm_critic_version": "v7",
        "toolrm_band": "uncertain",
        "toolrm_score": 0.6,
        "toolrm_action": "retry",
        "toolrm_reason": "uncertain",
        "toolrm_human": None,
        "toolrm_shadow": shadow,
    }
    assert {"toolrm", "toolrm:retry"} <= set(tags)
    if not shadow:
        assert seen["p"][0]["toolrm_action"] == "execute" and seen["p"][0]["toolrm_band"] == "accept"


def test_no_verdict_run_without_a_listener(monkeypatch: pytest.MonkeyPatch) -> None:
    from toolrm_agent.critic import _tracing as tracing

    built: list[Any] = []
    monkeypatch.setattr(tracing, "verdict_metadata", lambda record: built.append(record) or {})
    tools, _ = recording_tools()
    model = ScriptedChatModel(script=[weather("Paris", "p"), "Sunny."])
    build_agent_graph(model, tools, ToolRMCritic(ScoreJudge({}))).invoke(ASK)
    assert built == []
    model = ScriptedChatModel(script=[weather("Paris", "p"), "Sunny."])
    build_agent_graph(model, tools, ToolRMCritic(ScoreJudge({}))).invoke(ASK, {"callbacks": [VerdictRecorder()]})
    assert len(built) == 1
