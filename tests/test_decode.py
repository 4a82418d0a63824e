"""Decoding every recorded output style into Proposals (inline fixtures only)."""

from __future__ import annotations

import pytest

from eval.bfcl.decode import (
    DECLINE_NAMES,
    clean_text,
    decode,
    detect_style,
    dominant_style,
    map_names,
)
from toolrm_agent.core.calls import Proposal, ToolCall

FUNCS = [
    {
        "name": "math.factorial",
        "parameters": {"type": "dict", "properties": {"number": {"type": "integer"}}},
    },
    {
        "name": "get_weather",
        "parameters": {"type": "dict", "properties": {"city": {"type": "string"}}},
    },
]


def calls(p: Proposal) -> list[tuple[str, dict]]:
    return [(c.name, dict(c.arguments)) for c in p.calls]


# ------------------------------------------------------------------------ FC lists


def test_fc_list_with_json_string_and_dict_arguments() -> None:
    raw = [{"get_weather": '{"city": "Paris"}'}, {"math_factorial": {"number": 5}}]
    p = decode(raw, style="fc_list", functions=FUNCS)
    assert calls(p) == [("get_weather", {"city": "Paris"}), ("math.factorial", {"number": 5})]
    assert detect_style(raw) == "fc_list"


def test_fc_list_keeps_dotted_names_and_reports_bad_json() -> None:
    p = decode([{"math.factorial": '{"number": 5}'}, {"get_weather": '{"city": '}], functions=FUNCS)
    assert calls(p) == [("math.factorial", {"number": 5})]
    assert len(p.failures) == 1 and "JSON" in p.failures[0].reason


def test_fc_model_that_answered_in_text_made_no_call() -> None:
    p = decode("[get_weather(city='Paris')] is what I would call", style="fc_list")
    assert p.calls == () and p.failures == () and "Paris" in p.content
    assert decode([], style="fc_list").is_empty


def test_map_names_only_when_unambiguous() -> None:
    p = Proposal(calls=(ToolCall(name="a_b"), ToolCall(name="get_weather"), ToolCall(name="x_y")))
    mapped = map_names(p, ["a.b", "get_weather", "x.y", "x_y"])
    assert [c.name for c in mapped.calls] == ["a.b", "get_weather", "x_y"]
    ambiguous = map_names(Proposal(calls=(ToolCall(name="a_b"),)), ["a.b", "a-b"])
    assert ambiguous.calls[0].name == "a_b"


# -------------------------------------------------------------------------- Python


def test_bfcl_prompting_string() -> None:
    p = decode("[math.factorial(number=5), get_weather(city='Paris')]", functions=FUNCS)
    assert calls(p) == [("math.factorial", {"number": 5}), ("get_weather", {"city": "Paris"})]
    assert detect_style("[get_weather(city='Paris')]") == "python"


def test_python_without_brackets_and_with_whitespace() -> None:
    assert calls(decode("\n get_weather(city='Paris')\n")) == [("get_weather", {"city": "Paris"})]


def test_raven_semicolons() -> None:
    p = decode("get_weather(city='Paris'); math.factorial(number=3);")
    assert calls(p) == [("get_weather", {"city": "Paris"}), ("math.factorial", {"number": 3})]
    assert calls(decode("get_weather(city='a;b');")) == [("get_weather", {"city": "a;b"})]


def test_markdown_escaped_underscores() -> None:
    p = decode(r"[get\_weather(city\_name='New\_York')]")
    assert calls(p) == [("get_weather", {"city_name": "New_York"})]


def test_python_values_read_like_bfcl() -> None:
    p = decode("[f(a=-1, b=2*3, c=(1, 2), d={'k': [1.5]}, e=None, g=True, h=g(x=1), i=sqrt(2))]")
    ((name, args),) = calls(p)
    assert args == {
        "a": -1,
        "b": 6,
        "c": (1, 2),
        "d": {"k": [1.5]},
        "e": None,
        "g": True,
        "h": {"g": {"x": 1}},
        "i": "sqrt(2)",
    }


def test_positional_arguments_are_ignored_like_bfcl() -> None:
    assert calls(decode("[f(1, b=2)]")) == [("f", {"b": 2})]


