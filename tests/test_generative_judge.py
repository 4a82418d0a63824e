"""GenerativeJudge driven by scripted fake chat models (offline, fast)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, TypedDict

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda
from langgraph.constants import TAG_NOSTREAM
from langgraph.graph import END, START, StateGraph

from tests.fakes import ScriptedChatModel, weather_tool
from toolrm_agent.core.calls import ParseFailure, Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.errors import JudgeBackendError, JudgeParseError
from toolrm_agent.core.verdicts import IssueCode
from toolrm_agent.judges.generative.generative import CRITIC_RUN_NAME, CRITIC_TAG, GenerativeJudge

WEATHER = weather_tool()
CONTEXT = JudgeContext.build([Turn(role="user", content="Weather in Paris?")], [WEATHER])


def proposal(city: str, call_id: str | None = None) -> Proposal:
    call = ToolCall(name="get_weather", arguments={"city": city})
    return Proposal(calls=(call.override(id=call_id) if call_id else call,))


def answer(text: str, n_in: int = 100, n_out: int = 10) -> AIMessage:
    return AIMessage(
        content=text,
        usage_metadata={"input_tokens": n_in, "output_tokens": n_out, "total_tokens": n_in + n_out},
    )


def judge(
    script: list[Any], default: Any = None, **kwargs: Any
) -> tuple[GenerativeJudge, ScriptedChatModel]:
    model = ScriptedChatModel(script=script, default=default)
    kwargs.setdefault("backoff_s", 0.0)
    return GenerativeJudge(model, **kwargs), model


def response_1(messages: list[BaseMessage]) -> str:
    """The text of the 'Response 1' section of a pairwise prompt."""
    user = str(messages[-1].content)
    return user.split("## Response 1", 1)[1].split("## Response 2", 1)[0]


CITIES = ["Rome", "Paris", "Oslo", "Lima", "Cairo", "Quito", "Bern"]
ALL_CITIES = [*CITIES, "London"]


def prefers(*cities: str) -> Callable[[list[BaseMessage]], AIMessage]:
    """A content-following judge: prefers the proposal whose city comes first in ``cities``."""

    def rank(city: str) -> int:
        return cities.index(city) if city in cities else len(cities)

    def reply(messages: list[BaseMessage]) -> AIMessage:
        user = str(messages[-1].content)
        second = user.split("## Response 2", 1)[1]
        first_city = next(c for c in ALL_CITIES if f'"{c}"' in response_1(messages))
        second_city = next(c for c in ALL_CITIES if f'"{c}"' in second)
        better = 1 if rank(first_city) <= rank(second_city) else 2
        return answer(f"Thinking about it...\n<choice>{better}</choice>")

    return reply


# -- critique ----------------------------------------------------------------------------


def test_critique_accepted_with_score_and_usage() -> None:
    j, model = judge(
        [answer("<verdict>correct</verdict>\n<score>0.9</score>\n<critique>none</critique>")]
    )
    c = j.critique(CONTEXT, proposal("Paris", "c1"))
    assert c.accepted and c.status == "ok" and c.score == pytest.approx(0.9)
    assert c.text == ""  # "none" means no remarks
    assert [v.tool_call_id for v in c.calls] == ["c1"] and c.calls[0].ok
    assert (c.usage.input_tokens, c.usage.output_tokens) == (100, 10)
    assert c.judge == "gen:ScriptedChatModel" and c.latency_s > 0
    assert c.raw_output and "<verdict>correct</verdict>" in c.raw_output
    assert len(model.calls) == 1
    assert '"city": "Paris"' in str(model.calls[0][-1].content)


def test_critique_rejected_gives_feedback_on_every_call_id() -> None:
    bad = Proposal(
        calls=(ToolCall(id="c1", name="get_weather", arguments={"city": "London"}),),
        failures=(ParseFailure(id="c2", name="get_weather", raw="{", reason="bad JSON"),),
    )
    j, _ = judge(
        ["<verdict>incorrect</verdict><critique>The user asked for Paris, not London.</critique>"]
    )
    c = j.critique(CONTEXT, bad)
    assert not c.accepted and c.score == 0.0 and c.status == "ok"
    assert c.text == "The user asked for Paris, not London."
    assert [v.tool_call_id for v in c.calls] == ["c1", "c2"]
    assert all(not v.ok and v.codes == [IssueCode.JUDGE_REJECTED] for v in c.calls)
    assert c.calls[0].feedback == c.text


def test_rejection_without_reason_still_tells_the_agent_something() -> None:
    j, _ = judge(["INCORRECT"])
    c = j.critique(CONTEXT, proposal("London"))
    assert (
        not c.accepted and "incorrect" in c.text.lower() and c.calls[0].issues[0].message == c.text
    )


def test_unparseable_answer_is_asked_again_once_with_a_reminder() -> None:
    j, model = judge(
        [answer("I am not sure.", 100, 5), answer("<verdict>correct</verdict>", 120, 3)]
    )
    c = j.critique(CONTEXT, proposal("Paris"))
    assert c.accepted and c.status == "ok"
    assert len(model.calls) == 2
    reask = model.calls[1]
    assert reask[:2] == model.calls[0]  # the same prompt, then the bad answer and a reminder
    assert reask[2].content == "I am not sure." and "<verdict>correct</verdict>" in str(
        reask[3].content
    )
    assert (c.usage.input_tokens, c.usage.output_tokens) == (220, 8)  # summed over attempts


@pytest.mark.parametrize("max_attempts", [2, 3, 6])
def test_unparseable_twice_fail_open_accepts(max_attempts: int) -> None:
    j, model = judge([], default="gibberish", on_unparseable="fail_open", max_attempts=max_attempts)
    c = j.critique(CONTEXT, proposal("Paris", "c1"))
    assert len(model.calls) == 2  # one re-ask, never more
    assert c.accepted and c.status == "unparseable" and c.score == 0.5
    assert c.codes == [IssueCode.JUDGE_UNPARSEABLE]
    assert c.calls[0].issues[0].severity == "warning" and c.calls[0].ok
    assert c.raw_output == "gibberish"


def test_unparseable_fail_closed_rejects_with_a_critique() -> None:
    j, _ = judge([], default="gibberish", on_unparseable="fail_closed")
    c = j.critique(CONTEXT, proposal("Paris"))
    assert not c.accepted and c.status == "unparseable"
    assert "could not judge" in c.text
    assert c.calls[0].issues[0].code == IssueCode.JUDGE_UNPARSEABLE
    assert c.calls[0].issues[0].severity == "error"


def test_unparseable_without_retries_asks_only_once() -> None:
    j, model = judge([], default="gibberish", max_attempts=1)
    assert j.critique(CONTEXT, proposal("Paris")).status == "unparseable"
    assert len(model.calls) == 1


def test_unparseable_raise_policy_gives_a_post_mortem() -> None:
    j, _ = judge([answer("hmm", 50, 7), answer("still hmm", 60, 8)], on_unparseable="raise")
    with pytest.raises(JudgeParseError) as info:
        j.critique(CONTEXT, proposal("Paris"))
    pm = info.value.post_mortem
    assert pm is not None and pm.judge == j.name
    assert pm.attempts == 2 and pm.last_output == "still hmm"
    assert (pm.input_tokens, pm.output_tokens) == (110, 15)
    assert len(pm.errors) == 2 and all("unparseable" in e for e in pm.errors)


def test_backend_error_then_success_is_retried() -> None:
    j, model = judge([ConnectionError("server restarting"), answer("<verdict>correct</verdict>")])
    c = j.critique(CONTEXT, proposal("Paris"))
    assert c.accepted and c.status == "ok" and len(model.calls) == 2
    assert c.usage.input_tokens == 100  # the failed attempt used nothing


@pytest.mark.parametrize(
    ("policy", "accepted", "severity"),
    [("fail_open", True, "warning"), ("fail_closed", False, "error")],
)
def test_backend_always_failing_is_bounded_and_policy_applies(
    policy: Any, accepted: bool, severity: str
) -> None:
    j, model = judge([], default=RuntimeError("boom"), on_unparseable=policy, max_attempts=3)
    c = j.critique(CONTEXT, proposal("Paris"))
    assert len(model.calls) == 3  # max_attempts
    assert c.accepted is accepted and c.status == "backend_error"
    assert c.codes == [IssueCode.JUDGE_ERROR] and c.calls[0].issues[0].severity == severity


def test_backend_error_policy_can_differ_from_unparseable_policy() -> None:
    j, _ = judge(
        [], default=RuntimeError("boom"), on_unparseable="fail_open", on_backend_error="fail_closed"
    )
    assert not j.critique(CONTEXT, proposal("Paris")).accepted


def test_backend_always_failing_raise_policy() -> None:
    j, model = judge([], default=RuntimeError("boom"), on_unparseable="raise", max_attempts=2)
    with pytest.raises(JudgeBackendError) as info:
        j.critique(CONTEXT, proposal("Paris"))
    pm = info.value.post_mortem
    assert pm is not None and pm.attempts == 2 and len(model.calls) == 2
    assert pm.errors == ["attempt 1: RuntimeError: boom", "attempt 2: RuntimeError: boom"]
    assert pm.last_output is None and pm.input_tokens == 0


def test_backoff_waits_between_backend_retries() -> None:
    j, _ = judge(
        [RuntimeError("a"), RuntimeError("b"), "<verdict>correct</verdict>"], backoff_s=0.05
    )
    start = time.perf_counter()
    assert j.critique(CONTEXT, proposal("Paris")).accepted
    assert time.perf_counter() - start >= 0.05 + 0.1  # 0.05 then 0.1 (doubled)


def test_sync_timeout_is_retried_without_waiting_for_the_slow_call() -> None:
    j, _ = judge(
        [2.0, "<verdict>correct</verdict>"], default="<verdict>correct</verdict>", timeout_s=0.2
    )
    start = time.perf_counter()
    c = j.critique(CONTEXT, proposal("Paris"))
    assert c.accepted and c.status == "ok"
    assert time.perf_counter() - start < 1.5


def test_sync_timeout_every_time_applies_the_policy() -> None:
    j, _ = judge([0.5, 0.5], default="<verdict>correct</verdict>", timeout_s=0.05, max_attempts=2,
                 on_unparseable="raise")  # fmt: skip
    with pytest.raises(JudgeBackendError) as info:
        j.critique(CONTEXT, proposal("Paris"))
    assert info.value.post_mortem is not None
    assert info.value.post_mortem.errors == [
        "attempt 1: timed out after 0.05 s",
        "attempt 2: timed out after 0.05 s",
    ]


async def test_async_timeout_is_retried() -> None:
    j, _ = judge([5.0, "<verdict>incorrect</verdict><critique>x</critique>"], timeout_s=0.1)
    start = time.perf_counter()
    c = await j.acritique(CONTEXT, proposal("Paris"))
    assert not c.accepted and c.status == "ok" and c.text == "x"
    assert time.perf_counter() - start < 1.0


async def test_async_twins_apply_the_same_policies() -> None:
    j, model = judge([], default="???", on_unparseable="fail_closed")
    c = await j.acritique(CONTEXT, proposal("Paris"))
    assert not c.accepted and c.status == "unparseable" and len(model.calls) == 2
    j, model = judge([], default=RuntimeError("down"), on_unparseable="raise", max_attempts=3)
    with pytest.raises(JudgeBackendError):
        await j.acritique(CONTEXT, proposal("Paris"))
    assert len(model.calls) == 3


# -- what each call carries --------------------------------------------------------------


class _Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.starts: list[dict[str, Any]] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.starts.append(kwargs)


@pytest.mark.parametrize("timeout_s", [None, 5.0])  # inline and in the timeout thread
def test_calls_are_tagged_nostream_and_named(timeout_s: float | None) -> None:
    j, _ = judge(["<verdict>correct</verdict>"], timeout_s=timeout_s)
    recorder = _Recorder()
    # a parent runnable's callbacks reach the judge's call (as inside a LangGraph node)
    RunnableLambda(lambda _: j.critique(CONTEXT, proposal("Paris"))).invoke(
        None, {"callbacks": [recorder]}
    )
    assert len(recorder.starts) == 1
    start = recorder.starts[0]
    assert TAG_NOSTREAM in start["tags"] and CRITIC_TAG in start["tags"]
    assert start["name"] == CRITIC_RUN_NAME and start["metadata"]["toolrm_judge"] == j.name


class _State(TypedDict):
    out: str


def _stream_messages(node: Callable[[_State], _State]) -> list[Any]:
    graph = StateGraph(_State)
    graph.add_node("n", node)
    graph.add_edge(START, "n")
    graph.add_edge("n", END)
    return list(graph.compile().stream({"out": ""}, stream_mode="messages"))


def test_critic_tokens_never_stream_to_the_user_in_langgraph() -> None:
    j, model = judge(["<verdict>correct</verdict>"])
    streamed = _stream_messages(
        lambda s: {"out": j.critique(CONTEXT, proposal("Paris")).raw_output or ""}
    )
    assert streamed == [] and len(model.calls) == 1
    # control: the same fake called directly from a node does reach the stream
    plain = ScriptedChatModel(script=["hello"])
    assert len(_stream_messages(lambda s: {"out": str(plain.invoke("hi").content)})) == 1


def test_thinking_flag_reaches_models_that_take_chat_template_kwargs() -> None:
    for thinking in (True, False):
        j, model = judge(["<verdict>correct</verdict>"], thinking=thinking, thinking_via="kwargs")
        j.critique(CONTEXT, proposal("Paris"))
        assert model.call_kwargs[0]["chat_template_kwargs"] == {"enable_thinking": thinking}


def test_thinking_selects_the_thinking_template() -> None:
    j, model = judge(["<verdict>correct</verdict>"], thinking=True)
    j.critique(CONTEXT, proposal("Paris"))
    assert "First check the proposal" in str(model.calls[0][-1].content)


def test_fakes_get_no_unknown_kwargs_but_model_kwargs_pass_through() -> None:
    j, model = judge(["<verdict>correct</verdict>"], thinking=True, model_kwargs={"max_tokens": 64})
    j.critique(CONTEXT, proposal("Paris"))
    assert model.call_kwargs[0] == {"max_tokens": 64}


class _TemplateKwargsModel(ScriptedChatModel):
    """A local-model stand-in that declares ``chat_template_kwargs`` (auto-detected)."""

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None,
                  chat_template_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> ChatResult:  # fmt: skip
        return super()._generate(
            messages, stop, run_manager, chat_template_kwargs=chat_template_kwargs, **kwargs
        )


def test_thinking_via_auto_detects_a_chat_template_kwargs_parameter() -> None:
    model = _TemplateKwargsModel(script=["<verdict>correct</verdict>"])
    GenerativeJudge(model, thinking=True).critique(CONTEXT, proposal("Paris"))
    assert model.call_kwargs[0]["chat_template_kwargs"] == {"enable_thinking": True}


def _openai_server(replies: list[str], bodies: list[dict[str, Any]]) -> httpx.MockTransport:
    """An OpenAI-compatible /chat/completions endpoint answering ``replies`` in turn."""

    def handle(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        text = replies[min(len(bodies), len(replies)) - 1]
        return httpx.Response(
            200,
            json={
                "id": f"cmpl-{len(bodies)}",
                "object": "chat.completion",
                "created": 0,
                "model": "toolrm",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366},
            },
        )

    return httpx.MockTransport(handle)


def _chat_openai(transport: httpx.MockTransport, **kwargs: Any) -> Any:
    import langchain_openai

    kwargs.setdefault("base_url", "http://vllm.invalid/v1")
    return langchain_openai.ChatOpenAI(
        model="RioLee/ToolRM-Qwen3-4B-Thinking-2507",
        api_key="EMPTY",
        max_retries=0,
        http_client=httpx.Client(transport=transport),
        http_async_client=httpx.AsyncClient(transport=transport),
        **kwargs,
    )


def test_chat_openai_gets_chat_template_kwargs_in_extra_body_and_reports_usage() -> None:
    bodies: list[dict[str, Any]] = []
    reasoning = "The user wants Paris. Response 2 calls London, which is wrong. " * 30
    model = _chat_openai(
        _openai_server(
            [f"<think>{reasoning}</think>\n<choice>\n1\n</choice>", "<choice>2</choice>"], bodies
        ),
        extra_body={"top_k": 20, "chat_template_kwargs": {"keep": 1}},
    )
    j = GenerativeJudge(model, thinking=True, backoff_s=0.0)
    pref = j.compare(CONTEXT, proposal("Paris"), proposal("London"))
    assert len(bodies) == 2
    for body in bodies:
        assert body["chat_template_kwargs"] == {"keep": 1, "enable_thinking": True}
        assert body["top_k"] == 20  # the model's own extra_body survives
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert pref.votes == (1, 1) and pref.choice == 1 and pref.consistent is True
    assert (pref.usage.input_tokens, pref.usage.output_tokens) == (642, 90)


async def test_chat_openai_async_path_with_thinking_off() -> None:
    bodies: list[dict[str, Any]] = []
    model = _chat_openai(_openai_server(["<verdict>correct</verdict>"], bodies))
    c = await GenerativeJudge(model, thinking=False).acritique(CONTEXT, proposal("Paris"))
    assert c.accepted and c.usage.input_tokens == 321
    assert bodies[0]["chat_template_kwargs"] == {"enable_thinking": False}
    assert c.judge == "gen:RioLee/ToolRM-Qwen3-4B-Thinking-2507"


def test_chat_openai_on_api_openai_com_gets_no_template_kwargs() -> None:
    bodies: list[dict[str, Any]] = []
    model = _chat_openai(_openai_server(["<verdict>correct</verdict>"], bodies), base_url=None)
    assert GenerativeJudge(model, thinking=True).critique(CONTEXT, proposal("Paris")).accepted
    assert "chat_template_kwargs" not in bodies[0]


# -- compare -----------------------------------------------------------------------------


def test_compare_in_both_orders_agreeing() -> None:
    j, model = judge([], default=prefers("Paris", "London"))
    pref = j.compare(CONTEXT, proposal("London"), proposal("Paris"))
    assert pref.choice == 2 and pref.votes == (2, 2) and pref.consistent is True
    assert pref.status == "ok" and len(pref.raw_outputs) == 2 and len(model.calls) == 2
    assert (pref.usage.input_tokens, pref.usage.output_tokens) == (200, 20)
    # the second question shows the proposals swapped
    assert '"London"' in response_1(model.calls[0]) and '"Paris"' in response_1(model.calls[1])


@pytest.mark.parametrize(
    ("answers", "votes", "choice", "consistent"),
    [
        (["<choice>1</choice>", "<choice>2</choice>"], (1, 1), 1, True),  # second order's 2 is a
        (["<choice>2</choice>", "<choice>1</choice>"], (2, 2), 2, True),
        (["<choice>1</choice>", "<choice>1</choice>"], (1, 2), None, False),  # position bias
    ],
)
def test_compare_maps_the_second_order_back(
    answers: list[str], votes: tuple, choice: Any, consistent: bool
) -> None:
    j, _ = judge(answers)
    pref = j.compare(CONTEXT, proposal("Paris"), proposal("London"))
    assert (pref.votes, pref.choice, pref.consistent) == (votes, choice, consistent)


def test_compare_one_order_unparseable_uses_the_other() -> None:
    j, model = judge(["<choice>2</choice>", "no idea", "still no idea"])
    pref = j.compare(CONTEXT, proposal("Paris"), proposal("London"))
    assert pref.choice == 2 and pref.votes == (2, None) and pref.consistent is None
    assert pref.status == "unparseable" and len(model.calls) == 3


def test_compare_one_order_backend_error_uses_the_other() -> None:
    j, _ = judge(
        ["<choice>1</choice>", RuntimeError("x")], default=RuntimeError("x"), max_attempts=2
    )
    pref = j.compare(CONTEXT, proposal("Paris"), proposal("London"))
    assert pref.choice == 1 and pref.votes == (1, None) and pref.status == "backend_error"


def test_compare_no_order_decides() -> None:
    j, _ = judge([], default="???")
    pref = j.compare(CONTEXT, proposal("Paris"), proposal("London"))
    assert pref.choice is None and pref.votes == (None, None) and pref.status == "unparseable"
    j, _ = judge([], default="???", on_unparseable="raise")
    with pytest.raises(JudgeParseError) as info:
        j.compare(CONTEXT, proposal("Paris"), proposal("London"))
    assert info.value.post_mortem is not None and info.value.post_mortem.attempts == 4


def test_compare_single_order() -> None:
    j, model = judge(["<choice>2</choice>"], both_orders=False)
    pref = j.compare(CONTEXT, proposal("Paris"), proposal("London"))
    assert (
        pref.choice == 2
        and pref.votes == (2,)
        and pref.consistent is None
        and len(model.calls) == 1
    )


def test_compare_identical_proposals_is_a_tie_without_a_call() -> None:
    j, model = judge([])
    pref = j.compare(CONTEXT, proposal("Paris", "a"), proposal("Paris", "b"))
    assert pref.choice is None and pref.consistent is True and model.calls == []


class _ConcurrencyProbe(BaseChatModel):
    """Answers after a short async sleep and records how many calls overlap."""

    reply: Callable[[list[BaseMessage]], AIMessage]
    in_flight: int = 0
    max_in_flight: int = 0

    @property
    def _llm_type(self) -> str:
        return "probe"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.reply(messages))])

    async def _agenerate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.05)
        self.in_flight -= 1
        return self._generate(messages)


async def test_acompare_asks_both_orders_concurrently() -> None:
    probe = _ConcurrencyProbe(reply=prefers("Paris", "London"))
    pref = await GenerativeJudge(probe).acompare(CONTEXT, proposal("London"), proposal("Paris"))
    assert pref.choice == 2 and pref.votes == (2, 2) and pref.consistent is True
    assert probe.max_in_flight == 2


# -- rank --------------------------------------------------------------------------------


def test_rank_round_robin_for_few_proposals() -> None:
    j, model = judge([], default=prefers("Paris", "Oslo", "Rome"))
    ranking = j.rank(CONTEXT, [proposal("Rome"), proposal("Paris"), proposal("Oslo")])
    assert ranking.order == (1, 2, 0) and ranking.best == 1
    assert ranking.scores == (0.0, 1.0, 0.5)
    assert ranking.comparisons == 3 and len(model.calls) == 6
    assert ranking.usage.input_tokens == 600


def test_rank_round_robin_undecided_pairs_split_the_point() -> None:
    j, _ = judge([], default="<choice>1</choice>")  # pure position bias: every pair undecided
    ranking = j.rank(CONTEXT, [proposal("Rome"), proposal("Paris"), proposal("Oslo")])
    assert ranking.scores == (0.5, 0.5, 0.5) and ranking.order == (0, 1, 2)


def test_rank_knockout_for_many_proposals() -> None:
    j, model = judge([], default=prefers("Bern", "Lima", "Paris"))
    ranking = j.rank(CONTEXT, [proposal(c) for c in CITIES])
    assert ranking.best == CITIES.index("Bern")
    assert ranking.comparisons == len(CITIES) - 1 and len(model.calls) == 2 * (len(CITIES) - 1)
    # round 1: Paris beats Rome, Lima beats Oslo, Cairo-Quito undecided (the earlier goes on),
    # Bern has a bye; round 2: Lima beats Paris, Bern beats Cairo; final: Bern beats Lima
    names = [CITIES[i] for i in ranking.order]
    assert names == ["Bern", "Lima", "Paris", "Cairo", "Rome", "Oslo", "Quito"]
    assert ranking.scores[CITIES.index("Bern")] == 1.0
    assert ranking.scores[CITIES.index("Lima")] == pytest.approx(2 / 3)


def test_rank_judges_identical_proposals_once() -> None:
    j, model = judge([], default=prefers("Paris", "Rome"))
    ranking = j.rank(CONTEXT, [proposal("Rome", "x"), proposal("Paris"), proposal("Rome", "y")])
    assert ranking.comparisons == 1 and len(model.calls) == 2
    assert ranking.order == (1, 0, 2) and ranking.scores == (0.0, 1.0, 0.0)


def test_rank_trivial_cases() -> None:
    j, model = judge([])
    assert j.rank(CONTEXT, [proposal("Rome")]).order == (0,)
    assert j.rank(CONTEXT, []).order == ()
    assert model.calls == []


def test_rank_pointwise_uses_critique_scores() -> None:
    scores = {"Rome": 0.2, "Paris": 0.9, "Oslo": 0.5}

    def grade(messages: list[BaseMessage]) -> str:
        city = next(
            c
            for c in scores
            if f'"{c}"' in str(messages[-1].content).split("## Proposed next turn")[1]
        )
        return f"<verdict>correct</verdict><score>{scores[city]}</score>"

    j, model = judge([], default=grade, rank_strategy="pointwise")
    ranking = j.rank(CONTEXT, [proposal("Rome"), proposal("Paris"), proposal("Oslo")])
    assert (
        ranking.order == (1, 2, 0) and ranking.scores == (0.2, 0.9, 0.5) and len(model.calls) == 3
    )


async def test_arank_matches_rank() -> None:
    proposals = [proposal(c) for c in CITIES]
    j, _ = judge([], default=prefers("Bern", "Lima", "Paris"))
    expected = j.rank(CONTEXT, proposals)
    j, _ = judge([], default=prefers("Bern", "Lima", "Paris"))
    got = await j.arank(CONTEXT, proposals)
    assert (got.order, got.scores, got.comparisons) == (
        expected.order,
        expected.scores,
        expected.comparisons,
    )
    j, _ = judge([], default=prefers("Paris", "Oslo", "Rome"))
    small = await j.arank(CONTEXT, [proposal("Rome"), proposal("Paris"), proposal("Oslo")])
    assert small.order == (1, 2, 0)


# -- construction ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"on_unparseable": "ignore"},
        {"on_backend_error": "retry"},
        {"rank_strategy": "elo"},
        {"thinking_via": "header"},
        {"max_attempts": 0},
        {"timeout_s": 0},
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        GenerativeJudge(ScriptedChatModel(), **kwargs)


def test_name_and_repr() -> None:
    j = GenerativeJudge(ScriptedChatModel(), name="my-critic")
    assert j.name == "my-critic" and "my-critic" in repr(j)
