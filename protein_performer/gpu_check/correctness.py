"""Stage `correctness`: the device's attention paths against the float64 CPU reference.

The kinds come from the registry (`model.attention_kinds`): every FAVOR kind (`is_favor`) gets
the FAVOR rows, the others the exact rows, and bf16 GEMMs are checked where the kind has them.
Every FAVOR row runs `SelfAttention.attend` on the device and the same layer (same projection)
in float64 on the CPU from the very same, already rounded inputs, and compares the output and
the gradients of q, k and v (`model.kernels.numeric_error.path_error`). Paths:

- `fp32`: float32 inputs, every op float32;
- `bf16-autocast`: bf16 inputs as autocast hands them over, features, normaliser and GEMMs in
  fp32 (the safe default);
- `bf16-gemm`: bf16 inputs with `bf16_gemm=True`: GEMMs in bf16, exponent and normaliser fp32.

Also: exact attention (SDPA, FlashAttention under bf16 on a GPU), the recurrent decoder (token
by token, fp32 state) against the float64 causal forward, flash-linear-attention's causal chunk
kernel fed with our features when it is installed, and a NaN/inf check of forward and
backward under bf16 autocast with inputs of norm ~300.
"""

from __future__ import annotations

import torch

from protein_performer.gpu_check.context import Sink, StageContext, optional
from protein_performer.gpu_check.fla import fla_attend
from protein_performer.gpu_check.shapes import (
    CORRECTNESS_LENGTHS,
    DECODER_LENGTHS,
    attention_shape,
)
from protein_performer.model.attention import SelfAttention
from protein_performer.model.attention_kinds import FAVOR_PLUS_KIND, specs
from protein_performer.model.kernels.numeric_error import (
    BF16_GEMM_BOUND,
    path_error,
    relative_error,
)
from protein_performer.model.recurrent import attention_step, init_layer_state

FP32_BOUND = 1e-4
# path -> (input dtype, bf16_gemm flag, bound)
PATHS = {
    "fp32": (torch.float32, False, FP32_BOUND),
    "bf16-autocast": (torch.bfloat16, False, BF16_GEMM_BOUND),
    "bf16-gemm": (torch.bfloat16, True, BF16_GEMM_BOUND),
}
EXACT_PATHS = {"fp32": (torch.float32, False, FP32_BOUND),
               "bf16": (torch.bfloat16, False, BF16_GEMM_BOUND)}  # fmt: skip


def favor_kinds() -> list[str]:
    return [spec.name for spec in specs() if spec.is_favor]


def exact_kinds() -> list[str]:
    return [spec.name for spec in specs() if not spec.is_favor]


def layer_pair(kind: str, causal: bool, device: str, quick: bool, bf16_gemm: bool = False):
    """The layer on `device` (float32 parameters) and its float64 CPU twin (same weights)."""
    shape = attention_shape(quick)
    torch.manual_seed(0)
    layer = SelfAttention(
        shape.heads * shape.head_dim, shape.heads, kind=kind, causal=causal,
        n_features=shape.n_features, bf16_gemm=bf16_gemm,
    )  # fmt: skip
    twin = SelfAttention(
        shape.heads * shape.head_dim, shape.heads, kind=kind, causal=causal,
        n_features=shape.n_features,
    ).double()  # fmt: skip
    twin.load_state_dict({k: v.double() for k, v in layer.state_dict().items()})
    return layer.to(device), twin


def inputs(length: int, dtype: torch.dtype, device: str, quick: bool):
    """q, k, v and an output gradient `[B, H, L, D]`, drawn on the CPU (same on every device)."""
    shape = attention_shape(quick)
    g = torch.Generator().manual_seed(length)
    dims = (shape.batch, shape.heads, length, shape.head_dim)
    return [torch.randn(dims, generator=g).to(device, dtype) for _ in range(4)]


def _row(sink: Sink, bound: float, err, **keys) -> None:
    sink.add(
        **keys, out_err=err.out, dq_err=err.dq, dk_err=err.dk, dv_err=err.dv,
        finite=err.finite, bound=bound, passed=bool(err.finite and err.worst <= bound),
    )  # fmt: skip


def _guarded(ctx: StageContext, sink: Sink, need_s: float, measure, **keys) -> None:
    """`measure(ctx, sink, **keys)` if the budget allows; a failure becomes a row, not the end
    of the stage."""
    if ctx.left() < need_s:
        sink.skip("stage budget", **keys)
        return
    try:
        measure(ctx, sink, **keys)
    except Exception as error:  # noqa: BLE001 - recorded in the row
        sink.add(**keys, status="error", passed=False, error=f"{type(error).__name__}: {error}")