def test_bare_names_are_variables_not_values() -> None:
    p = decode("[get_weather(city=Paris)]")
    assert p.calls == () and "variable" in p.failures[0].reason


def test_broken_call_is_a_failure_and_prose_is_no_call() -> None:
    broken = decode("[get_weather(city='Paris']")
    assert broken.calls == () and len(broken.failures) == 1
    prose = decode("The weather in Paris is sunny today.")
    assert prose.is_empty and prose.content.startswith("The weather")


def test_code_fences_strict_and_lenient() -> None:
    fenced = "```python\n[get_weather(city='Paris')]\n```"
    strict = decode(fenced)
    assert strict.calls == ()  # BFCL's leaderboard: the language tag breaks the answer
    assert calls(decode(fenced, lenient=True)) == [("get_weather", {"city": "Paris"})]
    # a bare fence (no language tag) is only backticks: read in both modes
    assert calls(decode("```\n[get_weather(city='Paris')]\n```")) == [
        ("get_weather", {"city": "Paris"})
    ]


def test_prose_after_the_call_list_strict_and_lenient() -> None:
    raw = "[get_weather(city='Paris')]\n\nThis calls the weather function for Paris."
    assert decode(raw).calls == ()
    assert calls(decode(raw, lenient=True)) == [("get_weather", {"city": "Paris"})]


def test_quoted_call_strings_need_the_quoted_style() -> None:
    raw = "['get_weather(city=\"Paris\")', 'math.factorial(number=4)']"
    assert detect_style(raw) == "python_quoted"
    assert calls(decode(raw)) == [
        ("get_weather", {"city": "Paris"}),
        ("math.factorial", {"number": 4}),
    ]
    assert decode(raw, style="python").calls == ()  # a list of strings is not a call list
    assert calls(decode("['get_weather'(city='Rome')]", style="python_quoted")) == [
        ("get_weather", {"city": "Rome"})
    ]


def test_qwen3_reasoning_trace_is_dropped() -> None:
    raw = "<think>\nThe user wants [get_weather(city='Rome')]? No, Paris.\n</think>\n\n[get_weather(city='Paris')]"
    assert calls(decode(raw)) == [("get_weather", {"city": "Paris"})]
    assert clean_text("trace only</think>[f(a=1)]<|im_end|>") == "[f(a=1)]"


# ---------------------------------------------------------------- JSON and tagged


def test_hermes_blocks() -> None:
    raw = (
        '<tool_call>\n{"arguments": {"number": 5}, "name": "math_factorial"}\n</tool_call>\n'
        "<tool_call>\n{\"arguments\": {'city': 'Paris'}, \"name\": 'get_weather'}\n</tool_call>\n"
    )
    assert detect_style(raw) == "hermes"
    p = decode(raw, functions=FUNCS)
    assert calls(p) == [("math.factorial", {"number": 5}), ("get_weather", {"city": "Paris"})]


def test_hermes_broken_block_is_a_failure_with_the_name() -> None:
    p = decode('<tool_call>\n{"name": "get_weather", "arguments": {"city": \n</tool_call>')
    assert p.calls == () and p.failures[0].name == "get_weather"


def test_xlam_tool_calls_json() -> None:
    raw = (
        '\n{"tool_calls": [{"name": "math.factorial", "arguments": {"number": 5}}, '
        '{"name": "get_weather", "arguments": {"city": "Oslo"}}]}'
    )
    assert detect_style(raw) == "json"
    assert calls(decode(raw)) == [
        ("math.factorial", {"number": 5}),
        ("get_weather", {"city": "Oslo"}),
    ]


def test_json_dialects() -> None:
    raw = '[{"function": "get_weather", "parameters": {"city": "Lima"}}]'
    assert calls(decode(raw)) == [("get_weather", {"city": "Lima"})]
    assert calls(decode('{"name": "f", "params": {"a": 1}}')) == [("f", {"a": 1})]
    assert calls(decode('[{"get_weather": {"city": "Quito"}}]')) == [
        ("get_weather", {"city": "Quito"})
    ]


def test_json_style_requires_json() -> None:
    p = decode("[{'name': 'get_weather', 'arguments': {'city': 'Lima'}}]", style="json")
    assert p.calls == () and len(p.failures) == 1


