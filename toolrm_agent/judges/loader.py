"""Judge spec strings -> a judge (load_judge): one short text names a judge in every command and config.

::

    schema                              deterministic checks against the tool schemas
    gen:<model>                         a local transformers model as generative judge
                                        (``gen:default`` is the offline Qwen model)
    openai:<model>@<base_url>           an OpenAI-compatible server (vLLM, ...)
    llamacpp:<model>                    a local llama.cpp server started for the model
                                        (``llamacpp:default``, ``llamacpp:qwen1.5b``, a .gguf)
    disc:default                        the trained critic shipped with the package (fast tier)
    disc:grounded                       the shipped two-tier critic (fast tier, then the offline LM)
    disc:<dir>                          a trained critic directory (critic.json), or a reward
                                        model (config.json: a sequence-classification head
                                        with 1 or 2 labels, or a TRL value head)
    lik:<model>                         mean log-likelihood under a frozen LM (a baseline;
                                        ``lik:default`` is the offline Qwen model;
                                        ``?reading=verify``: its yes/no verdict instead)
    cascade:<spec>,<spec>               the first (cheap) judge, then the second where it passes

Any spec but ``cascade`` may end in ``?key=value&key=value`` options, passed to the judge's
constructor (``gen:default?thinking=1&both_orders=0``, ``disc:ckpt?threshold=0.7``,
``disc:grounded?suggest=false``); an
option ``model.<key>`` goes to the chat model instead (``gen:default?model.max_new_tokens=256``).
Values ``true``/``false`` (or ``1``/``0`` for the boolean flags), integers and floats are
converted; anything else stays a string.

``templates=<path>`` (``gen``, ``openai``, ``llamacpp`` and a ``disc`` reward model) reads a
user's TOML template file: the prompt format and answer tags a checkpoint was trained on
(:mod:`toolrm_agent.judges.generative.template_file`, docs/paper-checkpoints.md); a bad file fails when
the judge is built (:class:`~toolrm_agent.core.errors.ConfigurationError`).

A cascade splits at the first comma that starts a known judge kind, so inner specs keep
their own commas and colons: ``cascade:schema,openai:Qwen/Qwen3-8B@http://h:8000/v1``.
Cascades nest to the right: ``cascade:schema,cascade:disc:ckpt,gen:default``.

:func:`parse_judge_spec` only parses (no imports, for validation and tests);
:func:`load_judge` builds the judge, importing its backend lazily.

Misconfiguration fails when the judge is built, never at its first call (where a
fail-open policy would hide it); every error is a :class:`~toolrm_agent.core.errors.ToolRMError`:

* a spec that cannot be parsed, an unknown judge option or ``model.*`` option (checked
  against the constructor's signature and the chat model's fields before anything is
  built) → :class:`~toolrm_agent.core.errors.ConfigurationError`
  (:class:`~toolrm_agent.core.errors.ConfigurationTypeError` for an unknown option);
* a ``disc:`` / ``gen:`` / ``lik:`` target that names a directory that does not exist or
  holds no model, or a reward model with more than one label →
  :class:`~toolrm_agent.core.errors.CheckpointError`;
* what needs I/O is checked only when asked: ``load_judge(spec, check=True)`` (or
  ``judge.check()``) probes an ``openai:`` server (``GET <base_url>/models``) and loads
  local weights, raising :class:`~toolrm_agent.core.errors.JudgeBackendError` for an
  unreachable server.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolrm_agent.core.errors import (
    CheckpointError,
    ConfigurationTypeError,
    ToolRMError,
)
from toolrm_agent.naming._hints import did_you_mean
from toolrm_agent.naming._spec_strings import (  # the grammar, re-exported: the names stay here
    KINDS,
    VALID_FORMS,
    JudgeSpec,
    parse_judge_spec,
    spec_error,
)

if TYPE_CHECKING:
    from toolrm_agent.judges.base import Judge


def load_judge(spec: str | JudgeSpec, *, check: bool = False, **overrides: Any) -> Judge:
    """Build the judge a spec names; ``overrides`` go to the outermost judge's constructor.

    Backends are imported here, not at module import: ``schema`` needs nothing heavy,
    ``gen`` loads transformers on first use, ``openai`` needs ``langchain-openai``.
    Options and targets are validated before anything is built (see the module
    docstring); ``check=True`` also runs the judge's ``check()`` (server probe, weights).
    """
    parsed = spec if isinstance(spec, JudgeSpec) else parse_judge_spec(spec)
    if overrides:
        parsed = replace(parsed, options={**parsed.options, **overrides})
    try:
        judge = _build(parsed)
    except ToolRMError:
        raise
    except TypeError as exc:  # an option the constructor does not take, or a bad type
        raise spec_error(parsed.text, f"bad option ({exc})", ConfigurationTypeError) from exc
    except ValueError as exc:  # a value the constructor refuses
        raise spec_error(parsed.text, f"bad option value ({exc})") from exc
    if check:
        probe = getattr(judge, "check", None)
        if callable(probe):
            probe()
    return judge


def _check_options(spec: JudgeSpec, target: Any, options: dict[str, Any], what: str) -> None:
    """Unknown keyword options for ``target`` (a class or function) fail here, before
    anything is built. A target that takes ``**kwargs`` accepts any."""
    if not options:
        return
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):  # no signature to read: let the call decide
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    known = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    takes = sorted(known - {"self"})
    _reject_unknown(spec, options, known, lambda unknown: f"option(s) {unknown} for {what}; it takes {takes}")


def _check_model_options(spec: JudgeSpec, model_cls: Any, options: dict[str, Any]) -> None:
    """``model.<key>`` options must be fields of the chat model (a pydantic model would
    otherwise ignore them, or ``ChatOpenAI`` send them to the server at the first call)."""
    fields = getattr(model_cls, "model_fields", None)
    if not options or not isinstance(fields, dict):
        return
    known = set(fields) | {f.alias for f in fields.values() if getattr(f, "alias", None)}
    _reject_unknown(spec, options, known,
                    lambda unknown: f"model option(s) {['model.' + k for k in unknown]} for {model_cls.__name__}")


def _reject_unknown(spec: JudgeSpec, options: dict[str, Any], known: set[str],
                    what: Callable[[list[str]], str]) -> None:
    """Raise ``unknown <what(names)>`` when ``options`` holds names outside ``known``."""
    unknown = sorted(set(options) - known)
    if unknown:
        raise spec_error(spec.text, f"unknown {what(unknown)}", ConfigurationTypeError)


def _check_model_target(spec: JudgeSpec) -> None:
    """A ``gen:`` / ``lik:`` model must be a known offline model, a model directory, or
    a hub id (``owner/name``, fetched when first used); a path that does not exist fails."""
    raw = spec.target
    if raw == "default":
        return
    from toolrm_agent.models.provision import _HUB_ID
    from toolrm_agent.models.registry import ALIASES, KNOWN_MODELS, lookup

    if lookup(raw) is not None:
        return
    path = Path(raw).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").is_file():
            raise CheckpointError(f"{spec.kind}:{raw}: {path} is not a model directory (no config.json)")
        return
    if path.is_absolute() or raw.startswith((".", "~")) or not _HUB_ID.fullmatch(raw):
        raise CheckpointError(
            f"{spec.kind}:{raw}: no such model directory, and not a known offline model "
            "nor a hub id of the form 'owner/name'"
            + did_you_mean(raw, sorted({"default", *ALIASES, *KNOWN_MODELS}), spec.kind + ":{}")
        )


def _build(spec: JudgeSpec) -> Judge:
    if spec.kind == "schema":
        from toolrm_agent.judges.schema import SchemaJudge

        _check_options(spec, SchemaJudge, spec.options, "schema")
        return SchemaJudge(**spec.options)
    if spec.kind == "disc":
        return _disc(spec)
    if spec.kind == "lik":
        from toolrm_agent.judges.likelihood import LikelihoodJudge

        _check_model_target(spec)
        _check_options(spec, LikelihoodJudge, spec.options, "lik")
        return LikelihoodJudge(spec.target, **{"name": spec.text, **spec.options})
    if spec.kind == "cascade":
        from toolrm_agent.judges.cascade import CascadeJudge

        _check_options(spec, CascadeJudge, spec.options, "cascade")
        first, second = (_build(part) for part in spec.parts)
        return CascadeJudge(first, second, **spec.options)
    from toolrm_agent.judges.generative.generative import GenerativeJudge

    _check_options(spec, GenerativeJudge, spec.options, spec.kind)
    if spec.kind == "gen":
        from toolrm_agent.models import LocalChatModel

        _check_model_target(spec)
        _check_model_options(spec, LocalChatModel, spec.model_options)
        model: Any = LocalChatModel(model_path=spec.target, **spec.model_options)
    elif spec.kind == "llamacpp":
        from toolrm_agent.models.policy import load_chat_model

        model = load_chat_model(f"llamacpp:{spec.target}", **spec.model_options)
    else:
        from toolrm_agent.integrations.openai_server import chat_openai, chat_openai_class

        _check_model_options(spec, chat_openai_class(), spec.model_options)
        model = chat_openai(spec.target, spec.base_url, **spec.model_options)
    return GenerativeJudge(model, **spec.options)


def _disc(spec: JudgeSpec) -> Judge:
    """``disc:default`` / a trained critic dir, or a transformers reward model dir."""
    target = Path(spec.target)
    options = {"name": spec.text, **spec.options}
    from toolrm_agent.critics import SHIPPED

    if spec.target in SHIPPED or (target / "critic.json").is_file():
        from toolrm_agent.judges.trained.trained import TrainedJudge

        _check_options(spec, TrainedJudge, spec.options, "disc (a trained critic)")
        return TrainedJudge(spec.target, **options)
    if (target / "config.json").is_file() or (target / "adapter_config.json").is_file():
        from toolrm_agent.judges.trained.discriminative import DiscriminativeJudge, check_reward_config

        _check_options(spec, DiscriminativeJudge, spec.options, "disc (a reward model)")
        check_reward_config(target)
        return DiscriminativeJudge(target, **options)
    raise CheckpointError(
        f"disc:{spec.target}: not a critic directory (critic.json) nor a reward model "
        "(config.json / adapter_config.json)"
        + ("" if target.is_dir() else "; the directory does not exist")
        + ("" if target.exists() else did_you_mean(spec.target, ["default"], "disc:{}"))
    )


__all__ = ["JudgeSpec", "KINDS", "VALID_FORMS", "load_judge", "parse_judge_spec"]
