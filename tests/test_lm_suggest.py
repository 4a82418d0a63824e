"""The LM's own values: value spans, greedy decoding on the cached prefix, suggestions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.specs import ToolSpec
from toolrm_agent.judges.trained.lm_scoring import LMScorer, ValueSpan, rendered_value_spans, same_value

EVENTS = JudgeContext(
    turns=(Turn(role="user", content="Find events starting from 10th December 2022"),),
    tools=(ToolSpec(name="get_events", description="Events from a date",
                    parameters={"type": "object",
                                "properties": {"start_date": {"type": "string",
                                                              "description": "Start date in YYYY-MM-DD format"},
                                               "limit": {"type": "integer"}, "past": {"type": "boolean"}},
                                "required": ["start_date"]}),),
)
CALL = ToolCall(name="get_events", arguments={"start_date": "10th December 2022", "limit": 5, "past": False,
                                              "tags": ["a", "b"]}, id="c1")
TWO = Proposal(calls=(CALL, ToolCall(name="get_events", arguments={"start_date": "Paris"}, id="c0")))


def test_rendered_spans_hold_the_argument_literals() -> None:
    rendered = TWO.render()
    spans = rendered_value_spans(TWO)
    assert sorted((s.call_id, s.argument) for s in spans) == sorted(
        [("c1", "start_date"), ("c1", "limit"), ("c1", "past"), ("c1", "tags"), ("c0", "start_date")])
    for s in spans:
        call = next(c for c in TWO.calls if c.id == s.call_id)
        assert json.loads(rendered[s.start:s.end]) == call.arguments[s.argument] == s.value


def test_value_spans_cover_the_value_tokens(tiny_qwen_dir: Path) -> None:
    scorer = LMScorer(tiny_qwen_dir, dtype="float32")
    suffix = scorer.suffix_ids(TWO)
    rendered = TWO.render()
    for s in scorer.value_spans(TWO):
        assert 0 <= s.first_token < s.end_token <= len(suffix)
        text = scorer.tokenizer.decode(suffix[s.first_token:s.end_token])
        content = s.value if isinstance(s.value, str) else rendered[s.start:s.end]
        assert content in text  # the tokens cover the value, and little else
        assert len(text) <= len(content) + 6
        assert rendered[s.token_start:].startswith(scorer.tokenizer.decode(suffix[s.first_token:s.first_token + 1]))


def test_values_beyond_the_proposal_cut_have_no_tokens(tiny_qwen_dir: Path) -> None:
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", max_proposal_tokens=8)
    assert all(s.first_token == -1 for s in scorer.value_spans(TWO))
    assert scorer.suggest(EVENTS, TWO, below=0.0) == []


def _greedy_without_cache(scorer: LMScorer, ids: list[int], n: int) -> list[int]:
    import torch

    model, _ = scorer._load()
    out: list[int] = []
    with torch.no_grad():
        for _ in range(n):
            logits = model(torch.tensor([ids + out])).logits[0, -1]
            out.append(int(logits.argmax()))
    return out


@pytest.mark.parametrize("argument", ["start_date", "limit", "past"])
def test_the_cached_decode_is_a_plain_greedy_decode(tiny_qwen_dir: Path, argument: str) -> None:
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", tools="called")
    proposal = Proposal(calls=(CALL,))
    span = next(s for s in scorer.value_spans(proposal) if s.argument == argument)
    done = scorer.complete_value(EVENTS, proposal, span, max_new_tokens=12)
    assert 1 <= len(done.tokens) <= 12
    ids = scorer.prefix_ids(EVENTS, proposal) + scorer.suffix_ids(proposal)[: span.first_token]
    assert list(done.tokens) == _greedy_without_cache(scorer, ids, len(done.tokens))
    again = scorer.complete_value(EVENTS, proposal, span, max_new_tokens=12)  # the stored prefix is intact
    assert again == done


class SteeredLM:
    """The tiny model with its greedy next token forced after given tokens (``after[a] = b``:
    after token ``a`` the LM all but certainly writes ``b``); the rest is the model's own."""

    def __init__(self, model: Any, after: dict[int, int]) -> None:
        self.model, self.after = model, after

    def __call__(self, *, input_ids: Any, **kwargs: Any) -> Any:
        out = self.model(input_ids=input_ids, **kwargs)
        seen = input_ids[:, -out.logits.shape[1]:]
        for a, b in self.after.items():
            out.logits[:, :, b] += 100.0 * (seen == a).to(out.logits.dtype)
        return out


def steer(scorer: LMScorer, *chain: str) -> None:
    """After the opening quote of a value (`` "``) the LM writes the tokens of ``chain``, then ``"``."""
    tok = scorer.tokenizer
    ids = tok.convert_tokens_to_ids(["\u0120\"", *chain, '"'])
    model, _ = scorer._load()
    model = model.model if isinstance(model, SteeredLM) else model
    scorer._model = SteeredLM(model, dict(zip(ids, ids[1:], strict=False)))


