"""``toolrm train ...``: critic trainers (``disc`` Bradley-Terry, ``gen`` GRPO)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from train.disc.config import CachedCriticConfig, RewardModelConfig
from train.gen.config import GenRMConfig as G

C = TypeVar("C")

app = typer.Typer(
    name="toolrm train",
    help="Train critics on `toolrm data build` output: disc (Bradley-Terry) and gen (GRPO).",
    no_args_is_help=True,
    add_completion=False,
)

Data = Annotated[Path, typer.Option("--data", help="A `toolrm data build` output folder.")]
Out = Annotated[Path, typer.Option("--out", help="Where the critic is written.")]


def _config(cls: type[C], **given: Any) -> C:
    """``cls`` with the options the user gave; an option left out (``None``) keeps the
    dataclass's default: the config dataclass is the one source of defaults."""
    return cls(**{k: v for k, v in given.items() if v is not None})


@app.command()
def disc(
    data: Data,
    out: Out,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="Base model: 'none' (no LM: the recipe of disc:default, minutes on CPU), or default, "
            "smollm2, a dir or a hub id (cached: LM readings too, slow on CPU; reward-trainer: the model "
            "to fine-tune, 'none' means default). Default: "
            f"cached {CachedCriticConfig.base_model!r}, reward-trainer {RewardModelConfig.base_model!r}.",
        ),
    ] = None,
    method: Annotated[
        str,
        typer.Option(help="cached (frozen trunk + BT head, CPU) or reward-trainer (trl RewardTrainer + LoRA)."),
    ] = "cached",
    inputs: Annotated[
        str | None,
        typer.Option(
            help="cached: inputs of the head, comma-separated, of features,relevance,lm_stats,lm_verify,hidden "
            f"(default: {','.join(CachedCriticConfig.inputs)} without an LM, all but lm_verify with --base <LM>; "
            "lm_verify, the verifier's yes/no log-odds, is one more LM pass; with --compare it adds its sets).",
        ),
    ] = None,
    hidden: Annotated[
        str | None,
        typer.Option(help=f"cached: which hidden state (mean, last, both); default {CachedCriticConfig.hidden}."),
    ] = None,
    lm_tools: Annotated[
        str | None,
        typer.Option("--lm-tools", help="cached: tools the LM reading lists: called (cheap) or all; "
                     f"default {CachedCriticConfig.lm_tools}."),
    ] = None,
    lm_tags: Annotated[
        str | None,
        typer.Option("--lm-tags", help="cached: whether the LM statistics count the rendering's tag tokens "
                     f"(read) or only the proposal's own text (skip); default {CachedCriticConfig.lm_tags}."),
    ] = None,
    read_workers: Annotated[
        int | None,
        typer.Option("--read-workers", help="cached: processes reading the LM at once (1 thread each); "
                     f"default {CachedCriticConfig.read_workers}."),
    ] = None,
    read_limit: Annotated[
        int | None,
        typer.Option("--read-limit", help="cached: read the LM over at most this many records (resumable)."),
    ] = None,
    compare: Annotated[
        bool,
        typer.Option("--compare", help="cached: fit one head per input set, side by side."),
    ] = False,
    epochs: Annotated[
        float | None,
        typer.Option(help=f"Training epochs (default: cached {CachedCriticConfig.epochs}, "
                     f"reward-trainer {RewardModelConfig.epochs})."),
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option(help=f"Learning rate (default: cached {CachedCriticConfig.lr}, "
                     f"reward-trainer {RewardModelConfig.learning_rate})."),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", help=f"Batch size (default: cached {CachedCriticConfig.batch_size}, "
                     f"reward-trainer {RewardModelConfig.per_device_batch_size})."),
    ] = None,
    grad_accum: Annotated[
        int | None,
        typer.Option("--grad-accum", help="reward-trainer: gradient accumulation "
                     f"(default {RewardModelConfig.gradient_accumulation_steps})."),
    ] = None,
    max_steps: Annotated[
        int | None,
        typer.Option("--max-steps", help="reward-trainer: stop after this many steps (-1: epochs; default "
                     f"{RewardModelConfig.max_steps})."),
    ] = None,
    max_length: Annotated[
        int | None,
        typer.Option("--max-length", help="reward-trainer: max tokens per text "
                     f"(default {RewardModelConfig.max_length})."),
    ] = None,
    max_pairs: Annotated[
        int | None,
        typer.Option("--max-pairs", help="reward-trainer: train on at most this many pairs."),
    ] = None,
    lora_r: Annotated[
        int | None, typer.Option("--lora-r", help=f"reward-trainer: LoRA rank (default {RewardModelConfig.lora_r}).")
    ] = None,
    bf16: Annotated[bool, typer.Option("--bf16", help="reward-trainer: bf16 (GPU).")] = False,
    seed: Annotated[int | None, typer.Option(help="Seed (default 0).")] = None,
) -> None:
    """A Bradley-Terry critic; the output loads as `--judge disc:OUT`.

    Every default comes from the trainer's config dataclass (``train/disc/config.py``):
    an option left out keeps it."""
    if method == "cached":
        from train.disc.cached import compare_inputs, train_cached

        lm_base = base is not None and base != "none"
        if inputs is None and lm_base:  # an LM named: its inputs too, unless told otherwise
            inputs = "features,relevance,lm_stats,hidden"
        config = _config(
            CachedCriticConfig,
            base_model=base,
            inputs=tuple(i.strip() for i in inputs.split(",") if i.strip()) if inputs is not None else None,
            hidden=hidden,
            lm_tools=lm_tools,
            lm_tags=lm_tags,
            read_workers=read_workers,
            read_limit=read_limit,
            epochs=int(epochs) if epochs is not None else None,
            lr=lr,
            batch_size=batch_size,
            seed=seed,
        )
        if base == "none":
            config = replace(config, base_model=None)
        if compare:
            compare_inputs(config, data, out, echo=typer.echo)
        else:
            train_cached(config, data, out, echo=typer.echo)
    elif method == "reward-trainer":
        from train.disc.reward_trainer import train_reward_model

        train_reward_model(
            _config(
                RewardModelConfig,
                base_model=None if base == "none" else base, epochs=epochs, max_steps=max_steps, learning_rate=lr,
                per_device_batch_size=batch_size, gradient_accumulation_steps=grad_accum,
                max_length=max_length, max_pairs=max_pairs, lora_r=lora_r, bf16=bf16 or None, seed=seed,
            ),
            data, out, echo=typer.echo,
        )
    else:
        raise typer.BadParameter(f"unknown method {method!r}: cached or reward-trainer", param_hint="--method")


