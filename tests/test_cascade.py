"""CascadeJudge: the expensive judge is asked only where the cheap one passes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.verdicts import CallVerdict, Critique, Issue, IssueCode, Preference, Ranking, TokenUsage
from toolrm_agent.judges.base import Judge
from toolrm_agent.judges.cascade import CascadeJudge
from toolrm_agent.judges.schema import SchemaJudge

TOOLS = [
    {
        "name": "get_weather",
        "parameters": {
            "type": "dict",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    }
]
CTX = JudgeContext.build([Turn(role="user", content="Weather in Paris for 3 days?")], TOOLS)


def weather(cid: str, **args: object) -> Proposal:
    return Proposal(calls=(ToolCall(id=cid, name="get_weather", arguments=dict(args)),))


GOOD = weather("g1", city="Paris", days=3)
GOOD_2 = weather("g2", city="Paris")
WARNED = weather("w1", city="Lyon", days=3)  # accepted by schema, with an ungrounded warning
BAD = weather("b1", days=3)  # missing city
WORSE = weather("b2", town="Paris", days="3")  # two errors in one call, still score 0
BAD_PARALLEL = Proposal(calls=(*GOOD.calls, *BAD.calls))  # one good call, one bad


class CountingJudge:
    """An 'expensive' judge that counts every call, sync and async separately.

    It scores a proposal by ``prefer`` (the city it likes best wins), spends 10 input and
    2 output tokens per critique, and its compare/rank are its own (not from scores), so
    the tests can tell which judge decided.
    """

    def __init__(self, prefer: str = "Paris", accept: bool = True, name: str = "gen") -> None:
        self.name = name
        self.prefer = prefer
        self.accept = accept
        self.counts: dict[str, int] = {}
        self.seen: list[Proposal] = []

    def _count(self, method: str) -> None:
        self.counts[method] = self.counts.get(method, 0) + 1

    def _critique(self, proposal: Proposal) -> Critique:
        self.seen.append(proposal)
        liked = any(c.arguments.get("city") == self.prefer for c in proposal.calls)
        return Critique(
            accepted=self.accept,
            score=0.8 if liked else 0.6,
            text="" if self.accept else "The user asked about another city.",
            judge=self.name,
            calls=tuple(
                CallVerdict(
                    tool_call_id=c.id,
                    name=c.name,
                    ok=self.accept,
                    score=0.8,
                    issues=()
                    if self.accept
                    else (Issue(code=IssueCode.JUDGE_REJECTED, message="wrong city"),),
                    feedback="" if self.accept else "wrong city",
                )
                for c in proposal.calls
            ),
            usage=TokenUsage(input_tokens=10, output_tokens=2),
            raw_output="<verdict>",
        )

    def _compare(self, a: Proposal, b: Proposal) -> Preference:
        ca, cb = self._critique(a), self._critique(b)
        return Preference(
            choice=2 if cb.score > ca.score else 1,
            judge=self.name,
            consistent=True,
            votes=(1, 1),
            usage=TokenUsage(input_tokens=100, output_tokens=5),
        )

    def _rank(self, proposals: Sequence[Proposal]) -> Ranking:
        scores = [self._critique(p).score for p in proposals]
        order = sorted(range(len(proposals)), key=lambda i: (-scores[i], -i))  # ties: later first
        return Ranking(
            order=tuple(order),
            scores=tuple(scores),
            judge=self.name,
            usage=TokenUsage(input_tokens=50, output_tokens=0),
            comparisons=len(proposals) - 1,
        )

    def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        self._count("critique")
        return self._critique(proposal)

    async def acritique(self, context: JudgeContext, proposal: Proposal) -> Critique:
        self._count("acritique")
        await asyncio.sleep(0)
        return self._critique(proposal)

    def compare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        self._count("compare")
        return self._compare(a, b)

    async def acompare(self, context: JudgeContext, a: Proposal, b: Proposal) -> Preference:
        self._count("acompare")
        await asyncio.sleep(0)
        return self._compare(a, b)

    def rank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        self._count("rank")
        return self._rank(proposals)

    async def arank(self, context: JudgeContext, proposals: Sequence[Proposal]) -> Ranking:
        self._count("arank")
        await asyncio.sleep(0)
        return self._rank(proposals)


@pytest.fixture
def expensive() -> CountingJudge:
    return CountingJudge()


@pytest.fixture
def cascade(expensive: CountingJudge) -> CascadeJudge:
    return CascadeJudge(SchemaJudge(), expensive)


def test_is_a_judge_named_after_its_stages(cascade: CascadeJudge) -> None:
    assert isinstance(cascade, Judge)
    assert cascade.name == "cascade(schema,gen)"
    assert CascadeJudge(SchemaJudge(), CountingJudge(), name="mine").name == "mine"
    assert (
        CascadeJudge(cascade, CountingJudge(name="disc")).name
        == "cascade(cascade(schema,gen),disc)"
    )


# ------------------------------------------------------------------------ critique


def test_rejected_by_the_cheap_judge_never_reaches_the_expensive_one(
    cascade: CascadeJudge, expensive: CountingJudge
) -> None:
    critique = cascade.critique(CTX, BAD)
    assert not critique.accepted
    assert critique.judge == "schema"
    assert critique.codes == [IssueCode.MISSING_REQUIRED]
    assert critique.usage.total_tokens == 0
    assert expensive.counts == {}


def test_accepted_by_the_cheap_judge_goes_to_the_expensive_one(
    cascade: CascadeJudge, expensive: CountingJudge
) -> None:
    critique = cascade.critique(CTX, GOOD)
    assert expensive.counts == {"critique": 1}
    assert expensive.seen == [GOOD]
    assert critique.accepted and critique.judge == "gen"
    assert critique.score == 0.8
    assert critique.raw_output == "<verdict>"
    assert critique.usage == TokenUsage(input_tokens=10, output_tokens=2)


def test_warnings_of_the_cheap_judge_are_kept_and_usage_summed() -> None:
    cheap_usage = TokenUsage(input_tokens=1, output_tokens=1)

    class BilledSchema(SchemaJudge):
        def critique(self, context: JudgeContext, proposal: Proposal) -> Critique:
            return super().critique(context, proposal).override(usage=cheap_usage)

    expensive = CountingJudge(accept=False)
    critique = CascadeJudge(BilledSchema(), expensive).critique(CTX, WARNED)
    assert not critique.accepted  # the expensive judge's verdict stands
    (verdict,) = critique.calls
    assert verdict.tool_call_id == "w1" and not verdict.ok
    assert verdict.codes == [IssueCode.UNGROUNDED_VALUE, IssueCode.JUDGE_REJECTED]
    assert verdict.issues[0].severity == "warning"
    assert "wrong city" in verdict.feedback and "Lyon" in verdict.feedback
    assert critique.text.startswith("The user asked about another city.")
    assert '"Lyon"' in critique.text
    assert critique.usage == TokenUsage(input_tokens=11, output_tokens=3)


def test_verdicts_the_expensive_judge_does_not_give_are_kept_from_the_cheap_one() -> None:
    class Whole(CountingJudge):
        def _critique(self, proposal: Proposal) -> Critique:
            return super()._critique(proposal).override(calls=())

    critique = CascadeJudge(SchemaJudge(), Whole()).critique(CTX, WARNED)
    assert [v.tool_call_id for v in critique.calls] == ["w1"]
    assert critique.calls[0].codes == [IssueCode.UNGROUNDED_VALUE]


# ------------------------------------------------------------------------- compare


def test_compare_exactly_one_passes_wins_without_the_expensive_judge(
    cascade: CascadeJudge, expensive: CountingJudge
) -> None:
    assert cascade.compare(CTX, GOOD, BAD).choice == 1
    pref = cascade.compare(CTX, BAD, WARNED)
    assert pref.choice == 2
    assert pref.judge == "cascade(schema,gen)"
    assert pref.scores is not None and pref.scores[1] > pref.scores[0]
    assert expensive.counts == {}


def test_compare_both_fail_higher_cheap_score_wins_tie_is_none(
    cascade: CascadeJudge, expensive: CountingJudge
) -> None:
    assert cascade.compare(CTX, BAD, BAD_PARALLEL).choice == 2  # one good call of two
    assert cascade.compare(CTX, BAD, WORSE).choice is None  # both 0.0
    assert expensive.counts == {}


def test_compare_both_pass_delegates_to_the_expensive_compare(
    cascade: CascadeJudge, expensive: CountingJudge
) -> None:
    pref = cascade.compare(CTX, WARNED, GOOD)
    assert expensive.counts == {"compare": 1}
    assert pref.choice == 2  # the expensive judge prefers Paris
    assert pref.consistent is True and pref.votes == (1, 1)
    assert pref.judge == "cascade(schema,gen)"
    assert pref.usage == TokenUsage(input_tokens=100, output_tokens=5)


def test_compare_exactly_one_passes_even_when_its_score_is_lower() -> None:
    class Odd(CountingJudge):  # a first judge whose accepted score is below a rejected one
        def _critique(self, proposal: Proposal) -> Critique:
            c = super()._critique(proposal)
            ok = any("city" in call.arguments for call in proposal.calls)
            return c.override(accepted=ok, score=0.1 if ok else 0.9)

    expensive = CountingJudge()
    assert CascadeJudge(Odd(name="odd"), expensive).compare(CTX, BAD, GOOD).choice == 2
    assert expensive.counts == {}


# ---------------------------------------------------------------------------- rank


def test_rank_passing_first_by_the_expensive_rank_then_failing_by_cheap_score(
    cascade: CascadeJudge, expensive: CountingJudge
) -> None:
    proposals = [BAD, WARNED, WORSE, GOOD, BAD_PARALLEL]
    ranking = cascade.rank(CTX, proposals)
    assert expensive.counts == {"rank": 1}
    assert expensive.seen == [WARNED, GOOD]  # only the passing ones
    assert ranking.order == (3, 1, 4, 0, 2)
    assert ranking.judge == "cascade(schema,gen)"
    assert ranking.best == 3
    assert ranking.scores[3] == 0.8 and ranking.scores[1] == 0.6  # the expensive scores
    assert ranking.scores[4] == pytest.approx(0.25)  # the cheap score of a failing one
    assert ranking.usage == TokenUsage(input_tokens=50)
    assert ranking.comparisons == 1


@pytest.mark.parametrize("proposals", [[BAD, GOOD, WORSE], [BAD, WORSE], []])
def test_rank_with_at_most_one_passing_never_asks_the_expensive_judge(
    cascade: CascadeJudge, expensive: CountingJudge, proposals: list[Proposal]
) -> None:
    ranking = cascade.rank(CTX, proposals)
    assert expensive.counts == {}
    assert sorted(ranking.order) == list(range(len(proposals)))
    if proposals and proposals[1] is GOOD:
        assert ranking.best == 1


def test_rank_survives_an_inner_ranking_that_is_not_a_permutation() -> None:
    class Sloppy(CountingJudge):
        def _rank(self, proposals: Sequence[Proposal]) -> Ranking:
            return Ranking(order=(1, 1, 7), judge=self.name)

    ranking = CascadeJudge(SchemaJudge(), Sloppy()).rank(CTX, [GOOD, GOOD_2, BAD])
    assert ranking.order == (1, 0, 2)


# --------------------------------------------------------------------------- async


async def test_async_critique_awaits_the_async_methods(
    cascade: CascadeJudge, expensive: CountingJudge
) -> None:
    rejected = await cascade.acritique(CTX, BAD)
    assert not rejected.accepted and expensive.counts == {}
    accepted = await cascade.acritique(CTX, GOOD)
    assert accepted.accepted and accepted.judge == "gen"
    assert expensive.counts == {"acritique": 1}


async def test_async_compare_and_rank_await_the_async_methods(
    cascade: CascadeJudge, expensive: CountingJudge
) -> None:
    assert (await cascade.acompare(CTX, GOOD, BAD)).choice == 1
    assert (await cascade.acompare(CTX, BAD, WORSE)).choice is None
    assert expensive.counts == {}
    assert (await cascade.acompare(CTX, WARNED, GOOD)).choice == 2
    ranking = await cascade.arank(CTX, [BAD, WARNED, GOOD])
    assert ranking.order == (2, 1, 0)
    assert expensive.counts == {"acompare": 1, "arank": 1}


async def test_async_first_stage_runs_concurrently() -> None:
    started: list[str] = []
    release = asyncio.Event()

    class Gate(CountingJudge):
        async def acritique(self, context: JudgeContext, proposal: Proposal) -> Critique:
            started.append(proposal.calls[0].id)
            if len(started) == 2:
                release.set()
            await asyncio.wait_for(release.wait(), timeout=2)
            return self._critique(proposal)

    pref = await CascadeJudge(Gate(name="gate"), CountingJudge()).acompare(CTX, GOOD, GOOD_2)
    assert sorted(started) == ["g1", "g2"]
    assert pref.choice in (1, 2)


async def test_sync_and_async_agree(cascade: CascadeJudge) -> None:
    proposals = [WORSE, GOOD, BAD_PARALLEL, WARNED]
    assert (await cascade.arank(CTX, proposals)).order == cascade.rank(CTX, proposals).order
    for a, b in [(GOOD, BAD), (BAD, WORSE), (WARNED, GOOD)]:
        assert (await cascade.acompare(CTX, a, b)).choice == cascade.compare(CTX, a, b).choice
        assert (await cascade.acritique(CTX, a)).accepted == cascade.critique(CTX, a).accepted
