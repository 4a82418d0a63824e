"""A user's judge templates, read from a TOML file: another model's prompt format behind our judges.

A checkpoint trained on its own prompt format (the paper's ToolRM-Gen and ToolRM-Disc,
whose format is on their model cards under a licence we do not ship) is judged with that
format: ``gen:`` / ``openai:`` / ``llamacpp:`` specs take ``templates=<path>``
(``GenerativeJudge(model, templates="my_templates.toml")``), and so does ``disc:<dir>``
for a reward model (its ``[disc]`` table). The file format is in docs/paper-checkpoints.md;
in short::

    [pairwise]              # Response 1 against Response 2
    system = "..."          # optional; "" or left out: no system message
    user = "... {tools} ... {conversation} ... {response_1} ... {response_2} ..."
    reminder = "..."        # optional: the re-ask after an unreadable answer

    [pairwise_thinking]     # optional (thinking=1); defaults to [pairwise]
    [pointwise]             # one proposal: {tools}, {conversation}, {proposal}
    [pointwise_thinking]    # optional; defaults to [pointwise]
    [disc]                  # a reward model's input: system, user, assistant (= "{proposal}")

    [answer]                # the answer tags, each ["open", "close"]; all optional
    choice = ["<choice>", "</choice>"]
    choice_values = ["1", "2"]
    verdict = ["<verdict>", "</verdict>"]
    accept = ["correct"]    # verdict words besides ours
    reject = ["incorrect"]
    score = ["<score>", "</score>"]
    critique = ["<critique>", "</critique>"]

A task the file leaves out keeps our template. Everything is checked when the file is
read (so when the judge is built): a missing or unreadable file, a TOML error, an unknown
table or key, a value of the wrong type, a field a template may not use (or a lone brace)
and a field it must use raise :class:`~toolrm_agent.core.errors.ConfigurationError`.
"""

from __future__ import annotations

import os
import string
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.judges.generative.templates import (
    DEFAULT_TAGS,
    DEFAULT_TEMPLATES,
    AnswerTags,
    JudgeTemplates,
    PromptTemplate,
    RewardTemplate,
)
from toolrm_agent.naming._hints import did_you_mean

__all__ = ["TEMPLATE_FIELDS", "load_templates", "resolve_templates"]

_PAIRWISE = frozenset({"tools", "conversation", "response_1", "response_2"})
_ONE = frozenset({"tools", "conversation", "proposal"})

TEMPLATE_FIELDS: dict[str, frozenset[str]] = {
    "pairwise": _PAIRWISE,
    "pairwise_thinking": _PAIRWISE,
    "pointwise": _ONE,
    "pointwise_thinking": _ONE,
    "disc": _ONE,
}
"""The fields each template table uses: every one of them, and no other."""

_TEMPLATE_KEYS = {"system", "user", "reminder"}
_DISC_KEYS = {"system", "user", "assistant"}
_PAIR_TAGS = ("choice", "verdict", "score", "critique")
_ANSWER_KEYS = {*_PAIR_TAGS, "choice_values", "accept", "reject"}
_TABLES = [*TEMPLATE_FIELDS, "answer"]


def resolve_templates(templates: JudgeTemplates | str | os.PathLike[str] | None) -> JudgeTemplates:
    """``templates`` as :class:`~toolrm_agent.judges.generative.templates.JudgeTemplates`: a path is read with
    :func:`load_templates`, ``None`` is our own."""
    if templates is None:
        return DEFAULT_TEMPLATES
    if isinstance(templates, JudgeTemplates):
        return templates
    if isinstance(templates, str | os.PathLike):
        return load_templates(templates)
    raise ConfigurationError(
        f"templates must be a template file path or JudgeTemplates, not {type(templates).__name__}"
    )


def load_templates(path: str | os.PathLike[str]) -> JudgeTemplates:
    """The templates and answer tags of a TOML template file (see the module docstring),
    on top of our own. Raises :class:`~toolrm_agent.core.errors.ConfigurationError`."""
    file = Path(path).expanduser()
    where = f"template file {str(file)!r}"
    if not file.is_file():
        raise ConfigurationError(
            f"{where}: no such file" + ("" if not file.exists() else " (it is a directory)")
        )
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{where}: cannot be read ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{where}: not valid TOML ({exc})") from exc
    return _templates(data, where, str(file))


def _templates(data: dict[str, Any], where: str, source: str) -> JudgeTemplates:
    _known(data, _TABLES, where, "table")
    for name, value in data.items():
        if not isinstance(value, dict):
            raise ConfigurationError(f"{where}: {name} must be a table ([{name}]), not a {type(value).__name__}")
    if not any(name in data for name in TEMPLATE_FIELDS):
        raise ConfigurationError(
            f"{where}: defines no template; it needs at least one of the tables "
            + ", ".join(f"[{t}]" for t in TEMPLATE_FIELDS)
        )
    tags = _tags(data.get("answer", {}), where)
    changes: dict[str, Any] = {"tags": tags, "source": source}
    for task in ("pairwise", "pointwise"):
        plain = _prompt(data, task, where)
        thinking = _prompt(data, f"{task}_thinking", where)
        if plain is not None:
            changes[task] = plain
        if thinking is not None or plain is not None:
            changes[f"{task}_thinking"] = thinking or plain
        reminder = _reminder(data, task, where)
        if reminder is not None:
            changes[f"{task}_reminder"] = reminder
    if "pairwise_reminder" not in changes and (tags.choice, tags.choice_values) != (
        DEFAULT_TAGS.choice,
        DEFAULT_TAGS.choice_values,
    ):
        one, two = (f"{tags.choice[0]}{v}{tags.choice[1]}" for v in tags.choice_values)
        changes["pairwise_reminder"] = f"I could not find your decision. Answer again with exactly {one} or {two}."
    if "pointwise_reminder" not in changes and (tags.verdict, tags.critique) != (
        DEFAULT_TAGS.verdict,
        DEFAULT_TAGS.critique,
    ):
        yes = tags.accept[0] if tags.accept else "correct"
        no = tags.reject[0] if tags.reject else "incorrect"
        (vo, vc), (co, cc) = tags.verdict, tags.critique
        changes["pointwise_reminder"] = (
            f"I could not find your verdict. Answer again with {vo}{yes}{vc} or {vo}{no}{vc}, "
            f"then {co}what to fix{cc}."
        )
    if "disc" in data:
        changes["reward"] = _reward(data["disc"], where)
    return replace(DEFAULT_TEMPLATES, **changes)