def test_granite_function_call_tags() -> None:
    raw = (
        '<function_call> {"name": "get_weather", "arguments": {"city": "Rome"}} '
        '<function_call> {"name": "math_factorial", "arguments": {"number": 3}}'
    )
    assert detect_style(raw) == "tagged_json"
    assert calls(decode(raw, functions=FUNCS)) == [
        ("get_weather", {"city": "Rome"}),
        ("math.factorial", {"number": 3}),
    ]


def test_glm_name_then_json() -> None:
    raw = 'math_factorial\n{"number": 5}'
    assert detect_style(raw) == "name_json"
    assert calls(decode(raw, functions=FUNCS)) == [("math.factorial", {"number": 5})]
    after_prose = 'Let me look that up.get_weather\n{"city": "Bern"}'
    assert calls(decode(after_prose, style="name_json")) == [("get_weather", {"city": "Bern"})]


@pytest.mark.parametrize("name", sorted(DECLINE_NAMES))
def test_decline_calls_are_no_calls(name: str) -> None:
    assert decode(f"{name}(user_query='hi');", functions=FUNCS).calls == ()
    assert decode(f'<function_call> {{"name": "{name}", "arguments": {{}}}}').calls == ()
    # ... unless such a function was offered
    offered = [{"name": name, "parameters": {"type": "dict", "properties": {}}}]
    assert [c.name for c in decode(f"{name}(user_query='hi')", functions=offered).calls] == [name]


# -------------------------------------------------------------------- model level


def test_broken_template_output_is_not_read_as_json() -> None:
    raw = '<|im_start|>\n{"arguments": {"number": 5}, "name": "math_factorial"}\n<|im_start|>'
    assert decode(raw).calls == ()


def test_dominant_style_by_content() -> None:
    hermes = ['<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>'] * 3 + ["Sorry, no."] * 5
    assert dominant_style(hermes) == "hermes"
    fc = [[{"f": "{}"}]] * 3 + ["plain text answer"] * 2
    assert dominant_style(fc) == "fc_list"
    mixed = ["[f(a=1)]"] * 9 + ['[{"name": "f", "arguments": {}}]']
    assert dominant_style(mixed) == "python"
    quoted = ["['f(a=1)']"] * 3 + ["[f(a=1)]"] * 7
    assert dominant_style(quoted) == "python_quoted"
    rarely_quoted = ["['f(a=1)']"] * 1 + ["[f(a=1)]"] * 9
    assert dominant_style(rarely_quoted) == "python"
    assert dominant_style([]) == "python"


def test_model_style_makes_off_style_outputs_format_errors() -> None:
    # a prompting model that sometimes writes JSON: the leaderboard scored those as errors
    raw = '[{"name": "get_weather", "arguments": {"city": "Paris"}}]'
    assert decode(raw, style="python").calls == ()
    assert calls(decode(raw)) == [("get_weather", {"city": "Paris"})]  # detected per output


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "[",
        "]]]",
        "{",
        "<tool_call>",
        "<function_call>",
        "```",
        "(" * 500 + ")" * 500,
        "[f(" + "[" * 300 + "]" * 300 + ")]",
        12,
        3.5,
        {"weird": object()},
        [1, 2],
        [{"a": 1, "b": 2}],
        "f\n{not json}",
        "\x00\x01",
        "[f(a='unterminated)]",
    ],
)
def test_never_raises(raw: object) -> None:
    p = decode(raw)
    assert isinstance(p, Proposal)


def test_unknown_style_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown style"):
        decode("[f()]", style="klingon")


def test_format_notes_name_what_the_strict_reading_refuses() -> None:
    from eval.bfcl.decode import format_notes

    assert format_notes("```python\n[f(a=1)]\n```", "python") == ["code fence"]
    assert format_notes("[f(a=1)]\n\nThis calls f.", "python") == ["prose after the call list"]
    assert format_notes('[{"name": "f", "arguments": {}}]', "python") == ["json output"]
    assert format_notes("['f(a=1)']", "python") == ["quoted call strings"]
    assert format_notes("[f(a=x)]", "python") == ["variable as an argument value"]
    assert format_notes("[f(a=1)]", "python") == []
    assert format_notes([{"f": "{}"}], "fc_list") == []


