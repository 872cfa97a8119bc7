"""`protein-performer bench family`: where a family training step spends its time, and how long
a family evaluation takes, measured side by side in one process.

    protein-performer bench family                      # L = 84 and 202, 1 and 2 threads
    protein-performer bench family --quick              # seconds: tiny batch, 2 steps (tests)
    protein-performer bench family --eval-only          # only the 200-column evaluation
    protein-performer bench family --batch-tokens 0     # 128 rows a step at L = 202 as well

Training (the family recipe of `protein-performer family`: `RECIPE_PRESET` with `RECIPE`'s
model, optimiser and trainer values, on PF00595's weighted rows; `--width 200` tiles its
columns to 200, i.e. L = 202 tokens with `<cls>` and `<eos>`, and the recipe's token cap then
takes 53 rows a step; `--batch-tokens` sets or lifts the cap):
- `lightning`: the recipe's Trainer (`training.run.build_trainer`: callbacks, loggers,
  clipping, LR schedule), steps timed from one `on_train_batch_end` to the next;
- `bare`: the same `ProteinLM.model`, loader, AdamW, schedule and clipping in a plain loop;
- `bare, chunk min(128, L)`: the bare loop with the causal kernel's former chunk rule
  (one chunk up to 128 positions, padded to a multiple of 128 beyond);
- `bare, per-sequence position maps`: the bare loop with the position-attention layer run
  through the causal kernel for every sequence instead of its one shared map
  (`SelfAttention.shares_map`);
- a breakdown of the bare step (data, forward, loss, backward, clipping, optimiser), the share
  of the attention layers in forward + backward, the step's FLOPs (`FlopCounterMode`) and the
  fp32 GEMM rate of this CPU at the model's width and at n = 1024, all in the same process.
Variants alternate within every repeat and the tables give medians, so load that drifts over
seconds affects them alike; the load average is printed with the results.

Evaluation (`--eval`): a random recipe model over 200 columns, timed before (the former code
path) and after: the categorical Jacobian over 20·L variants, causal-LLR scores of all 19·200
single substitutions, and 200 sampled rows (full forward per column vs the recurrent decoder).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import numpy as np
import torch

from protein_performer import command_line
from protein_performer.paths import PF00595_DIR

MSA = PF00595_DIR / "PF00595_mgap6.fasta.gz"


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def recipe(
    width: int, batch_size: int | None = None, msa: Path = MSA, cache_dir: str | None = None,
    d_model: int | None = None, batch_tokens: int | None = None,
):  # fmt: skip
    """(model config, optim config, trainer config, data module) of the family recipe, the
    alignment's columns tiled to `width` (None: as they are); `d_model` widens the model, its
    feed-forward kept at 4 × d_model as in the recipe (None: the recipe's width);
    `batch_tokens` caps a step's tokens (None: the recipe's cap, 0: no cap)."""
    from protein_performer.data.family import FamilyDataConfig, FamilyDataModule, FamilyItems
    from protein_performer.family.family_cli import RECIPE, RECIPE_PRESET
    from protein_performer.family.train import fit_model_config
    from protein_performer.model.config import preset
    from protein_performer.training.lit_module import OptimConfig
    from protein_performer.training.run import TrainerConfig

    section = {
        name: {k.split(".", 1)[1]: v for k, v in RECIPE.items() if k.startswith(f"{name}.")}
        for name in ("model", "optim", "trainer")
    }
    options = {"batch_size": batch_size, "cache_dir": cache_dir}
    data = FamilyDataConfig(msa=str(msa), **{k: v for k, v in options.items() if v is not None})
    if batch_tokens is not None:
        data = dataclasses.replace(data, batch_tokens=batch_tokens or None)
    datamodule = FamilyDataModule(data, objective=section["model"]["objective"])
    datamodule.setup("fit")
    if width:
        for split, items in datamodule.items.items():
            datamodule.alignment.items[split] = FamilyItems([tile(t, width) for t in items.tokens])
    model = dict(
        section["model"], **({"d_model": d_model, "d_ff": 4 * d_model} if d_model else {})
    )
    model_cfg = fit_model_config(preset(RECIPE_PRESET, **model), datamodule)
    return (
        model_cfg,
        OptimConfig(**section["optim"]),
        section["trainer"],
        datamodule,
        TrainerConfig,
    )


def tile(framed_L: np.ndarray, width: int) -> np.ndarray:
    """`<cls>` + the row's columns repeated up to `width` + `<eos>`."""
    columns = framed_L[1:-1]
    reps = -(-width // len(columns))
    return np.concatenate([framed_L[:1], np.tile(columns, reps)[:width], framed_L[-1:]])


def gemm_gflops(m: int, k: int, n: int, seconds: float = 0.3) -> float:
    """fp32 [m, k] @ [k, n] throughput, best of repeated calls over about `seconds`."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    a @ b
    best, spent = float("inf"), 0.0
    while spent < seconds:
        start = time.perf_counter()
        a @ b
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
    return 2 * m * k * n / best / 1e9


def step_flops(model, batch: dict) -> float:
    """FLOPs of one forward + backward pass over `batch` (matmuls, as `FlopCounterMode` counts)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(batch["tokens"], batch["is_pad"]).logits_BLV.sum().backward()
    model.zero_grad(set_to_none=True)
    return float(counter.get_total_flops())


def _loss(model, batch: dict) -> torch.Tensor:
    from protein_performer.training.metrics import predicted

    logits_NV, labels_N = predicted(
        model(batch["tokens"], batch["is_pad"]).logits_BLV, batch["labels"]
    )
    return torch.nn.functional.cross_entropy(logits_NV.float(), labels_N)


def _batches(datamodule) -> Iterator[dict]:
    while True:
        yield from datamodule.train_dataloader()


def bare_steps(module, datamodule, steps: int, clip: float | None) -> list[float]:
    """Seconds per step of a plain loop: the same model, loader, optimiser, schedule, clipping."""
    model = module.model.train()
    optim = module.configure_optimizers()
    optimizer, scheduler = optim["optimizer"], optim["lr_scheduler"]["scheduler"]
    batches, times = _batches(datamodule), []
    last = time.perf_counter()
    for _ in range(steps):
        loss = _loss(model, next(batches))
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        now = time.perf_counter()
        times.append(now - last)
        last = now
    return times


def lightning_steps(
    module, datamodule, trainer_values: dict, trainer_type, steps: int, run_dir: Path
) -> list[float]:
    """Seconds per step of the recipe's Trainer (between consecutive `on_train_batch_end`)."""
    from lightning.pytorch.callbacks import Callback

    from protein_performer.training.run import build_trainer

    class Clock(Callback):
        def __init__(self) -> None:
            self.marks: list[float] = []

        def on_train_batch_end(self, *args) -> None:
            self.marks.append(time.perf_counter())

    values = {
        **trainer_values,
        "max_steps": steps + 1,
        "val_check_interval": steps + 2,
        "checkpoint_every_n_steps": steps + 2,
        "enable_progress_bar": False,
    }
    clock = Clock()
    trainer = build_trainer(trainer_type(**values), run_dir, extra_callbacks=[clock])
    trainer.fit(module, datamodule=datamodule)
    return list(np.diff(clock.marks))


def former_chunks() -> contextlib.AbstractContextManager:
    """The causal kernel's chunk rule before `kernels.chunk_length`: min(chunk_size, L)."""
    from protein_performer.model import kernels

    return mock.patch.object(
        kernels, "chunk_length", lambda length, max_chunk, m, e: min(max_chunk, length)
    )


def per_sequence_position_maps() -> contextlib.AbstractContextManager:
    """Position-attention layers through the attention kernel for every sequence, as before
    `SelfAttention.shares_map` built their one map once per batch."""
    from protein_performer.model.attention import SelfAttention

    return mock.patch.object(SelfAttention, "shares_map", lambda self, *args: False)


def breakdown(module, datamodule, steps: int, clip: float | None) -> dict[str, float]:
    """Median ms per part of a bare step, and the attention layers' fwd+bwd ms alone."""
    model = module.model.train()
    optimizer = module.configure_optimizers()["optimizer"]
    batches = _batches(datamodule)
    parts: dict[str, list[float]] = {
        k: [] for k in ("data", "forward", "loss", "backward", "clip", "optimiser")
    }
    for _ in range(steps):
        marks = [time.perf_counter()]
        batch = next(batches)
        marks.append(time.perf_counter())
        logits_BLV = model(batch["tokens"], batch["is_pad"]).logits_BLV
        marks.append(time.perf_counter())
        keep = batch["labels"] != -100
        loss = torch.nn.functional.cross_entropy(logits_BLV[keep], batch["labels"][keep])
        marks.append(time.perf_counter())
        loss.backward()
        marks.append(time.perf_counter())
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        marks.append(time.perf_counter())
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        marks.append(time.perf_counter())
        for key, a, b in zip(parts, marks, marks[1:], strict=False):
            parts[key].append(b - a)
    out = {k: 1e3 * statistics.median(v) for k, v in parts.items()}
    shape = (*batch["tokens"].shape, model.config.d_model)
    x_BLC = torch.randn(shape, requires_grad=True)
    attention = [block.attention for block in model.blocks]

    def attend() -> float:
        start = time.perf_counter()
        sum(layer(x_BLC, None).sum() for layer in attention).backward()
        return time.perf_counter() - start

    attend()
    out["attention layers (fwd+bwd)"] = 1e3 * statistics.median(attend() for _ in range(steps))
    model.zero_grad(set_to_none=True)
    return out


def optimiser_step_ms(model, reps: int = 20) -> dict[str, float]:
    """Median ms of one AdamW step over the model's parameters: the for-loop implementation
    (torch's CPU default), the foreach one and the fused one (`ProteinLM`'s), interleaved."""
    params = [torch.nn.Parameter(p.detach().clone()) for p in model.parameters()]
    for p in params:
        p.grad = torch.randn_like(p)
    kinds = {
        "for-loop": {"foreach": False},
        "foreach": {"foreach": True},
        "fused": {"fused": True},
    }
    optimisers = {k: torch.optim.AdamW(params, lr=1e-3, **kw) for k, kw in kinds.items()}
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(reps):
        for name, optimiser in optimisers.items():
            start = time.perf_counter()
            optimiser.step()
            times[name].append(1e3 * (time.perf_counter() - start))
    return {k: statistics.median(v) for k, v in times.items()}


def measure_training(
    width: int,
    threads: list[int],
    steps: int,
    repeats: int,
    batch_size: int | None,
    run_dir: Path,
    msa: Path = MSA,
    cache_dir: str | None = None,
    d_model: int | None = None,
    batch_tokens: int | None = None,
) -> dict:
    from protein_performer.training.lit_module import ProteinLM

    model_cfg, optim_cfg, trainer_values, datamodule, trainer_type = recipe(
        width, batch_size, msa, cache_dir, d_model, batch_tokens
    )
    module = ProteinLM(model_cfg, optim_cfg)
    clip = trainer_values.get("gradient_clip_val", trainer_type().gradient_clip_val)
    batch = next(iter(datamodule.train_dataloader()))
    tokens = batch["tokens"].numel()
    flops = step_flops(module.model, batch)
    variants: dict[str, Callable[[], list[float]]] = {
        "lightning": lambda: lightning_steps(
            module, datamodule, trainer_values, trainer_type, steps, run_dir
        ),
        "bare": lambda: bare_steps(module, datamodule, steps, clip),
    }

    def former() -> list[float]:
        with former_chunks():
            return bare_steps(module, datamodule, steps, clip)

    def per_sequence() -> list[float]:
        with per_sequence_position_maps():
            return bare_steps(module, datamodule, steps, clip)

    variants["bare, chunk min(128, L)"] = former
    variants["bare, per-sequence position maps"] = per_sequence
    result: dict = {
        "d_model": model_cfg.d_model,
        "length": int(batch["tokens"].shape[1]),
        "batch": int(batch["tokens"].shape[0]),
        "tokens_per_step": tokens,
        "gflop_per_step": flops / 1e9,
        "threads": {},
    }
    for n in threads:
        torch.set_num_threads(n)
        times: dict[str, list[float]] = {k: [] for k in variants}
        ratios: list[float] = []
        # The model's own GEMM shapes (tokens × C @ C × C for q, k, v and out; C × d_ff for
        # the feed-forward) and a large square one, once per repeat: the best of the repeats
        # is the rate this CPU reaches, the reference of "% of GEMM".
        gemm_shapes = {"C x C": (tokens, model_cfg.d_model, model_cfg.d_model),
                       "C x d_ff": (tokens, model_cfg.d_model, model_cfg.d_ff),
                       "square": (1024, 1024, 1024)}  # fmt: skip
        gemm: dict[str, float] = dict.fromkeys(gemm_shapes, 0.0)
        for _ in range(repeats):
            for name, shape in gemm_shapes.items():
                gemm[name] = max(gemm[name], gemm_gflops(*shape))
            medians = {}
            for name, run in variants.items():
                steps_s = run()[1:]  # the first step warms up allocator and kernels
                times[name] += steps_s
                medians[name] = statistics.median(steps_s)
            ratios.append(medians["lightning"] / medians["bare"])
        step_s = {k: statistics.median(v) for k, v in times.items()}
        result["threads"][n] = {
            "step_s": step_s,
            "lightning_over_bare": statistics.median(ratios),
            "tokens_per_s": {k: tokens / v for k, v in step_s.items()},
            "gflops": {k: flops / v / 1e9 for k, v in step_s.items()},
            "gemm_gflops": gemm,
            "breakdown_ms": breakdown(module, datamodule, max(3, steps // 2), clip),
            "optimiser_step_ms": optimiser_step_ms(module.model),
            "load": load_line(),
        }
    return result


def format_training(result: dict) -> str:
    lines = [
        f"d_model {result['d_model']}, L = {result['length']}, batch {result['batch']}: "
        f"{result['tokens_per_step']} "
        f"tokens, {result['gflop_per_step']:.2f} GFLOP per step (fwd + bwd)"
    ]
    for n, row in result["threads"].items():
        gemm = row["gemm_gflops"]
        lines.append(
            f"  {n} thread(s), {row['load']}; best fp32 GEMM GFLOP/s: tokens x C @ C x C "
            f"{gemm['C x C']:.1f}, @ C x d_ff {gemm['C x d_ff']:.1f}, n = 1024 "
            f"{gemm['square']:.1f}"
        )
        peak = max(gemm.values())
        for name, step_s in row["step_s"].items():
            achieved = row["gflops"][name]
            lines.append(
                f"    {name:<34}{step_s * 1e3:>9.1f} ms/step {row['tokens_per_s'][name]:>9.0f}"
                f" tokens/s {achieved:>6.1f} GFLOP/s = {achieved / peak:.0%} of the best GEMM"
            )
        lines.append(
            f"    lightning / bare (median of per-repeat ratios): {row['lightning_over_bare']:.3f}"
        )
        parts = ", ".join(f"{k} {v:.1f}" for k, v in row["breakdown_ms"].items())
        lines.append(f"    bare step breakdown, ms: {parts}")
        optimiser = ", ".join(f"{k} {v:.2f}" for k, v in row["optimiser_step_ms"].items())
        lines.append(f"    AdamW step alone, ms: {optimiser}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = command_line.ArgumentParser(
        prog="protein-performer bench family", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--widths",
        type=int,
        nargs="+",
        default=None,
        help="columns (0: the alignment's own; default 0 200, --quick 0)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=None,
        help="torch threads (default 1 2, --quick 1)",
    )
    parser.add_argument(
        "--model-widths", type=int, nargs="+", default=[0],
        help="model widths d_model, feed-forward 4 x d_model (0: the recipe's 64; default 0)",
    )  # fmt: skip
    parser.add_argument("--steps", type=int, default=8, help="timed steps per block")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved blocks per variant")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the recipe's")
    parser.add_argument(
        "--batch-tokens", type=int, default=None,
        help="most tokens a step (0: no cap; default: the recipe's cap)",
    )  # fmt: skip
    parser.add_argument(
        "--eval", **{**command_line.SWITCH, "default": True},
        help="also time the 200-column evaluation (default true)",
    )  # fmt: skip
    parser.add_argument("--eval-only", **command_line.SWITCH, help="only the evaluation")
    parser.add_argument("--eval-width", type=int, default=200)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument(
        "--quick", **command_line.SWITCH,
        help="batch 4, 3 steps, 1 repeat, 1 thread, 24 eval columns (tests)",
    )  # fmt: skip
    parser.add_argument("--msa", type=Path, default=MSA, help="alignment (default: PF00595)")
    parser.add_argument(
        "--cache-dir", default=None, help="sequence-weight cache (default: the family command's)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.batch_tokens is not None and args.batch_tokens < 0:
        parser.error(f"--batch-tokens must be >= 0 (0: no cap), got {args.batch_tokens}")
    if args.quick:
        args.widths, args.threads = args.widths or [0], args.threads or [1]
        args.steps, args.repeats = 3, 1
        args.batch_size, args.eval_width, args.samples = args.batch_size or 4, 24, 4
    args.widths, args.threads = args.widths or [0, 200], args.threads or [1, 2]
    before_threads = torch.get_num_threads()
    results: dict = {"load_start": load_line(), "training": [], "evaluation": None}
    print(results["load_start"], flush=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            shapes = [] if args.eval_only else [(w, d) for d in args.model_widths
                                                     for w in args.widths]  # fmt: skip
            for width, d_model in shapes:
                result = measure_training(
                    width,
                    args.threads,
                    args.steps,
                    args.repeats,
                    args.batch_size,
                    Path(tmp) / f"w{width}_d{d_model}",
                    args.msa,
                    args.cache_dir,
                    d_model or None,
                    args.batch_tokens,
                )
                results["training"].append(result)
                print(format_training(result), flush=True)
        if args.eval or args.eval_only:
            from protein_performer.bench.family_eval import format_evaluation, measure_evaluation

            torch.set_num_threads(before_threads)
            results["evaluation"] = measure_evaluation(args.eval_width, args.samples)
            print(format_evaluation(results["evaluation"]), flush=True)
    finally:
        torch.set_num_threads(before_threads)
    results["load_end"] = load_line()
    print(results["load_end"])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
