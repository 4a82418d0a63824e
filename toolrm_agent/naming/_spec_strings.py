"""The grammar of judge spec strings (``schema``, ``gen:<model>``, ``openai:<model>@<url>``,
``cascade:<spec>,<spec>``, ``?key=value`` options): :func:`parse_judge_spec` only parses,
imports no backend, and builds nothing.

The spec strings are documented in :mod:`toolrm_agent.judges.loader`, which builds the
judge a spec names (:func:`~toolrm_agent.judges.loader.load_judge`) and re-exports these
names. The grammar lives below both the judges and the models because
:func:`toolrm_agent.models.policy.load_chat_model` reads an ``openai:`` policy spec with
it too, and ``load_judge`` builds a ``llamacpp:`` judge's model with ``load_chat_model``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

from toolrm_agent.core.errors import ConfigurationError
from toolrm_agent.naming._hints import did_you_mean

__all__ = ["KINDS", "VALID_FORMS", "JudgeKind", "JudgeSpec", "parse_judge_spec", "spec_error"]

JudgeKind = Literal["schema", "gen", "openai", "llamacpp", "disc", "lik", "cascade"]

KINDS: tuple[JudgeKind, ...] = ("schema", "gen", "openai", "llamacpp", "disc", "lik", "cascade")

VALID_FORMS = (
    "schema",
    "gen:<model>            (gen:default = the offline Qwen model; a local dir or hub id)",
    "openai:<model>@<base_url>  (e.g. openai:Qwen/Qwen3-8B@http://127.0.0.1:8000/v1)",
    "llamacpp:<model>       (a local llama.cpp server: default, qwen1.5b, smollm2 or a .gguf file)",
    "disc:<checkpoint dir>  (a trained critic dir or a reward model; disc:default = the shipped critic)",
    "lik:<model>            (mean log-likelihood under a frozen LM; lik:default; ?reading=verify: its yes/no)",
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


def spec_error(spec: str, why: str, cls: type[ConfigurationError] = ConfigurationError) -> ConfigurationError:
    """The error of a bad spec: ``why``, then the valid forms."""
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
        raise spec_error(spec, f"options {query!r} are not key=value&key=value") from exc
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
    raise spec_error(spec, why)


def parse_judge_spec(spec: str) -> JudgeSpec:
    """Parse a judge spec string (see the module docstring). Raises
    :class:`~toolrm_agent.core.errors.ConfigurationError` (a ``ValueError``)."""
    if not isinstance(spec, str) or not spec.strip():
        raise spec_error(str(spec), "empty spec")
    text = spec.strip()
    kind = _kind_at(text)
    if kind is None:
        head = text.split(":", 1)[0]
        raise spec_error(spec, f"unknown judge kind {head!r}{did_you_mean(head, KINDS)}")
    if kind == "cascade":
        first, second = _split_cascade(spec, text.removeprefix("cascade:"))
        return JudgeSpec(kind="cascade", parts=(first, second), text=text)
    body = text if kind == "schema" else text.split(":", 1)[1]
    if kind == "schema":
        _, options, model_options = _split_options(spec, text.removeprefix("schema"))
        if model_options:
            raise spec_error(spec, "schema takes no model.* options")
        return JudgeSpec(kind="schema", options=options, text=text)
    body, options, model_options = _split_options(spec, body)
    if not body:
        raise spec_error(spec, f"{kind}: needs a {'checkpoint dir' if kind == 'disc' else 'model'}")
    if kind in ("disc", "lik"):
        if model_options:
            raise spec_error(spec, f"{kind} takes no model.* options")
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
        raise spec_error(spec, "openai needs openai:<model>@<base_url>")
    return JudgeSpec(
        kind="openai",
        target=model,
        base_url=base_url,
        options=options,
        model_options=model_options,
        text=text,
    )
