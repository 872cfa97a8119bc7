"""Stage `throughput`: training tokens/s, MFU and peak memory, bf16-mixed.

The paper's protein models (`paper_protein_l36_d512` at L = 1024 and `paper_concat_l6_d512` at
L = 8192), MLM steps (forward, loss, backward, AdamW) on synthetic tokens under
`torch.autocast(bfloat16)` with fp32 weights (what Lightning's `bf16-mixed` does), for every
registered attention kind on the safe path, and with bf16 GEMMs where the kind has them. MFU =
model FLOPs (`gpu_check.flops`) per second over the bf16 GEMM rate that the `env` stage
measured on this device, and over the vendor's peak where known.
"""

from __future__ import annotations

import json
import time

import torch

from protein_performer.bench.ops import BF16_SUFFIX
from protein_performer.bench.timing import synchronize
from protein_performer.gpu_check.context import (
    Sink,
    StageContext,
    is_out_of_memory,
    peak_memory_mb,
    peak_memory_reset,
)
from protein_performer.gpu_check.flops import training_flops_per_token
from protein_performer.gpu_check.shapes import THROUGHPUT
from protein_performer.model.attention_kinds import specs
from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer


def variants() -> dict[str, tuple[str, bool]]:
    """variant -> (attention kind, favor_bf16_gemm): every registered kind, then the bf16-GEMM
    twin of each kind that has one."""
    found = {spec.name: (spec.name, False) for spec in specs()}
    found.update({spec.name + BF16_SUFFIX: (spec.name, True) for spec in specs()
                  if spec.supports_bf16_gemm})  # fmt: skip
    return found


def measured_peak_tflops(ctx: StageContext) -> tuple[float | None, float | None]:
    """(measured bf16 GEMM TFLOP/s, vendor peak) from the `env` stage's JSON, if it ran."""
    path = ctx.out_dir / "env.json"
    if not path.exists():
        return None, None
    env = json.loads(path.read_text())
    measured = [r["tflops"] for r in env.get("rows", []) if r.get("gemm") == "bfloat16"
                and r.get("status") == "ok"]  # fmt: skip
    return (measured[0] if measured else None), env.get("spec_bf16_tflops")


def train_steps(model, batch: int, length: int, ctx: StageContext, steps: int, warmup: int):
    """(seconds per step, steps timed) of MLM training steps on synthetic tokens."""
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(5, 25, (batch, length), generator=g)
    chosen = torch.rand(batch, length, generator=g) < 0.15
    labels = torch.where(chosen, tokens, torch.full_like(tokens, -100)).to(ctx.device)
    tokens = tokens.masked_fill(chosen, 1).to(ctx.device)
    fused = {"fused": True} if ctx.cuda else {}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, **fused)
    device_type = ctx.device.split(":")[0]

    def step() -> None:
        with torch.autocast(device_type, dtype=torch.bfloat16):
            logits = model(tokens).logits_BLV
        loss = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), labels.flatten())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(warmup):
        step()
    synchronize(ctx.device)
    peak_memory_reset(ctx.device)
    start, done = time.perf_counter(), 0
    # Up to `steps` steps, but never past a third of what is left of the stage.
    limit = start + max(ctx.left() / 3, 0.5)
    while done < steps and (done == 0 or time.perf_counter() < limit):
        step()
        synchronize(ctx.device)
        done += 1
    return (time.perf_counter() - start) / done, done


def run(ctx: StageContext, sink: Sink) -> None:
    measured, spec = measured_peak_tflops(ctx)
    sink.set(precision="bf16-mixed (autocast bf16, fp32 weights)", objective="mlm",
             gemm_bf16_tflops=measured, spec_bf16_tflops=spec)  # fmt: skip
    steps, warmup = (1, 1) if ctx.quick else (5, 2)
    for name, length, batch in THROUGHPUT[ctx.quick]:
        for variant, (kind, flag) in variants().items():
            keys = dict(preset=name, variant=variant, L=length, batch=batch)
            if ctx.left() < (1.0 if ctx.quick else 8.0):
                sink.skip("stage budget", **keys)
                continue
            try:
                torch.manual_seed(0)
                config = preset(name, attention=kind, max_len=length, favor_bf16_gemm=flag)
                model = ProteinPerformer(config).to(ctx.device).train()
                step_s, timed = train_steps(model, batch, length, ctx, steps, warmup)
            except Exception as error:  # noqa: BLE001 - recorded in the row
                why = "out of memory" if is_out_of_memory(error) else type(error).__name__
                sink.add(**keys, status="error", error=f"{why}: {str(error)[:200]}")
                peak_memory_reset(ctx.device)
                continue
            tokens_per_s = batch * length / step_s
            flops = training_flops_per_token(config, length) * tokens_per_s
            sink.add(
                **keys, steps=timed, step_s=step_s, tokens_per_s=tokens_per_s,
                model_tflops=flops / 1e12,
                mfu_vs_measured_gemm=flops / (measured * 1e12) if measured else None,
                mfu_vs_spec=flops / (spec * 1e12) if spec else None,
                peak_mb=peak_memory_mb(ctx.device), params=model.num_parameters(),
            )  # fmt: skip
            del model
