"""Stage `env`: what the check runs on, and the GEMM throughput that MFU is measured against.

The dense GEMM rate is measured, not looked up: MFU "against the measured bf16 GEMM" says how
much of what this very card delivers on a large square matmul the model reaches. The vendor's
peak is recorded beside it where the device name is known (`SPEC_BF16_TFLOPS`).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform

import torch

from protein_performer.bench.timing import median_ms
from protein_performer.gpu_check.context import Sink, StageContext

# Dense (no sparsity) bf16 tensor-core peak in TFLOP/s from NVIDIA's data sheets (SXM parts):
# H100/H200 989.4 ("NVIDIA H100 Tensor Core GPU" / "H200" data sheets), A100 312.
SPEC_BF16_TFLOPS = {"H200": 989.4, "H100": 989.4, "A100": 312.0}
# Distribution names; looked up in the installed metadata, without importing them (seconds).
OPTIONAL_PACKAGES = ("performer-pytorch", "flash-linear-attention", "triton", "lightning")


def installed_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def spec_tflops(device_name: str) -> float | None:
    for key, value in SPEC_BF16_TFLOPS.items():
        if key in device_name:
            return value
    return None


def gemm_tflops(n: int, dtype: torch.dtype, device: str, reps: int) -> float:
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    ms = median_ms(lambda: a @ b, reps, device)
    return 2 * n**3 / (ms / 1e3) / 1e12


def run(ctx: StageContext, sink: Sink) -> None:
    name = torch.cuda.get_device_name(0) if ctx.cuda else platform.processor() or "cpu"
    sink.set(
        device_name=name,
        gpu_available=torch.cuda.is_available(),
        torch=torch.__version__,
        cuda=torch.version.cuda,
        python=platform.python_version(),
        cpu_count=os.cpu_count(),
        tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
        bf16_reduced_precision_reduction=(
            torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction
        ),
        spec_bf16_tflops=spec_tflops(name),
        packages={dist: installed_version(dist) for dist in OPTIONAL_PACKAGES},
    )
    n = 256 if ctx.quick else 8192
    for dtype in (torch.bfloat16, torch.float32):
        label = str(dtype).removeprefix("torch.")
        if ctx.left() < 2:
            sink.skip("stage budget", gemm=label, n=n)
            continue
        tflops = gemm_tflops(n, dtype, ctx.device, reps=2 if ctx.quick else 10)
        sink.add(gemm=label, n=n, tflops=tflops)