def with_date(value: object, **more: object) -> Proposal:
    return Proposal(calls=(ToolCall(name="get_events", arguments={"start_date": value, **more}, id="c"),))


def test_the_weakest_value_gets_the_lms_own(tiny_qwen_dir: Path) -> None:
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", tools="called")
    steer(scorer, "ab", "c")
    (found,) = scorer.suggest(EVENTS, with_date("10th December 2022", limit=5, past=True))
    assert (found.call_id, found.function, found.argument) == ("c", "get_events", "start_date")
    assert (found.value, found.suggested) == ("10th December 2022", "abc") and found.min_logprob < -10


def test_a_value_the_lm_would_write_is_not_suggested(tiny_qwen_dir: Path) -> None:
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", tools="called")
    steer(scorer, "ab", "c")
    assert scorer.suggest(EVENTS, with_date("abc")) == []  # likely, and the LM's own tokens
    steer(scorer, "a", "b", "c")  # the LM spells it a, b, c; the proposal's tokens are ab, c
    (span,) = scorer.value_spans(with_date("abc"))
    done = scorer.complete_value(EVENTS, with_date("abc"), span)
    assert done.closed and done.value == "abc" and len(done.tokens) == 4
    assert scorer.suggest(EVENTS, with_date("abc"), below=0.0) == []  # weak, differs, yet the same value


def test_a_value_that_never_closes_is_not_suggested(tiny_qwen_dir: Path) -> None:
    scorer = LMScorer(tiny_qwen_dir, dtype="float32", tools="called")  # the random model never writes a quote
    proposal = with_date("10th December 2022")
    span = next(s for s in scorer.value_spans(proposal) if s.argument == "start_date")
    done = scorer.complete_value(EVENTS, proposal, span, max_new_tokens=8)
    assert not done.closed and len(done.tokens) == 8
    assert scorer.suggest(EVENTS, proposal, below=0.0, max_new_tokens=8) == []


def test_same_value_tells_kinds_apart() -> None:
    assert same_value(1, 1.0) and same_value("a", "a") and same_value([1], [1])
    assert not same_value(1, True) and not same_value(False, 0) and not same_value("1", 1)
    assert isinstance(ValueSpan("c", "f", "a", 1, 0, 1), ValueSpan)


# ------------------------------------------------------------------ the trained critic's critiques


def lm_critic_dir(folder: Path, model: Path, *, bias: float, **manifest: object) -> Path:
    """A critic that reads call features and the LM's statistics; its logit is ``bias``."""
    import numpy as np

    from toolrm_agent.judges.features import FEATURE_NAMES
    from toolrm_agent.judges.trained.trained import LM_STAT_NAMES, CriticManifest

    names = list(FEATURE_NAMES) + list(LM_STAT_NAMES)
    d = len(names)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "head.npz", mean=np.zeros(d, np.float32), std=np.ones(d, np.float32),
             w1=np.zeros((d, 2), np.float32), b1=np.zeros(2, np.float32),
             w2=np.zeros((2, 1), np.float32), b2=np.array([bias], np.float32))
    fields: dict[str, Any] = {"features": True, "relevance": False, "encoder": None, "lm_stats": True,
                              "base_model": str(model), "lm_tools": "called", "input_names": names,
                              "threshold": 0.5, **manifest}
    (folder / "critic.json").write_text(CriticManifest(**fields).model_dump_json())
    return folder


def steered_critic(path: Path, **options: Any) -> Any:
    from toolrm_agent.judges.trained.trained import TrainedJudge

    critic = TrainedJudge(path, **options)
    tier = critic.second or critic
    steer(tier.reader.lm, "ab", "c")
    return critic


LINE = ('- `start_date` of `get_events`: the language model expects "abc" here, not "10th December 2022" '
        "(its suggestion, not a rule).")


