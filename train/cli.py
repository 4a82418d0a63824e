"""``toolrm train ...``: critic trainers (``disc`` Bradley-Terry, ``gen`` GRPO)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="toolrm train",
    help="Train critics on `toolrm data build` output: disc (Bradley-Terry) and gen (GRPO).",
    no_args_is_help=True,
    add_completion=False,
)

Data = Annotated[Path, typer.Option("--data", help="A `toolrm data build` output folder.")]
Out = Annotated[Path, typer.Option("--out", help="Where the critic is written.")]


@app.command()
def disc(
    data: Data,
    out: Out,
    base: Annotated[
        str,
        typer.Option(
            "--base",
            help="Base model: default, smollm2, minilm, a dir or a hub id; 'none' for no LM (cached).",
        ),
    ] = "default",
    method: Annotated[
        str,
        typer.Option(help="cached (frozen trunk + BT head, CPU) or reward-trainer (trl RewardTrainer + LoRA)."),
    ] = "cached",
    inputs: Annotated[
        str,
        typer.Option(help="cached: inputs of the head, comma-separated (features,relevance,lm_stats,hidden)."),
    ] = "features,relevance,lm_stats,hidden",
    hidden: Annotated[str, typer.Option(help="cached: which hidden state (mean, last, both).")] = "mean",
    lm_tools: Annotated[
        str, typer.Option("--lm-tools", help="cached: tools the LM reading lists: called (cheap) or all.")
    ] = "called",
    read_workers: Annotated[
        int, typer.Option("--read-workers", help="cached: processes reading the LM at once (1 thread each).")
    ] = 1,
    read_limit: Annotated[
        int | None,
        typer.Option("--read-limit", help="cached: read the LM over at most this many records (resumable)."),
    ] = None,
    compare: Annotated[
        bool,
        typer.Option("--compare", help="cached: fit one head per input set, side by side."),
    ] = False,
    epochs: Annotated[float, typer.Option(help="Training epochs.")] = 40,
    lr: Annotated[float | None, typer.Option(help="Learning rate (default per method).")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="Batch size (default per method).")] = None,
    grad_accum: Annotated[int, typer.Option("--grad-accum", help="reward-trainer: gradient accumulation.")] = 4,
    max_steps: Annotated[
        int,
        typer.Option("--max-steps", help="reward-trainer: stop after this many steps (-1: epochs)."),
    ] = -1,
    max_length: Annotated[int, typer.Option("--max-length", help="reward-trainer: max tokens per text.")] = 1024,
    max_pairs: Annotated[
        int | None,
        typer.Option("--max-pairs", help="reward-trainer: train on at most this many pairs."),
    ] = None,
    lora_r: Annotated[int, typer.Option("--lora-r", help="reward-trainer: LoRA rank.")] = 16,
    bf16: Annotated[bool, typer.Option("--bf16", help="reward-trainer: bf16 (GPU).")] = False,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
) -> None:
    """A Bradley-Terry critic; the output loads as `--judge disc:OUT`."""
    if method == "cached":
        from train.disc.cached import compare_inputs, train_cached
        from train.disc.config import CachedCriticConfig

        config = CachedCriticConfig(
            base_model=None if base == "none" else base,
            inputs=tuple(i.strip() for i in inputs.split(",") if i.strip()),
            hidden=hidden,  # type: ignore[arg-type]
            lm_tools=lm_tools,  # type: ignore[arg-type]
            read_workers=read_workers,
            read_limit=read_limit,
            epochs=int(epochs),
            lr=lr if lr is not None else 3e-3,
            batch_size=batch_size or 256,
            seed=seed,
        )
        if compare:
            compare_inputs(config, data, out, echo=typer.echo)
        else:
            train_cached(config, data, out, echo=typer.echo)
    elif method == "reward-trainer":
        from train.disc.config import RewardModelConfig
        from train.disc.reward_trainer import train_reward_model

        train_reward_model(
            RewardModelConfig(
                base_model=base, epochs=epochs, max_steps=max_steps,
                learning_rate=lr if lr is not None else 1e-4,
                per_device_batch_size=batch_size or 4, gradient_accumulation_steps=grad_accum,
                max_length=max_length, max_pairs=max_pairs, lora_r=lora_r, bf16=bf16, seed=seed,
            ),
            data, out, echo=typer.echo,
        )
    else:
        raise typer.BadParameter(f"unknown method {method!r}: cached or reward-trainer", param_hint="--method")


@app.command("two-tier")
def two_tier(
    first: Annotated[Path, typer.Option("--first", help="The fast critic dir (features, relevance).")],
    second: Annotated[Path, typer.Option("--second", help="The LM-reading critic dir.")],
    out: Out,
    band: Annotated[
        str, typer.Option("--band", help="LO,HI: first-tier scores in [LO, HI] go to the second tier.")
    ] = "0.05,0.95",
    route: Annotated[str, typer.Option("--route", help="Default route: margin, always or never.")] = "margin",
) -> None:
    """A two-tier critic: the fast head first, the LM head where the fast one is unsure."""
    from train.disc.two_tier import assemble_two_tier

    try:
        lo, hi = (float(x) for x in band.split(","))
    except ValueError as exc:
        raise typer.BadParameter("give LO,HI, e.g. 0.05,0.95", param_hint="--band") from exc
    path = assemble_two_tier(first, second, out, band=(lo, hi), route=route)
    typer.echo(f"wrote {path} (`--judge disc:{path}`)")


@app.command()
def gen(
    data: Data,
    out: Out,
    base: Annotated[str, typer.Option("--base", help="Base model: default, smollm2, a dir or a hub id.")] = "default",
    max_steps: Annotated[int, typer.Option("--max-steps", help="GRPO steps.")] = 100,
    lr: Annotated[float, typer.Option(help="Learning rate.")] = 1e-5,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Prompts x generations per step.")] = 4,
    num_generations: Annotated[int, typer.Option("--num-generations", help="Completions per prompt.")] = 4,
    max_completion_length: Annotated[int, typer.Option("--max-completion-length", help="Tokens per completion.")] = 32,
    sft_warmup_steps: Annotated[int, typer.Option("--sft-warmup-steps", help="SFT steps before GRPO.")] = 0,
    max_rows: Annotated[int | None, typer.Option("--max-rows", help="Use at most this many GenRM rows.")] = None,
    max_prompt_chars: Annotated[
        int,
        typer.Option("--max-prompt-chars", help="Drop longer prompts (CPU memory and time)."),
    ] = 6000,
    use_vllm: Annotated[bool, typer.Option("--use-vllm", help="vLLM rollouts (GPU).")] = False,
    bf16: Annotated[bool, typer.Option("--bf16", help="bf16 (GPU).")] = False,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
) -> None:
    """A generative pairwise judge (GRPO, verifiable reward); loads as `--judge gen:OUT`."""
    from train.gen.config import GenRMConfig
    from train.gen.grpo import train_genrm

    train_genrm(
        GenRMConfig(
            base_model=base, max_steps=max_steps, learning_rate=lr, per_device_batch_size=batch_size,
            num_generations=num_generations, max_completion_length=max_completion_length,
            sft_warmup_steps=sft_warmup_steps, max_rows=max_rows, max_prompt_chars=max_prompt_chars,
            use_vllm=use_vllm, bf16=bf16, seed=seed,
        ),
        data, out, echo=typer.echo,
    )