def check_attention(ctx: StageContext, sink: Sink, **keys) -> None:
    """One attention path (`keys["path"]`) against its float64 twin: output and gradients."""
    dtype, flag, bound = PATHS.get(keys["path"], EXACT_PATHS.get(keys["path"]))
    layer, twin = layer_pair(keys["kind"], keys["causal"], ctx.device, ctx.quick, flag)
    q, k, v, g = inputs(keys["L"], dtype, ctx.device, ctx.quick)
    attend = fla_attend(layer) if keys["check"] == "fla" else layer.attend
    _row(sink, bound, path_error(attend, twin.attend, q, k, v, g), **keys)


def check_decoder(ctx: StageContext, sink: Sink, **keys) -> None:
    """Token-by-token decoding on the device (fp32 state) against the float64 causal forward
    on the CPU (`out_err`) and against the device's own causal forward on the same path
    (`forward_gap`): the decoder and the parallel forward must tell the same story."""
    _, flag, bound = PATHS[keys["path"]]
    layer, twin = layer_pair(keys["kind"], True, ctx.device, ctx.quick, flag)
    length = keys["L"]
    x_BLC = torch.randn(1, length, layer.d_model, generator=torch.Generator().manual_seed(7))
    device_type = ctx.device.split(":")[0]
    on = keys["path"] != "fp32"
    with torch.no_grad(), torch.autocast(device_type, torch.bfloat16, enabled=on):
        forward_BLC = layer(x_BLC.to(ctx.device)).float().cpu()
        state = init_layer_state(layer, 1, capacity=8, dtype=torch.float32, device=ctx.device)
        steps = []
        for t in range(length):
            y_B1C, state = attention_step(layer, x_BLC[:, t : t + 1].to(ctx.device), state)
            steps.append(y_B1C.float().cpu())
        reference_BLC = twin(x_BLC.double())
    stepped_BLC = torch.cat(steps, dim=1)
    err = relative_error(stepped_BLC, reference_BLC)
    gap = relative_error(stepped_BLC, forward_BLC)
    finite = bool(torch.isfinite(stepped_BLC).all())
    sink.add(**keys, out_err=err, forward_gap=gap, finite=finite, bound=bound,
             passed=bool(finite and max(err, gap) <= bound))  # fmt: skip


def check_large_norm(ctx: StageContext, sink: Sink, **keys) -> None:
    """No NaN or inf in forward or backward under bf16 autocast when the inputs have norm ~300
    (logits in the thousands), with a padded row."""
    layer, _ = layer_pair(keys["kind"], keys["causal"], ctx.device, ctx.quick, keys["bf16_gemm"])
    length = keys["L"]
    x = torch.randn(2, length, layer.d_model, generator=torch.Generator().manual_seed(11)) * 300
    x = x.to(ctx.device).requires_grad_()
    pad = torch.zeros(2, length, dtype=torch.bool, device=ctx.device)
    pad[0, length * 3 // 4 :] = True
    with torch.autocast(ctx.device.split(":")[0], dtype=torch.bfloat16):
        y = layer(x, pad)
    y.float().square().mean().backward()
    tensors = [y, x.grad, *(p.grad for p in layer.parameters())]
    finite = all(bool(torch.isfinite(t).all()) for t in tensors)
    sink.add(**keys, input_scale=300, finite=finite, passed=finite)


def run(ctx: StageContext, sink: Sink) -> None:
    sink.set(fp32_bound=FP32_BOUND, bf16_bound=BF16_GEMM_BOUND)
    lengths = CORRECTNESS_LENGTHS[ctx.quick]
    need = 2.0 if ctx.quick else 5.0
    for length in lengths:
        for kind in favor_kinds():
            for causal in (False, True):
                for path in PATHS:
                    _guarded(ctx, sink, need, check_attention, check="attention", kind=kind,
                             causal=causal, path=path, L=length)  # fmt: skip
    for kind in exact_kinds():
        for causal in (False, True):
            for path in EXACT_PATHS:
                _guarded(ctx, sink, need, check_attention, check="attention", kind=kind,
                         causal=causal, path=path, L=lengths[0])  # fmt: skip
    for kind in favor_kinds():
        for path in PATHS:
            _guarded(ctx, sink, need, check_decoder, check="decoder", kind=kind, causal=True,
                     path=path, L=DECODER_LENGTHS[ctx.quick])  # fmt: skip
    for spec in specs():
        for causal in (False, True):
            for flag in (False, True) if spec.supports_bf16_gemm else (False,):
                _guarded(ctx, sink, need, check_large_norm, check="large-norm", kind=spec.name,
                         causal=causal, bf16_gemm=flag, L=lengths[0])  # fmt: skip
    # fla computes the numerator in bf16 like our bf16-GEMM path, and is held to its bound.
    fla = dict(check="fla", kind=FAVOR_PLUS_KIND, causal=True, path="bf16-gemm", L=lengths[0])
    if optional("fla.ops.linear_attn") is None:
        sink.skip("not installed (flash-linear-attention)", **fla)
    else:
        _guarded(ctx, sink, need, check_attention, **fla)
    measured = [r for r in sink.rows if r.get("status") == "ok"]
    sink.set(all_passed=bool(measured) and all(r.get("passed") for r in measured))