# ------------------------------------------------- lenient reading: what was meant

WEATHER = [
    {
        "name": "get_weather",
        "parameters": {
            "type": "dict",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        },
    }
]


@pytest.mark.parametrize(
    ("style", "raw", "expected"),
    [
        # a language tag that does not match what is inside the fence
        ("python", "```json\n[math.factorial(number=5)]\n```", [("math.factorial", {"number": 5})]),
        # an indented call list in a fence, followed by an explanation
        (
            "python",
            "```python\n        [math.factorial(number=5)]\n        ```\n\n  This computes 5!.",
            [("math.factorial", {"number": 5})],
        ),
        # Hermes-Theta with a broken chat template: JSON blocks behind <|im_start|>
        (
            "hermes",
            '<|im_start|>\n{"arguments": {"number": 5}, "name": "math_factorial"}\n'
            '<|im_start|>\n{"arguments": {"city": "Oslo"}, "name": "get_weather"}\n'
            "<|im_start|><|im_start|>assistant<|end_header_id|><|im_start|>\n"
            '{"arguments": {"number": 5}, "name": "math_factorial"}',
            [("math.factorial", {"number": 5}), ("get_weather", {"city": "Oslo"})],
        ),
        (
            "hermes",
            '<?xml ?>\n{"arguments": {"city": "Rome"}, "name": "get_weather"}\n<?xml ?>',
            [("get_weather", {"city": "Rome"})],
        ),
        (
            "hermes",
            'Here:\n```xml\n<functioncall>\n{"arguments": {"city": "Rome"}, "name": "get_weather"}\n'
            "</functioncall>\n```",
            [("get_weather", {"city": "Rome"})],
        ),
        # Python-literal JSON in a prompting model's fence, other key names
        (
            "python",
            "```json\n[{'func': 'get_weather', 'params': {'city': 'Lima'}}]\n```",
            [("get_weather", {"city": "Lima"})],
        ),
        ("python", '[{"name": "get_weather", "city": "Lima"}]', [("get_weather", {"city": "Lima"})]),
        # a sentence, then the call list
        ("python", "Here is the function call:\n\n[get_weather(city='Paris')]", [("get_weather", {"city": "Paris"})]),
        (
            "python_quoted",
            "Based on the question, the call is:\n\n['get_weather(city=\"Paris\")']",
            [("get_weather", {"city": "Paris"})],
        ),
        ("python", "[`get_weather(city='Paris')`]", [("get_weather", {"city": "Paris"})]),
        # an FC model that wrote its call as code, in OpenAI's functions namespace
        (
            "fc_list",
            "You can call it like this:\n```python\nfunctions.get_weather(city='Bern')\n```",
            [("get_weather", {"city": "Bern"})],
        ),
        # (name, arguments) pairs
        (
            "python",
            "[('math.factorial', {'number': 5}), 'get_weather', {'city': 'Oslo'}]",
            [("math.factorial", {"number": 5}), ("get_weather", {"city": "Oslo"})],
        ),
        # one call per line, no list
        (
            "python",
            "get_weather(city='A')\n\nget_weather(city='B')",
            [("get_weather", {"city": "A"}), ("get_weather", {"city": "B"})],
        ),
        # arguments next to the one function the text names
        (
            "name_json",
            'We use the `get_weather` function:\n\n```json\n{"city": "Paris"}\n```',
            [("get_weather", {"city": "Paris"})],
        ),
        # a set-like object that still holds the arguments of the one function named
        ("python", "{'math.factorial', 'parameters': {'number': 5}}", [("math.factorial", {"number": 5})]),
        # positional arguments bound in declared order; a dict of keywords
        ("python", "[math.factorial(5)]", [("math.factorial", {"number": 5})]),
        ("python", 'get_weather({"city": "Oslo"})', [("get_weather", {"city": "Oslo"})]),
        # a made-up call before the real answer does not hide it
        (
            "python",
            "```python\nprint(math.factorial(5))\n```\nAnswer:\n```python\n[math.factorial(5)]\n```",
            [("math.factorial", {"number": 5})],
        ),
    ],
)
def test_lenient_reads_what_the_model_meant(style: str, raw: str, expected: list) -> None:
    p = decode(raw, style=style, functions=FUNCS, lenient=True)
    assert calls(p) == expected and p.failures == ()


