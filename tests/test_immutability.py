"""Issue 9 items 2-4 and the startup check of issue 10: immutable judges and adapters with
one options object, validated overrides, declared judge capabilities, ``check()``, and no
private imports from dependencies."""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import socket
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from packaging.requirements import Requirement
from pydantic import ValidationError

from tests.fakes import TOOLS, ScriptedChatModel, ScriptedJudge
from toolrm_agent import (
    BaseJudge,
    CascadeJudge,
    ConfigurationError,
    ConfigurationTypeError,
    CriticBudget,
    CriticOptions,
    DiscriminativeJudge,
    FrozenError,
    GenerativeJudge,
    JudgeBackendError,
    JudgeCapabilities,
    SchemaJudge,
    ToolRMCritic,
    ToolRMError,
    ToolRMMiddleware,
)
from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext
from toolrm_agent.core.verdicts import Critique, Preference
from toolrm_agent.critic._options import BUDGET_FIELDS, CriticKeywords
from toolrm_agent.judges.base import UNDECLARED, BatchJudge, capabilities_of

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def judges() -> dict[str, Any]:
    model = ScriptedChatModel(default="<choice>1</choice>")
    return {
        "schema": SchemaJudge(),
        "gen": GenerativeJudge(model),
        "cascade": CascadeJudge(SchemaJudge(), GenerativeJudge(model)),
        "disc": DiscriminativeJudge("/nonexistent"),
        "scripted": ScriptedJudge(),
    }


# -------------------------------------------------------------------- frozen objects


@pytest.mark.parametrize("kind", ["critic", "middleware"])
def test_adapters_are_frozen_and_cannot_drift_from_their_engine(kind: str) -> None:
    cls = ToolRMCritic if kind == "critic" else ToolRMMiddleware
    adapter = cls(ScriptedJudge(), max_retries=1)
    for name, value in [("config", CriticOptions()), ("options", CriticOptions()), ("judge", SchemaJudge())]:
        with pytest.raises(FrozenError, match=f"cannot set '{name}'.*override"):
            setattr(adapter, name, value)
    with pytest.raises(FrozenError):
        del adapter.judge
    assert adapter.options.budget.max_retries == 1 and adapter._engine.options is adapter.options
    err = FrozenError("x")
    assert isinstance(err, ToolRMError) and isinstance(err, AttributeError)
    assert isinstance(err, dataclasses.FrozenInstanceError)


@pytest.mark.parametrize("kind", ["schema", "gen", "cascade", "disc", "scripted"])
def test_every_judge_is_frozen(kind: str) -> None:
    judge = judges()[kind]
    with pytest.raises(FrozenError, match="cannot set 'name'"):
        judge.name = "renamed"
    judge._scratch = 1  # underscore attributes are implementation state, still writable
    assert judge.name != "renamed"


def test_options_and_budget_are_frozen_and_validated() -> None:
    options = CriticOptions()
    with pytest.raises(FrozenError):
        options.mode = "best_of_n"  # type: ignore[misc]
    with pytest.raises(FrozenError):
        options.budget.max_retries = 9  # type: ignore[misc]
    with pytest.raises(ConfigurationTypeError, match="n must be an int"):
        CriticOptions(n="4")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationTypeError, match="max_retries must be an int"):
        CriticBudget(max_retries=1.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationTypeError, match=r"unknown option\(s\) \['bogus'\]"):
        options.override(bogus=1)
    changed = options.override(max_retries=0, max_critic_calls=None, mode="best_of_n")
    assert (changed.budget.max_retries, changed.budget.max_critic_calls, changed.mode) == (0, None, "best_of_n")
    assert options == CriticOptions() and hash(options) == hash(CriticOptions())


def test_the_keyword_options_are_the_options_fields() -> None:
    fields = {f.name for f in dataclasses.fields(CriticOptions)} | BUDGET_FIELDS
    assert set(CriticKeywords.__annotations__) == fields


# -------------------------------------------------------------- one options object


def test_both_adapters_share_one_options_object() -> None:
    options = CriticOptions(mode="best_of_n", n=3, budget=CriticBudget(max_retries=1))
    critic = ToolRMCritic(ScriptedJudge(), options=options)
    middleware = ToolRMMiddleware(ScriptedJudge(), options=options)
    assert critic.options is options and middleware.options is options
    # today's keywords still work, on their own or on top of options=
    assert ToolRMCritic(ScriptedJudge(), mode="best_of_n", n=3, max_retries=1).options == options
    assert ToolRMMiddleware(judge=SchemaJudge(), mode="best_of_n", n=3, max_retries=1).options == options
    assert ToolRMCritic(ScriptedJudge(), options=options, n=5).options == options.override(n=5)
    with pytest.raises(ConfigurationTypeError, match=r"unknown critic option\(s\) \['config'\]"):
        ToolRMCritic(ScriptedJudge(), config=options)  # type: ignore[call-arg]  # one name: options=