@app.command()
def calibrate(
    critic: Annotated[str, typer.Option("--critic", help="A critic dir, or `default` for the shipped one.")],
    data: Data,
    out: Annotated[Path, typer.Option("--out", help="Where the calibrated critic is written (may be --critic).")],
    method: Annotated[str, typer.Option(help="isotonic or platt.")] = "isotonic",
    accept_raw: Annotated[
        float | None,
        typer.Option("--accept-raw", min=0.0, max=1.0,
                     help="Keep this uncalibrated accept threshold (e.g. chosen on BFCL's dev half by "
                          "`toolrm eval rejections`), mapped through the map; default: the one rejecting "
                          "at most 5% of the correct held-out candidates."),
    ] = None,
) -> None:
    """Calibrate an already trained critic on the held-out records of `toolrm data build` output."""
    from toolrm_agent.judges.trained.trained import resolve_critic_dir
    from train.disc.calibration import calibrate_critic

    if method not in ("isotonic", "platt"):
        raise typer.BadParameter(f"unknown method {method!r}: isotonic or platt", param_hint="--method")
    calibrate_critic(resolve_critic_dir(critic), data, out, method="platt" if method == "platt" else "isotonic",
                     accept_raw=accept_raw, echo=typer.echo)


@app.command("two-tier")
def two_tier(
    first: Annotated[Path, typer.Option("--first", help="The fast critic dir (features, relevance).")],
    second: Annotated[Path, typer.Option("--second", help="The LM-reading critic dir.")],
    out: Out,
    band: Annotated[
        str, typer.Option("--band", help="LO,HI: first-tier scores in [LO, HI] go to the second tier.")
    ] = "0.05,0.95",
    route: Annotated[str, typer.Option("--route", help="Default route: margin, always or never.")] = "margin",
    band_raw: Annotated[
        bool, typer.Option("--band-raw", help="--band is in uncalibrated scores: map it through the first "
                           "tier's calibration (the same proposals are routed).")
    ] = False,
) -> None:
    """A two-tier critic: the fast head first, the LM head where the fast one is unsure."""
    from train.disc.two_tier import assemble_two_tier

    try:
        lo, hi = (float(x) for x in band.split(","))
    except ValueError as exc:
        raise typer.BadParameter("give LO,HI, e.g. 0.05,0.95", param_hint="--band") from exc
    path = assemble_two_tier(first, second, out, band=(lo, hi), route=route, band_raw=band_raw)
    typer.echo(f"wrote {path} (`--judge disc:{path}`)")