def _known(table: dict[str, Any], allowed: list[str] | set[str], where: str, what: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown {what} {unknown[0]!r}{did_you_mean(unknown[0], allowed)}; "
            f"the {what}s are {sorted(allowed)}"
        )


def _text(table: dict[str, Any], key: str, where: str, *, required: bool) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ConfigurationError(f"{where}: {key} is missing")
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}: {key} must be a string, not {type(value).__name__}")
    return value


def _fields_of(text: str, where: str) -> set[str]:
    """The ``str.format`` fields of a template; a lone brace or a positional, indexed or
    formatted field fails (braces meant as text are doubled)."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ConfigurationError(
            f"{where}: {exc} (write a brace meant as text twice: '{{{{' or '}}}}')"
        ) from exc
    names: set[str] = set()
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ConfigurationError(
                f"{where}: field {shown} is not a plain named field such as {{tools}} "
                "(write a brace meant as text twice: '{{' or '}}')"
            )
        names.add(name)
    return names


def _check_fields(table: str, texts: dict[str, str], where: str) -> None:
    allowed = TEMPLATE_FIELDS[table]
    used: set[str] = set()
    for key, text in texts.items():
        found = _fields_of(text, f"{where}: [{table}] {key}")
        strange = sorted(found - allowed)
        if strange:
            raise ConfigurationError(
                f"{where}: [{table}] {key} uses the field {{{strange[0]}}}"
                f"{did_you_mean(strange[0], allowed, '{{{}}}')}; [{table}] takes "
                + ", ".join(f"{{{f}}}" for f in sorted(allowed))
            )
        used |= found
    missing = sorted(allowed - used)
    if missing:
        raise ConfigurationError(
            f"{where}: [{table}] never uses " + ", ".join(f"{{{f}}}" for f in missing)
            + "; its templates must show the judge every one of "
            + ", ".join(f"{{{f}}}" for f in sorted(allowed))
        )


def _prompt(data: dict[str, Any], table: str, where: str) -> PromptTemplate | None:
    section = data.get(table)
    if section is None:
        return None
    keys = _TEMPLATE_KEYS if not table.endswith("_thinking") else _TEMPLATE_KEYS - {"reminder"}
    _known(section, keys, f"{where}: [{table}]", "key")
    user = _text(section, "user", f"{where}: [{table}]", required=True) or ""
    system = _text(section, "system", f"{where}: [{table}]", required=False) or ""
    _check_fields(table, {"system": system, "user": user}, where)
    return PromptTemplate(system=system, user=user)


def _reminder(data: dict[str, Any], task: str, where: str) -> str | None:
    section = data.get(task)
    if section is None:
        return None
    return _text(section, "reminder", f"{where}: [{task}]", required=False)


def _reward(section: dict[str, Any], where: str) -> RewardTemplate:
    _known(section, _DISC_KEYS, f"{where}: [disc]", "key")
    here = f"{where}: [disc]"
    user = _text(section, "user", here, required=True) or ""
    system = _text(section, "system", here, required=False) or ""
    assistant = _text(section, "assistant", here, required=False)
    template = RewardTemplate(user=user, system=system) if assistant is None else RewardTemplate(
        user=user, system=system, assistant=assistant
    )
    _check_fields("disc", {"system": system, "user": user, "assistant": template.assistant}, where)
    return template


def _pair(table: dict[str, Any], key: str, where: str) -> tuple[str, str] | None:
    value = table.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise ConfigurationError(
            f"{where}: [answer] {key} must be two non-empty strings, [\"open\", \"close\"]; got {value!r}"
        )
    return value[0], value[1]


def _words(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigurationError(f"{where}: [answer] {key} must be a list of non-empty strings; got {value!r}")
    return tuple(value)


def _tags(table: dict[str, Any], where: str) -> AnswerTags:
    _known(table, _ANSWER_KEYS, f"{where}: [answer]", "key")
    changes: dict[str, Any] = {}
    for key in _PAIR_TAGS:
        pair = _pair(table, key, where)
        if pair is not None:
            changes[key] = pair
    values = _pair(table, "choice_values", where)
    if values is not None:
        if values[0].strip().lower() == values[1].strip().lower():
            raise ConfigurationError(f"{where}: [answer] choice_values must differ; got {list(values)!r}")
        changes["choice_values"] = values
    accept, reject = _words(table, "accept", where), _words(table, "reject", where)
    both = sorted({w.lower() for w in accept} & {w.lower() for w in reject})
    if both:
        raise ConfigurationError(f"{where}: [answer] {both[0]!r} is in both accept and reject")
    changes.update(accept=accept, reject=reject)
    return replace(DEFAULT_TAGS, **changes)