@pytest.mark.parametrize("kind", ["critic", "middleware"])
def test_unknown_options_fail_at_construction(kind: str) -> None:
    cls = ToolRMCritic if kind == "critic" else ToolRMMiddleware
    with pytest.raises(ConfigurationTypeError, match=r"unknown critic option\(s\) \['max_retry'\]"):
        cls(ScriptedJudge(), max_retry=1)
    with pytest.raises(ConfigurationTypeError, match="options must be a CriticOptions"):
        cls(ScriptedJudge(), options={"mode": "retry"})
    with pytest.raises(ConfigurationError, match="mode"):
        cls(ScriptedJudge(), mode="vote")
    with pytest.raises(ConfigurationTypeError):
        cls(ScriptedJudge(), "retry")  # options are keywords only


@pytest.mark.parametrize("kind", ["critic", "middleware"])
def test_override_validates_and_builds_a_fresh_engine(kind: str) -> None:
    cls = ToolRMCritic if kind == "critic" else ToolRMMiddleware
    adapter = cls(ScriptedJudge(), max_retries=3, tools=TOOLS)
    changed = adapter.override(mode="best_of_n", n=2, max_critic_calls=None)
    assert changed is not adapter and changed._engine is not adapter._engine
    assert changed._engine.options is changed.options
    assert (changed.options.mode, changed.options.n, changed.options.budget.max_retries) == ("best_of_n", 2, 3)
    assert changed.options.budget.max_critic_calls is None
    assert adapter.options.mode == "retry" and adapter._engine.options is adapter.options
    other = SchemaJudge()
    assert adapter.override(judge=other)._engine.judge is other
    assert adapter.override(options=CriticOptions(n=7)).options.n == 7
    with pytest.raises(ConfigurationError, match="mode"):
        adapter.override(mode="vote")
    with pytest.raises(ConfigurationTypeError, match="bogus"):
        adapter.override(bogus=1)


def test_middleware_registers_no_tools_of_its_own() -> None:
    """``AgentMiddleware.tools`` are tools the agent gets; the judge's view is separate."""
    from langchain.agents import create_agent

    middleware = ToolRMMiddleware(ScriptedJudge(), tools=TOOLS)
    assert middleware.tools == ()
    assert {t.name for t in middleware.judge_tools} == {"get_weather", "get_time"}
    model = ScriptedChatModel(script=["Hello."])
    out = create_agent(model, TOOLS, middleware=[middleware]).invoke({"messages": [HumanMessage("hi")]})
    assert out["messages"][-1].content == "Hello."


# ------------------------------------------------------------------- judge overrides


def test_judge_overrides_rebuild_through_the_constructor() -> None:
    model = ScriptedChatModel(default="<choice>1</choice>")
    gen = GenerativeJudge(model, on_unparseable="fail_closed")
    thinking = gen.override(thinking=True)
    assert type(thinking) is GenerativeJudge and thinking.thinking and not gen.thinking
    assert thinking.on_backend_error == "fail_closed" and thinking.model is model
    with pytest.raises(ConfigurationError, match="on_unparseable"):
        gen.override(on_unparseable="maybe")
    with pytest.raises(ConfigurationTypeError, match="unknown option 'thinkng'"):
        gen.override(thinkng=True)
    cascade = CascadeJudge(SchemaJudge(), gen)
    assert cascade.override(first=SchemaJudge(name="s2")).name == f"cascade(s2,{gen.name})"
    with pytest.raises(ConfigurationError, match="threshold"):
        DiscriminativeJudge("/nonexistent").override(threshold=2.0)
    assert SchemaJudge().override(expect_call=False) == SchemaJudge(expect_call=False)
    assert ScriptedJudge(name="a").override(name="b").name == "b"


# ------------------------------------------------------------ validated pydantic overrides


def test_pydantic_overrides_validate() -> None:
    critique = Critique(accepted=True, score=0.5, judge="j")
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        critique.override(score=5)
    assert critique.override(score=1.0).score == 1.0
    assert critique.override(text="x").model_fields_set == critique.model_fields_set | {"text"}
    call = ToolCall(name="f", arguments={"a": 1})
    with pytest.raises(ValidationError):
        call.override(arguments="not a dict")
    with pytest.raises(ConfigurationTypeError, match=r"unknown field\(s\) \['nme'\]"):
        call.override(nme="g")
    assert Proposal(calls=(call,)).override(content="hi").calls == (call,)
    with pytest.raises(ValidationError):
        Proposal().override(calls=[{"oops": 1}])
    with pytest.raises(ValidationError):
        JudgeContext().override(tools=[42])


# ------------------------------------------------------------------- capabilities