def test_lenient_finds_calls_the_strict_reading_misses() -> None:
    raw = "Here is the function call:\n\n[get_weather(city='Paris')]"
    assert decode(raw, style="python", functions=FUNCS).is_empty  # leaderboard: no call
    assert decode(raw, style="python", functions=FUNCS, lenient=True).calls


def test_lenient_uses_the_only_function_when_keys_are_its_parameters() -> None:
    raw = 'Here is the request:\n```python\nrequest = {"city": "Oslo", "unit": "C"}\n```'
    assert calls(decode(raw, functions=WEATHER, lenient=True)) == [
        ("get_weather", {"city": "Oslo", "unit": "C"})
    ]
    other_keys = 'Here is the request:\n```python\nrequest = {"town": "Oslo"}\n```'
    assert decode(other_keys, functions=WEATHER, lenient=True).is_empty


def test_lenient_keeps_a_call_of_an_unknown_function() -> None:
    p = decode("[calc_area(base=1)]", functions=FUNCS, lenient=True)
    assert calls(p) == [("calc_area", {"base": 1})]


@pytest.mark.parametrize(
    "raw",
    [
        "```python\ndef get_weather(city='x', unit):\n    pass\n```",  # a definition
        "```python\ncity = 'Paris'\nresult = functions.get_weather(city=city)\n```",  # a variable
        "Use weather.get_weather(...) from the SDK",  # a method of that name
        "['math.factorial', 5]",  # positional arguments with no names
        "{'math.factorial', 'get_weather', 'parameters': {'number': 5}}",  # not a literal
        '(get_weather arguments: {"city": "Oslo"}) (math.factorial arguments: {"number": 5})',
        '[{"name": "get_weather", "arguments": {"city": Paris}}]',  # not JSON, nor Python
        "[math.factorial(5, 6)]",  # more positional arguments than parameters
    ],
)
def test_lenient_unreadable_call_attempt_is_a_failure_not_no_call(raw: str) -> None:
    p = decode(raw, style="python", functions=FUNCS, lenient=True)
    assert p.calls == () and len(p.failures) == 1
    assert p.failures[0].name in ("get_weather", "math.factorial")


@pytest.mark.parametrize(
    "raw",
    [
        "What city do you want the weather for?",
        "I'd call get_weather but I need the city first.",  # named, not called
        "```json\n[]\n```",  # an explicit empty call list
        "out_of_domain(user_query='hi');",  # a decline
    ],
)
def test_lenient_prose_and_declines_stay_no_call(raw: str) -> None:
    assert decode(raw, style="python", functions=FUNCS, lenient=True).is_empty


def test_strict_reading_has_no_call_attempt_rule() -> None:
    # rescoring reproduces the leaderboard: an unreadable attempt in prose is no call there
    raw = "```python\ncity = 'Paris'\nresult = get_weather(city=city)\n```"
    assert decode(raw, style="python", functions=FUNCS).failures == ()
    assert decode(raw, style="python", functions=FUNCS, lenient=True).failures != ()


@pytest.mark.parametrize(
    "raw",
    [
        "[('a', {1: 2}), ({1, 2}, 'b')]",
        "{(1, 2): 3}",
        "[f(" + "[" * 300 + "]" * 300 + ")]",
        "get_weather(" * 50,
        "<|im_start|>assistant<|end_header_id|>",
        "```",
    ],
)
def test_lenient_never_raises(raw: str) -> None:
    assert isinstance(decode(raw, functions=FUNCS, lenient=True), Proposal)


def test_lenient_binds_positional_arguments_of_top_level_calls_only() -> None:
    p = decode("[get_weather(city=g(1, a=2))]", functions=WEATHER, lenient=True)
    assert calls(p) == [("get_weather", {"city": {"g": {"a": 2}}})]  # as in the strict reading
    assert calls(decode("[get_weather('Oslo', 'C')]", functions=WEATHER, lenient=True)) == [
        ("get_weather", {"city": "Oslo", "unit": "C"})
    ]
