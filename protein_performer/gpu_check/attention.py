"""Stage `attention`: one attention op's forward and forward+backward time and peak memory
from L = 1k to 64k (batch 1, 8 heads of 64, m = 256, as the CPU benchmark), bf16 inputs on a
GPU (float32 on a CPU).

Rows (built by `bench.ops`, as in the CPU benchmark): every registered attention kind (exact
SDPA is FlashAttention where the GPU has it), FAVOR kinds on the safe fp32 path and with bf16
GEMMs, identity ("X", the floor; Choromanski et al. 2021, Fig. 3),
performer-pytorch's `FastAttention` and flash-linear-attention's causal chunk kernel fed with
our features, when installed. Lengths run shortest first across every implementation, so a
budget that runs out costs the longest lengths, not whole implementations. A configuration is
skipped once the previous length of the same implementation took more than `MAX_CALL_S` per
call or ran out of memory.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from protein_performer.bench.ops import PEERS, build_op, implementations, our_layer
from protein_performer.bench.timing import median_ms
from protein_performer.gpu_check.context import (
    Sink,
    StageContext,
    is_out_of_memory,
    optional,
    peak_memory_mb,
    peak_memory_reset,
)
from protein_performer.gpu_check.fla import fla_attend
from protein_performer.gpu_check.shapes import BENCH_LENGTHS, attention_shape
from protein_performer.model.attention_kinds import FAVOR_PLUS_KIND

MAX_CALL_S = 2.0
MODES = ("bidirectional", "causal")
FLA = "fla-chunk"  # flash-linear-attention's causal chunk kernel fed with FAVOR+ features


def implementations_here() -> dict[str, str | None]:
    """impl -> None if runnable here, else why not (the row then says so)."""
    impls: dict[str, str | None] = dict.fromkeys(implementations(with_bf16_gemm=True))
    peer = None if optional("performer_pytorch") else "not installed (performer-pytorch)"
    impls.update(dict.fromkeys(PEERS, peer))
    impls[FLA] = (
        None if optional("fla.ops.linear_attn") else "not installed (flash-linear-attention)"
    )
    return impls


def build(impl: str, causal: bool, device: str, quick: bool) -> Callable[..., torch.Tensor]:
    shape = attention_shape(quick)
    dims = dict(heads=shape.heads, head_dim=shape.head_dim, n_features=shape.n_features)
    if impl == FLA:
        return fla_attend(our_layer(FAVOR_PLUS_KIND, causal=causal, device=device, **dims))
    return build_op(impl, causal=causal, device=device, **dims)


def make_inputs(length: int, ctx: StageContext, dtype: torch.dtype) -> list[torch.Tensor]:
    """q, k, v and an output gradient `[B, H, L, D]`, drawn on the device itself (drawing 4 ×
    33 M numbers at L = 64k on the host would cost more than the measurements)."""
    shape = attention_shape(ctx.quick)
    dims = (shape.batch, shape.heads, length, shape.head_dim)
    g = torch.Generator(ctx.device).manual_seed(length)
    return [torch.randn(dims, generator=g, device=ctx.device).to(dtype) for _ in range(4)]


def measure(op, tensors: list[torch.Tensor], ctx: StageContext, reps: int) -> dict:
    """Median forward (no grad) and forward+backward ms, and the op's own peak memory."""
    q, k, v, grad = tensors
    with torch.no_grad():
        fwd_ms = median_ms(lambda: op(q, k, v), reps, ctx.device)
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]

    def fwd_bwd() -> None:
        out = op(*leaves)
        if out.requires_grad:
            out.backward(grad.to(out.dtype))
        for t in leaves:
            t.grad = None

    peak_memory_reset(ctx.device)
    base = torch.cuda.memory_allocated() / 2**20 if ctx.cuda else 0.0
    fwd_bwd_ms = median_ms(fwd_bwd, reps, ctx.device)
    return {"fwd_ms": fwd_ms, "fwd_bwd_ms": fwd_bwd_ms,
            "peak_mb": peak_memory_mb(ctx.device) - base}  # fmt: skip


def run(ctx: StageContext, sink: Sink) -> None:
    dtype = torch.bfloat16 if ctx.cuda else torch.float32
    reps = 1 if ctx.quick else 5
    shape = attention_shape(ctx.quick)
    sink.set(dtype=str(dtype).removeprefix("torch."), reps=reps, **vars(shape))
    impls = implementations_here()
    last: dict[tuple[str, str], dict] = {}
    stopped: dict[tuple[str, str], str] = {}
    for length in BENCH_LENGTHS[ctx.quick]:
        tensors = None
        for impl, missing in impls.items():
            for mode in MODES:
                keys = dict(impl=impl, mode=mode, L=length)
                if missing:
                    if length == BENCH_LENGTHS[ctx.quick][0]:
                        sink.skip(missing, **keys)
                    continue
                if impl == FLA and mode == "bidirectional":
                    continue  # a causal kernel only
                if (impl, mode) in stopped:
                    sink.skip(stopped[(impl, mode)], **keys)
                    continue
                previous = last.get((impl, mode))
                predicted_s = 4 * previous["fwd_bwd_ms"] / 1e3 if previous else 0.1
                if ctx.left() < predicted_s * (2 * reps + 3) + 1:
                    sink.skip("stage budget", **keys)
                    continue
                try:
                    op = build(impl, mode == "causal", ctx.device, ctx.quick)
                    tensors = tensors or make_inputs(length, ctx, dtype)
                    row = sink.add(**keys, **measure(op, tensors, ctx, reps))
                except Exception as error:  # noqa: BLE001 - recorded in the row
                    why = "out of memory" if is_out_of_memory(error) else type(error).__name__
                    sink.add(**keys, status="error", error=f"{why}: {str(error)[:200]}")
                    stopped[(impl, mode)] = f"a shorter L failed ({why})"
                    peak_memory_reset(ctx.device)
                    continue
                last[(impl, mode)] = row
                if row["fwd_bwd_ms"] / 1e3 > MAX_CALL_S:
                    stopped[(impl, mode)] = f"L={length} took > {MAX_CALL_S:.0f} s per call"