def test_capabilities_are_declared_per_judge() -> None:
    model = ScriptedChatModel(default="<choice>1</choice>")
    found = {kind: capabilities_of(judge) for kind, judge in judges().items()}
    assert found["schema"] == found["scripted"] == JudgeCapabilities()
    assert found["gen"] == JudgeCapabilities(pairwise=True, native_rank=True, async_native=True)
    assert capabilities_of(GenerativeJudge(model, rank_strategy="pointwise")) == JudgeCapabilities(
        async_native=True
    )
    assert found["cascade"] == JudgeCapabilities(pairwise=True, native_rank=True, async_native=True)
    assert found["disc"] == BatchJudge.capabilities == JudgeCapabilities(native_rank=True)

    class Duck:  # implements the protocol without declaring anything
        name = "duck"

    assert capabilities_of(Duck()) == UNDECLARED


def test_trained_and_likelihood_judges_declare_batches() -> None:
    from toolrm_agent.judges.likelihood import LikelihoodJudge
    from toolrm_agent.judges.trained.trained import TrainedJudge

    assert TrainedJudge.capabilities == LikelihoodJudge.capabilities == JudgeCapabilities(native_rank=True)


def test_the_engine_reads_the_declaration_not_the_methods() -> None:
    """The same judge class ranks by its own ``rank`` only when it declares it."""

    class Ranks(ScriptedJudge):
        def rank(self, context: Any, proposals: Any) -> Any:
            self._ranked = True
            return super().rank(context, proposals)

    class Declares(Ranks):
        capabilities = JudgeCapabilities(native_rank=True)

    from langchain_core.messages import AIMessage

    def proposer(messages: Any, k: int) -> list[AIMessage]:
        return [
            AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": f"P{i}"}, "id": f"s{i}"}])
            for i in range(k)
        ]

    state = {"messages": [HumanMessage("weather in Paris?"),
                          AIMessage("", id="m",
                                    tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "o"}])]}
    for cls, ranked in [(Ranks, False), (Declares, True)]:
        judge = cls()
        ToolRMCritic(judge, mode="best_of_n", n=3, proposer=proposer, tools=TOOLS)(state, {})
        assert getattr(judge, "_ranked", False) is ranked


def test_a_pairwise_judge_that_is_not_async_native_compares_in_a_thread() -> None:
    class Pairwise(BaseJudge):
        name = "pairwise"
        capabilities = JudgeCapabilities(pairwise=True)

        def critique(self, context: Any, proposal: Any) -> Critique:
            raise AssertionError("a pairwise judge is not asked pointwise")

        def compare(self, context: Any, a: Any, b: Any) -> Preference:
            return Preference(choice=2, judge=self.name)

    pref = asyncio.run(Pairwise().acompare(JudgeContext(), Proposal(), Proposal()))
    assert pref.choice == 2


# ------------------------------------------------------------------- startup check


@pytest.mark.parametrize("kind", ["critic", "middleware"])
def test_check_raises_a_configuration_error_for_an_unreachable_server(kind: str) -> None:
    from langchain_openai import ChatOpenAI

    cls = ToolRMCritic if kind == "critic" else ToolRMMiddleware
    dead = ChatOpenAI(model="judge", base_url=f"http://127.0.0.1:{free_port()}/v1", api_key="x")
    judge = GenerativeJudge(dead)
    for probed in (judge, CascadeJudge(SchemaJudge(), judge)):  # a cascade checks each stage
        with pytest.raises(ConfigurationError, match="failed its startup check") as info:
            cls(probed).check()
        assert isinstance(info.value.__cause__, JudgeBackendError)
    cls(SchemaJudge()).check()  # nothing to check
    cls(ScriptedJudge()).check()


# ------------------------------------------------------------- dependencies (item 2)

DEPENDENCIES = ("langgraph", "langchain", "langchain_core", "langchain_openai", "pydantic", "transformers", "trl")


def test_no_private_imports_from_dependencies() -> None:
    found = []
    for folder in ("toolrm_agent", "eval", "train", "tests", "examples", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    modules, names = [node.module], [a.name for a in node.names]
                elif isinstance(node, ast.Import):
                    modules, names = [a.name for a in node.names], []
                else:
                    continue
                for module in modules:
                    parts = module.split(".")
                    if parts[0] in DEPENDENCIES and (
                        any(p.startswith("_") for p in parts) or any(n.startswith("_") for n in names)
                    ):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} {module} {names}")
    assert not found


def test_langchain_and_langgraph_are_bounded_and_installed_within_bounds() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = {Requirement(r).name: Requirement(r) for r in project["dependencies"]}
    for name in ("langgraph", "langchain", "langchain-core"):
        spec = requirements[name].specifier
        assert any(s.operator == "<" for s in spec), f"{name} needs an upper bound"
        assert spec.contains(version(name)), f"installed {name} {version(name)} is outside {spec}"
