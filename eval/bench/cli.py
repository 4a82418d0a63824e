"""``toolrm bench ...``: the benchmarks, one command each.

Each benchmark module owns its typer ``app`` and options; this group only names them and
imports a module when its command runs (``toolrm bench --help`` loads none of them, and
``toolrm bench X --help`` shows X's own options).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import typer

app = typer.Typer(
    name="toolrm bench",
    help="Benchmarks: fault matrix, crash/resume, concurrency, prompt injection, fuzzing, "
    "schema-judge cost, local-model and vLLM speed. Each writes a JSON report (--out).",
    no_args_is_help=True,
    add_completion=False,
)

# command name -> (module owning ``app``, one line for the group's help)
BENCHES: dict[str, tuple[str, str]] = {
    "reliability": ("eval.bench.reliability", "The critic's fault matrix, every cell (about 2 min; --fast: less)."),
    "resume": ("eval.bench.resume", "SIGKILL a critic agent at random points and resume it: what runs twice?"),
    "concurrency": (
        "eval.bench.concurrency",
        "Many concurrent runs through one critic: isolation, judge cap, overhead, memory.",
    ),
    "injection": ("eval.bench.injection", "Prompt breakouts and verdict flips under injected text."),
    "fuzz": ("eval.bench.fuzz", "Fuzz the call and answer parsers, the prompt renderer and the schema judge."),
    "schema": ("eval.bench.schema", "Cost of SchemaJudge per call and per proposal."),
    "local-model": ("eval.bench.local_model", "Tokens per second of the local model: transformers vs llama.cpp."),
    "vllm": ("eval.bench.vllm", "A vLLM OpenAI-compatible server the way the production path uses it."),
}


def _forward(name: str, module: str) -> Callable[[typer.Context], None]:
    def run(ctx: typer.Context) -> None:
        importlib.import_module(module).app(
            args=ctx.args, prog_name=f"toolrm bench {name}", standalone_mode=True
        )

    return run


for _name, (_module, _help) in BENCHES.items():
    app.command(
        _name,
        help=_help,
        add_help_option=False,  # `toolrm bench X --help` is X's own help
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(_forward(_name, _module))
