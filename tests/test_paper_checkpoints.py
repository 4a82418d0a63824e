"""Another checkpoint's prompt format behind our judges: a user's template file
(``templates=<path>``) for gen/openai judges and disc reward models, and the reward-model
checkpoint formats ``disc:<dir>`` reads (a seq-cls head with one or two labels, a TRL
value head). Every template text here is made up for the test."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from tests.fakes import BRACKET_ANSWER_TAGS, ScriptedChatModel, tiny_qwen2_config, weather_tool
from toolrm_agent.core.calls import Proposal, ToolCall
from toolrm_agent.core.context import JudgeContext, Turn
from toolrm_agent.core.errors import CheckpointError, ConfigurationError
from toolrm_agent.judges.generative.answers import parse_choice, parse_verdict
from toolrm_agent.judges.generative.generative import GenerativeJudge
from toolrm_agent.judges.generative.template_file import load_templates
from toolrm_agent.judges.generative.templates import DEFAULT_TEMPLATES, AnswerTags
from toolrm_agent.judges.loader import load_judge
from toolrm_agent.judges.trained.discriminative import DiscriminativeJudge, format_for_reward, reward_head_kind

WEATHER = weather_tool()
CONTEXT = JudgeContext.build([Turn(role="user", content="Weather in Paris?")], [WEATHER])
PARIS = Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Paris"}),))
ROME = Proposal(calls=(ToolCall(name="get_weather", arguments={"city": "Rome"}),))

TEMPLATES = '''
# made up for the test: a judge trained on "[[A]]" / "[[B]]" answers
[pairwise]
user = """ZEBRA-PAIR judge. Toolbox:
{tools}
Dialogue:
{conversation}
Option A:
{response_1}
Option B:
{response_2}
Reply with [[A]] or [[B]]."""

[pointwise]
system = "ZEBRA-ONE system text"
user = "Toolbox: {tools}\\nDialogue: {conversation}\\nCandidate: {proposal}\\nSay <ok>yes</ok> or <ok>no</ok>."

[disc]
system = "Reward me. {tools}"
user = "{conversation}"

''' + BRACKET_ANSWER_TAGS + '''critique = ["<why>", "</why>"]
'''


@pytest.fixture()
def template_file(tmp_path: Path) -> Path:
    path = tmp_path / "my_templates.toml"
    path.write_text(TEMPLATES)
    return path


def _judge(path: Path | str, script: list[Any]) -> tuple[GenerativeJudge, ScriptedChatModel]:
    model = ScriptedChatModel(script=script)
    return GenerativeJudge(model, templates=path, backoff_s=0.0), model


# -- the template file drives a generative judge ------------------------------------------------


def test_pairwise_prompt_is_the_users_and_its_answer_is_read_with_the_users_tags(template_file: Path) -> None:
    # asked (Paris, Rome) then (Rome, Paris): "[[A]]" then "[[B]]" both mean Paris
    judge, model = _judge(template_file, ["I think [[A]]", "<think>[[A]]</think> so [[ b ]]"])
    pref = judge.compare(CONTEXT, PARIS, ROME)
    assert (pref.choice, pref.consistent, pref.status) == (1, True, "ok")
    first = model.calls[0]
    assert [type(m) for m in first] == [HumanMessage]  # no system text in the file: no system message
    text = str(first[0].content)
    assert text.startswith("ZEBRA-PAIR judge. Toolbox:\n{") and "Reply with [[A]] or [[B]]." in text
    assert text.index('"Paris"') < text.index('"Rome"') and "Weather in Paris?" in text
    assert "get_weather" in text and "## Response 1" not in text  # ours is gone
    second = str(model.calls[1][0].content)
    assert second.index('"Rome"') < second.index('"Paris"')


def test_pointwise_uses_the_users_verdict_and_critique_tags(template_file: Path) -> None:
    judge, model = _judge(template_file, ["<ok>no</ok> <why>use Rome</why>", "<ok> YES </ok>"])
    bad = judge.critique(CONTEXT, ROME)
    assert (bad.accepted, bad.text, bad.status) == (False, "use Rome", "ok")
    assert [type(m) for m in model.calls[0]] == [SystemMessage, HumanMessage]
    assert model.calls[0][0].content == "ZEBRA-ONE system text"
    assert str(model.calls[0][1].content).startswith("Toolbox: {")
    good = judge.critique(CONTEXT, PARIS)
    assert good.accepted is True and good.score == 1.0


def test_an_unreadable_answer_is_re_asked_in_the_users_tags(template_file: Path) -> None:
    judge, model = _judge(template_file, ["no idea", "[[B]]", "[[A]]"])
    pref = judge.compare(CONTEXT, PARIS, ROME)
    assert pref.votes == (2, 2) and pref.choice == 2
    reminder = str(model.calls[1][-1].content)
    assert "[[A]]" in reminder and "[[B]]" in reminder and "<choice>" not in reminder


def test_thinking_templates_default_to_the_plain_ones_and_other_tasks_stay_ours(tmp_path: Path) -> None:
    path = tmp_path / "pairwise_only.toml"
    path.write_text(TEMPLATES.split("[pointwise]")[0])
    loaded = load_templates(path)
    assert loaded.pairwise_thinking == loaded.pairwise and loaded.source == str(path)
    assert loaded.pointwise == DEFAULT_TEMPLATES.pointwise
    assert loaded.pointwise_reminder == DEFAULT_TEMPLATES.pointwise_reminder
    assert loaded.reward is None and loaded.tags == AnswerTags()


def test_the_user_tags_come_first_and_our_readings_still_apply() -> None:
    tags = AnswerTags(choice=("[[", "]]"), choice_values=("A", "B"), verdict=("<ok>", "</ok>"), accept=("yes",))
    assert parse_choice("[[A]] ... <choice>2</choice>", tags=tags) == 1
    assert parse_choice("[[C]] then Response 2 is better", tags=tags) == 2  # lenient reading kept
    assert parse_choice("[[A]]") is None  # our tags alone do not read theirs
    v = parse_verdict("<ok>yes</ok><score>8/10</score>", tags=tags)
    assert (v.accepted, v.score) == (True, 0.8)
    assert parse_verdict("no tag here; the call is incorrect", tags=tags).accepted is False


def test_templates_option_in_specs(template_file: Path) -> None:
    judge = load_judge(f"openai:m@http://127.0.0.1:9/v1?templates={template_file}&both_orders=0")
    assert isinstance(judge, GenerativeJudge)
    assert judge.templates.source == str(template_file) and judge.templates.tags.choice == ("[[", "]]")
    assert judge.override(thinking=True).templates == judge.templates
    with pytest.raises(ConfigurationError, match="no such file"):
        load_judge("openai:m@http://127.0.0.1:9/v1?templates=/no/such/templates.toml")
    with pytest.raises(ConfigurationError, match="unknown option"):
        load_judge(f"disc:default?templates={template_file}")  # the trained critic takes none


# -- bad files fail when the judge is built -----------------------------------------------------

_PAIR_OK = 'user = "{tools} {conversation} {response_1} {response_2}"'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[pairwise\n", "not valid TOML"),
        ("[pairwize]\n" + _PAIR_OK, r"unknown table 'pairwize' \(did you mean `pairwise`"),
        ("[pairwise]\n" + _PAIR_OK + '\nsytem = "x"', "unknown key 'sytem'"),
        ('[pairwise]\nuser = "{tools} {conversation} {response_1}"', r"never uses \{response_2\}"),
        ('[pointwise]\nuser = "{tools} {conversation} {response_1}"', r"uses the field \{response_1\}"),
        ('[pointwise]\nuser = "{tools} {conversation} {proposl}"', r"did you mean `\{proposal\}`"),
        ('[pairwise]\nuser = "{tools} {conversation} {response_1} {response_2} {"', "brace"),
        ('[pairwise]\nuser = "{tools} {conversation} {response_1} {response_2} {}"', "plain named field"),
        ('[pairwise]\nuser = "{tools!r} {conversation} {response_1} {response_2}"', "plain named field"),
        ("[pairwise]\nuser = 3", "user must be a string"),
        ("[pairwise]\n" + 'system = "s"', "user is missing"),
        ('[answer]\nchoice = ["[["]', "defines no template"),
        ("[pairwise]\n" + _PAIR_OK + '\n[answer]\nchoice = ["[["]', "two non-empty strings"),
        ("[pairwise]\n" + _PAIR_OK + '\n[answer]\nchoice_values = ["A", "a"]', "must differ"),
        ("[pairwise]\n" + _PAIR_OK + '\n[answer]\naccept = ["ok"]\nreject = ["OK"]', "both accept and reject"),
        ('pairwise = "x"', "must be a table"),
        ('[disc]\nuser = "{conversation}"', r"never uses \{tools\}"),
    ],
)
def test_bad_template_files_fail_at_construction(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        GenerativeJudge(ScriptedChatModel(), templates=path)


def test_missing_file_and_a_disc_judge_without_a_disc_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no such file"):
        GenerativeJudge(ScriptedChatModel(), templates=tmp_path / "none.toml")
    with pytest.raises(ConfigurationError, match="it is a directory"):
        GenerativeJudge(ScriptedChatModel(), templates=tmp_path)
    path = tmp_path / "gen_only.toml"
    path.write_text("[pairwise]\n" + _PAIR_OK)
    with pytest.raises(ConfigurationError, match=r"no \[disc\] table"):
        DiscriminativeJudge(tmp_path, templates=path)


# -- disc:<dir> reads the published reward-model formats ----------------------------------------


def _seq_cls(tiny_qwen_dir: Path, path: Path, num_labels: int) -> Path:
    import torch
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_qwen_dir)
    config = tiny_qwen2_config(len(tokenizer), num_labels=num_labels, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(num_labels)
    model = transformers.Qwen2ForSequenceClassification(config)
    with torch.no_grad():  # a visible spread of rewards
        model.score.weight.normal_(0.0, 2.0)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def seq_cls_dir(tiny_qwen_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _seq_cls(tiny_qwen_dir, tmp_path_factory.mktemp("seq_cls"), 1)


def test_a_seq_cls_checkpoint_scores_and_ranks_through_its_template(
    seq_cls_dir: Path, template_file: Path
) -> None:
    judge = load_judge(f"disc:{seq_cls_dir}?templates={template_file}")
    assert isinstance(judge, DiscriminativeJudge) and reward_head_kind(seq_cls_dir) == "seq-cls"
    rewards, _ = judge.logits([(CONTEXT, PARIS), (CONTEXT, ROME)])
    assert all(math.isfinite(r) for r in rewards) and rewards[0] != rewards[1]
    assert judge.logits([(CONTEXT, PARIS), (CONTEXT, ROME)])[0] == rewards  # deterministic
    ranking = judge.rank(CONTEXT, [PARIS, ROME])
    better = 0 if rewards[0] > rewards[1] else 1
    assert ranking.order[0] == better
    assert ranking.scores[better] == pytest.approx(1 / (1 + math.exp(-rewards[better])))
    # the text it scored is the template's, through the tokenizer's chat template
    text = format_for_reward(CONTEXT, PARIS, judge._load()[1], template=judge.template)
    assert "<|im_start|>system\nReward me. {" in text and "<|im_start|>user\n[user]\nWeather in Paris?" in text
    assert text.rstrip().endswith('{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>')
    # our own format without the template: a different text, so (almost surely) other rewards
    assert DiscriminativeJudge(seq_cls_dir).logits([(CONTEXT, PARIS)])[0] != rewards[:1]


def test_two_labels_give_the_log_odds_of_label_one(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    import torch
    import transformers

    path = _seq_cls(tiny_qwen_dir, tmp_path / "two", 2)
    judge = load_judge(f"disc:{path}")
    assert isinstance(judge, DiscriminativeJudge)
    rewards, _ = judge.logits([(CONTEXT, PARIS), (CONTEXT, ROME)])
    model = transformers.AutoModelForSequenceClassification.from_pretrained(path).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    for proposal, reward in zip((PARIS, ROME), rewards, strict=True):
        text = format_for_reward(CONTEXT, proposal, tokenizer)
        batch = tokenizer(text, return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            logits = model(**batch).logits[0]
        assert reward == pytest.approx(float(logits[1] - logits[0]), abs=1e-4)


def test_three_labels_and_a_plain_causal_lm_are_refused(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    path = _seq_cls(tiny_qwen_dir, tmp_path / "three", 3)
    with pytest.raises(CheckpointError, match="num_labels=3"):
        load_judge(f"disc:{path}")
    with pytest.raises(CheckpointError, match="without a value head"):
        load_judge(f"disc:{tiny_qwen_dir}")


def test_a_trl_value_head_checkpoint_is_read(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    import shutil

    import torch
    import transformers

    path = tmp_path / "value_head"
    lm = transformers.Qwen2ForCausalLM.from_pretrained(tiny_qwen_dir).eval()
    torch.manual_seed(7)
    weight, bias = torch.randn(1, lm.config.hidden_size), torch.tensor([0.25])
    # what TRL's AutoModelForCausalLMWithValueHead.save_pretrained writes: the LM's state
    # dict and the head under v_head.summary
    state = {**lm.state_dict(), "v_head.summary.weight": weight, "v_head.summary.bias": bias}
    lm.save_pretrained(path, state_dict=state)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (tiny_qwen_dir / name).is_file():
            shutil.copy(tiny_qwen_dir / name, path / name)
    assert reward_head_kind(path) == "value-head"
    judge = load_judge(f"disc:{path}")
    assert isinstance(judge, DiscriminativeJudge)
    rewards, _ = judge.logits([(CONTEXT, PARIS), (CONTEXT, ROME)])
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    for proposal, reward in zip((PARIS, ROME), rewards, strict=True):
        text = format_for_reward(CONTEXT, proposal, tokenizer)
        batch = tokenizer(text, return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            hidden = lm(**batch, output_hidden_states=True).hidden_states[-1][0, -1]
        assert reward == pytest.approx(float(hidden @ weight[0] + bias[0]), abs=1e-4)
    assert judge.rank(CONTEXT, [PARIS, ROME]).order[0] == (0 if rewards[0] > rewards[1] else 1)


def test_trbench_command_with_a_reward_model_and_its_template_file(
    seq_cls_dir: Path, template_file: Path, tmp_path: Path
) -> None:
    import json

    from typer.testing import CliRunner

    import eval.commands.trbench as trbench
    from tests.fakes import command_app, write_results_dir

    app = command_app(trbench.command)
    out = tmp_path / "report.json"
    spec = f"disc:{seq_cls_dir}?templates={template_file}"
    args = ["--results", str(write_results_dir(tmp_path / "results")), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--judge", spec])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["judge"] == spec and report["n_pairs"] > 0 and 0.0 <= report["w_avg"] <= 1.0
    bad = tmp_path / "bad.toml"
    bad.write_text('[disc]\nuser = "{conversation}"')
    refused = CliRunner().invoke(app, [*args, "--judge", f"disc:{seq_cls_dir}?templates={bad}"])
    assert refused.exit_code != 0 and "never uses {tools}" in refused.output


def test_the_documented_example_file_is_a_valid_template_file(tmp_path: Path) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "paper-checkpoints.md").read_text()
    path = tmp_path / "example.toml"
    path.write_text(doc.split("```toml\n")[1].split("```")[0])
    loaded = load_templates(path)
    assert loaded.tags.choice_values == ("A", "B") and loaded.reward is not None
    assert parse_choice("so [[ b ]]", tags=loaded.tags) == 2
    assert parse_verdict("<ok>YES</ok> <why>fine</why>", tags=loaded.tags).accepted is True