@app.command()
def gen(
    data: Data,
    out: Out,
    base: Annotated[
        str | None,
        typer.Option("--base", help=f"Base model: default, smollm2, a dir or a hub id; default {G.base_model!r}."),
    ] = None,
    max_steps: Annotated[int | None, typer.Option("--max-steps", help=f"GRPO steps (default {G.max_steps}).")] = None,
    lr: Annotated[float | None, typer.Option(help=f"Learning rate (default {G.learning_rate}).")] = None,
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", help=f"Prompts x generations per step (default {G.per_device_batch_size})."),
    ] = None,
    num_generations: Annotated[
        int | None, typer.Option("--num-generations", help=f"Completions per prompt (default {G.num_generations}).")
    ] = None,
    max_completion_length: Annotated[
        int | None,
        typer.Option("--max-completion-length", help=f"Tokens per completion (default {G.max_completion_length})."),
    ] = None,
    sft_warmup_steps: Annotated[
        int | None, typer.Option("--sft-warmup-steps", help=f"SFT steps before GRPO (default {G.sft_warmup_steps}).")
    ] = None,
    max_rows: Annotated[int | None, typer.Option("--max-rows", help="Use at most this many GenRM rows.")] = None,
    max_prompt_chars: Annotated[
        int | None,
        typer.Option("--max-prompt-chars", help=f"Drop longer prompts (CPU time; default {G.max_prompt_chars})."),
    ] = None,
    use_vllm: Annotated[bool, typer.Option("--use-vllm", help="vLLM rollouts (GPU).")] = False,
    bf16: Annotated[bool, typer.Option("--bf16", help="bf16 (GPU).")] = False,
    seed: Annotated[int | None, typer.Option(help=f"Seed (default {G.seed}).")] = None,
) -> None:
    """A generative pairwise judge (GRPO, verifiable reward); loads as `--judge gen:OUT`.

    Every default comes from ``GenRMConfig`` (``train/gen/config.py``)."""
    from train.gen.grpo import train_genrm

    train_genrm(
        _config(
            G,
            base_model=base, max_steps=max_steps, learning_rate=lr, per_device_batch_size=batch_size,
            num_generations=num_generations, max_completion_length=max_completion_length,
            sft_warmup_steps=sft_warmup_steps, max_rows=max_rows, max_prompt_chars=max_prompt_chars,
            use_vllm=use_vllm or None, bf16=bf16 or None, seed=seed,
        ),
        data, out, echo=typer.echo,
    )
