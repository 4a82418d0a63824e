"""Judge spec strings: one short text names a judge in every command and config.

::

    schema                              deterministic checks against the tool schemas
    gen:<model>                         a local transformers model as generative judge
                                        (``gen:default`` is the offline Qwen model)
    openai:<model>@<base_url>           an OpenAI-compatible server (vLLM, ...)
    llamacpp:<model>                    a local llama.cpp server started for the model
                                        (``llamacpp:default``, ``llamacpp:qwen1.5b``, a .gguf)
    disc:default                        the trained critic shipped with the package (fast tier)
    disc:grounded                       the shipped two-tier critic (fast tier, then the offline LM)
    disc:<dir>                          a trained critic directory (critic.json), or a
                                        sequence-classification reward model (config.json)
    lik:<model>                         mean log-likelihood under a frozen LM (a baseline;
                                        ``lik:default`` is the offline Qwen model)
    cascade:<spec>,<spec>               the first (cheap) judge, then the second where it passes

Any spec but ``cascade`` may end in ``?key=value&key=value`` options, passed to the judge's
constructor (``gen:default?thinking=1&both_orders=0``, ``disc:ckpt?threshold=0.7``,
``disc:grounded?suggest=false``); an
option ``model.<key>`` goes to the chat model instead (``gen:default?model.max_new_tokens=256``).
Values ``true``/``false`` (or ``1``/``0`` for the boolean flags), integers and floats are
converted; anything else stays a string.

A cascade splits at the first comma that starts a known judge kind, so inner specs keep
their own commas and colons: ``cascade:schema,openai:Qwen/Qwen3-8B@http://h:8000/v1``.
Cascades nest to the right: ``cascade:schema,cascade:disc:ckpt,gen:default``.

:func:`parse_judge_spec` only parses (no imports, for validation and tests);
:func:`load_judge` builds the judge, importing its backend lazily.

Misconfiguration fails when the judge is built, never at its first call (where a
fail-open policy would hide it); every error is a :class:`~toolrm_agent.errors.ToolRMError`:

* a spec that cannot be parsed, an unknown judge option or ``model.*`` option (checked
  against the constructor's signature and the chat model's fields before anything is
  built) → :class:`~toolrm_agent.errors.ConfigurationError`
  (:class:`~toolrm_agent.errors.ConfigurationTypeError` for an unknown option);
* a ``disc:`` / ``gen:`` / ``lik:`` target that names a directory that does not exist or
  holds no model, or a reward model with more than one label →
  :class:`~toolrm_agent.errors.CheckpointError`;
* what needs I/O is checked only when asked: ``load_judge(spec, check=True)`` (or
  ``judge.check()``) probes an ``openai:`` server (``GET <base_url>/models``) and loads
  local weights, raising :class:`~toolrm_agent.errors.JudgeBackendError` for an
  unreachable server.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl

from toolrm_agent._internal.hints import did_you_mean
from toolrm_agent.errors import (
    CheckpointError,
    ConfigurationError,
    ConfigurationTypeError,
    ToolRMError,
)

if TYPE_CHECKING:
    from toolrm_agent.judges.base import Judge

JudgeKind = Literal["schema", "gen", "openai", "llamacpp", "disc", "lik", "cascade"]

KINDS: tuple[JudgeKind, ...] = ("schema", "gen", "openai", "llamacpp", "disc", "lik", "cascade")

VALID_FORMS = (
    "schema",
    "gen:<model>            (gen:default = the offline Qwen model; a local dir or hub id)",
    "openai:<model>@<base_url>  (e.g. openai:Qwen/Qwen3-8B@http://127.0.0.1:8000/v1)",
    "llamacpp:<model>       (a local llama.cpp server: default, qwen1.5b, smollm2 or a .gguf file)",
    "disc:<checkpoint dir>  (a trained critic dir or a reward model; disc:default = the shipped critic)",
    "lik:<model>            (mean log-likelihood under a frozen LM; lik:default)",
    "cascade:<spec>,<spec>  (cheap judge first, the second only where the first passes)",
    "options: append ?key=value&... to any non-cascade spec (model.<key> goes to the chat model)",
)

# Options that are flags: "1"/"0"/"yes"/"no" become booleans for these.
_BOOL_OPTIONS = frozenset({"thinking", "both_orders", "suggest"})


@dataclass(frozen=True)
class JudgeSpec:
    """A parsed judge spec: what to build, without building it."""

    kind: JudgeKind
    target: str = ""
    """The model (gen/openai) or the checkpoint dir (disc); empty for schema/cascade."""
    base_url: str | None = None
    """openai only: the server's base URL."""
    options: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for the judge's constructor."""
    model_options: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for the chat model (gen/openai)."""
    parts: tuple[JudgeSpec, ...] = ()
    """cascade only: (first, second)."""
    text: str = ""
    """The spec string as given (the judge's name in reports)."""


def _error(spec: str, why: str, cls: type[ConfigurationError] = ConfigurationError) -> ConfigurationError:
    forms = "\n  ".join(VALID_FORMS)
    return cls(f"bad judge spec {spec!r}: {why}. Valid forms:\n  {forms}")


def _coerce(key: str, value: str) -> Any:
    low = value.strip().lower()
    if low in ("true", "false") or (key in _BOOL_OPTIONS and low in ("1", "0", "yes", "no")):
        return low in ("true", "1", "yes")
    for convert in (int, float):
        try:
            return convert(value)
        except ValueError:
            pass
    return value


def _split_options(spec: str, body: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    if "?" not in body:
        return body, {}, {}
    body, _, query = body.partition("?")
    options: dict[str, Any] = {}
    model_options: dict[str, Any] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:  # parse_qsl's own error
        raise _error(spec, f"options {query!r} are not key=value&key=value") from exc
    for key, value in pairs:
        if key.startswith("model."):
            model_options[key.removeprefix("model.")] = _coerce(key, value)
        else:
            options[key] = _coerce(key, value)
    return body, options, model_options


def _kind_at(text: str) -> JudgeKind | None:
    """The judge kind ``text`` starts with (``schema`` alone or ``<kind>:``)."""
    if text == "schema" or text.startswith("schema?"):
        return "schema"
    for kind in KINDS:
        if kind != "schema" and text.startswith(f"{kind}:"):
            return kind
    return None


def _split_cascade(spec: str, body: str) -> tuple[JudgeSpec, JudgeSpec]:
    """Split ``first,second`` at the first comma after which a valid spec begins
    and before which a valid spec ends."""
    errors: list[str] = []
    for i, ch in enumerate(body):
        if ch != "," or _kind_at(body[i + 1 :]) is None:
            continue
        try:
            first = parse_judge_spec(body[:i])
            second = parse_judge_spec(body[i + 1 :])
        except ValueError as exc:
            errors.append(str(exc).split(". Valid forms")[0])
            continue
        return first, second
    why = "a cascade needs two specs separated by a comma, cascade:<spec>,<spec>"
    if errors:
        why += f" ({errors[-1]})"
    raise _error(spec, why)


def parse_judge_spec(spec: str) -> JudgeSpec:
    """Parse a judge spec string (see the module docstring). Raises
    :class:`~toolrm_agent.errors.ConfigurationError` (a ``ValueError``)."""
    if not isinstance(spec, str) or not spec.strip():
        raise _error(str(spec), "empty spec")
    text = spec.strip()
    kind = _kind_at(text)
    if kind is None:
        head = text.split(":", 1)[0]
        raise _error(spec, f"unknown judge kind {head!r}{did_you_mean(head, KINDS)}")
    if kind == "cascade":
        first, second = _split_cascade(spec, text.removeprefix("cascade:"))
        return JudgeSpec(kind="cascade", parts=(first, second), text=text)
    body = text if kind == "schema" else text.split(":", 1)[1]
    if kind == "schema":
        _, options, model_options = _split_options(spec, text.removeprefix("schema"))
        if model_options:
            raise _error(spec, "schema takes no model.* options")
        return JudgeSpec(kind="schema", options=options, text=text)
    body, options, model_options = _split_options(spec, body)
    if not body:
        raise _error(spec, f"{kind}: needs a {'checkpoint dir' if kind == 'disc' else 'model'}")
    if kind in ("disc", "lik"):
        if model_options:
            raise _error(spec, f"{kind} takes no model.* options")
        return JudgeSpec(kind=kind, target=body, options=options, text=text)
    if kind in ("gen", "llamacpp"):
        return JudgeSpec(
            kind=kind, target=body, options=options, model_options=model_options, text=text
        )
    # openai:<model>@<base_url>: split at the '@' that starts the URL
    at = body.find("@http://")
    if at < 0:
        at = body.find("@https://")
    if at < 0:
        at = body.find("@")
    model, base_url = (body[:at], body[at + 1 :]) if at >= 0 else (body, "")
    if not model or not base_url:
        raise _error(spec, "openai needs openai:<model>@<base_url>")
    return JudgeSpec(
        kind="openai",
        target=model,
        base_url=base_url,
        options=options,
        model_options=model_options,
        text=text,
    )


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
        raise _error(parsed.text, f"bad option ({exc})", ConfigurationTypeError) from exc
    except ValueError as exc:  # a value the constructor refuses
        raise _error(parsed.text, f"bad option value ({exc})") from exc
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
    unknown = sorted(set(options) - known)
    if unknown:
        raise _error(
            spec.text,
            f"unknown option(s) {unknown} for {what}; it takes {sorted(known - {'self'})}",
            ConfigurationTypeError,
        )


def _check_model_options(spec: JudgeSpec, model_cls: Any, options: dict[str, Any]) -> None:
    """``model.<key>`` options must be fields of the chat model (a pydantic model would
    otherwise ignore them, or ``ChatOpenAI`` send them to the server at the first call)."""
    fields = getattr(model_cls, "model_fields", None)
    if not options or not isinstance(fields, dict):
        return
    known = set(fields) | {f.alias for f in fields.values() if getattr(f, "alias", None)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise _error(
            spec.text,
            f"unknown model option(s) {['model.' + k for k in unknown]} for {model_cls.__name__}",
            ConfigurationTypeError,
        )


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
    from toolrm_agent.judges.generative import GenerativeJudge

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
        from toolrm_agent.judges.trained import TrainedCritic

        _check_options(spec, TrainedCritic, spec.options, "disc (a trained critic)")
        return TrainedCritic(spec.target, **options)
    if (target / "config.json").is_file() or (target / "adapter_config.json").is_file():
        from toolrm_agent.judges.discriminative import DiscriminativeJudge, check_reward_config

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