def test_a_rejected_proposal_names_the_lms_value(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    from toolrm_agent.core.verdicts import IssueCode

    critic = steered_critic(lm_critic_dir(tmp_path / "c", tiny_qwen_dir, bias=-3.0))
    assert critic.suggest
    out = critic.critique(EVENTS, with_date("10th December 2022"))
    assert not out.accepted and LINE in out.text.splitlines()
    (hint,) = [i for i in out.calls[0].issues if i.code == IssueCode.LM_SUGGESTION]
    assert hint.severity == "warning" and hint.argument == "start_date" and '"abc"' in hint.message
    quiet = steered_critic(lm_critic_dir(tmp_path / "c", tiny_qwen_dir, bias=-3.0), suggest=False)
    plain = quiet.critique(EVENTS, with_date("10th December 2022"))
    assert LINE not in plain.text and IssueCode.LM_SUGGESTION not in plain.codes
    assert out.text.startswith(plain.text.split("\n- Check")[0])


def test_an_accepted_proposal_gets_no_suggestion(tiny_qwen_dir: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    critic = steered_critic(lm_critic_dir(tmp_path / "c", tiny_qwen_dir, bias=3.0))
    monkeypatch.setattr(critic.reader.lm, "suggest", lambda *a, **k: pytest.fail("asked for an accepted proposal"))
    out = critic.critique(EVENTS, with_date("10th December 2022"))
    assert out.accepted and out.text == "" and not out.codes


def test_a_failing_lm_leaves_the_critique_intact(tiny_qwen_dir: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    path = lm_critic_dir(tmp_path / "c", tiny_qwen_dir, bias=-3.0)
    critic = steered_critic(path)
    expected = steered_critic(path, suggest=False).critique(EVENTS, with_date("10th December 2022"))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(critic.reader.lm, "suggest", broken)
    out = critic.critique(EVENTS, with_date("10th December 2022"))
    assert out.text == expected.text and out.codes == expected.codes and not out.accepted
    assert "suggestion failed (RuntimeError: out of memory)" in caplog.text


def test_the_second_tier_suggests_in_a_two_tier_critic(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    root = lm_critic_dir(tmp_path / "two", tiny_qwen_dir, bias=0.0, lm_stats=False, base_model=None,
                         input_names=[], second_stage="lm", route="always")
    import numpy as np

    from toolrm_agent.judges.features import FEATURE_NAMES

    d = len(FEATURE_NAMES)  # the first tier: features only
    np.savez(root / "head.npz", mean=np.zeros(d, np.float32), std=np.ones(d, np.float32),
             w1=np.zeros((d, 2), np.float32), b1=np.zeros(2, np.float32),
             w2=np.zeros((2, 1), np.float32), b2=np.array([0.0], np.float32))
    lm_critic_dir(root / "lm", tiny_qwen_dir, bias=-3.0)
    critic = steered_critic(root)
    assert not critic.suggest and critic.second is not None and critic.second.suggest
    assert LINE in critic.critique(EVENTS, with_date("10th December 2022")).text.splitlines()
    assert not steered_critic(root, suggest=False).second.suggest


def test_ranking_and_comparing_ask_for_no_suggestion(tiny_qwen_dir: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ranking and a Preference keep scores and verdicts only: the LM's values are not decoded
    for them; the scores and verdicts equal the critiques'."""
    critic = steered_critic(lm_critic_dir(tmp_path / "c", tiny_qwen_dir, bias=-3.0))
    proposals = [with_date("10th December 2022"), with_date("abc")]
    critiques = critic.critique_many(EVENTS, proposals)
    assert any(LINE in c.text.splitlines() for c in critiques)  # suggested where a text is asked for
    monkeypatch.setattr(critic.reader.lm, "suggest", lambda *a, **k: pytest.fail("suggested for a ranking"))
    ranking = critic.rank(EVENTS, proposals)
    assert ranking.scores == tuple(c.score for c in critiques)
    assert ranking.accepted == tuple(c.accepted for c in critiques) == (False, False)
    assert critic.compare(EVENTS, *proposals).scores == ranking.scores


def test_the_suggest_option(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    from toolrm_agent.core.errors import ConfigurationError, ConfigurationTypeError
    from toolrm_agent.judges.loader import load_judge
    from toolrm_agent.judges.trained.trained import TrainedJudge

    path = lm_critic_dir(tmp_path / "c", tiny_qwen_dir, bias=-3.0)
    assert isinstance(judge := load_judge(f"disc:{path}?suggest=false"), TrainedJudge) and not judge.suggest
    assert isinstance(judge := load_judge(f"disc:{path}?suggest=1"), TrainedJudge) and judge.suggest is True
    with pytest.raises(ConfigurationError, match="suggest must be true or false"):
        load_judge(f"disc:{path}?suggest=maybe")
    with pytest.raises(ConfigurationTypeError, match="sugest"):
        load_judge(f"disc:{path}?sugest=true")
    # an LM behind a server suggests nothing: asked for, that fails at construction
    served = TrainedJudge(path, lm_url="http://127.0.0.1:9/v1", lm_model="tiny")
    assert not served.suggest
    with pytest.raises(ConfigurationError, match="through a server"):
        TrainedJudge(path, lm_url="http://127.0.0.1:9/v1", lm_model="tiny", suggest=True)
    features_only = lm_critic_dir(tmp_path / "f", tiny_qwen_dir, bias=0.0, lm_stats=False, base_model=None,
                                  input_names=[])
    with pytest.raises(ConfigurationError, match="reads none"):
        TrainedJudge(features_only, suggest=True)


def test_a_server_lm_suggests_nothing(tiny_qwen_dir: Path) -> None:
    from toolrm_agent.core.errors import ConfigurationError
    from toolrm_agent.judges.trained.lm_server import ServerLMScorer

    remote = ServerLMScorer(tiny_qwen_dir, base_url="http://127.0.0.1:9/v1", model="t")
    assert remote.suggest(EVENTS, with_date("10th December 2022")) == []
    with pytest.raises(ConfigurationError):
        remote.complete_value(EVENTS, with_date("x"), ValueSpan("c", "get_events", "start_date", "x", 0, 1))
