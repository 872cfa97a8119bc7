"""The stages of the check, in order, and each one's share of the total time budget.

The shares add up to 0.97 of `--total-s`: the rest covers starting the parent and writing the
report. Each stage's subprocess is killed at its share, whatever it is doing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

# name -> (module with run(ctx, sink), share of the total budget, what it measures)
STAGES: dict[str, tuple[str, float, str]] = {
    "env": ("protein_performer.gpu_check.env", 0.03, "device, versions, GEMM TFLOP/s"),
    "correctness": (
        "protein_performer.gpu_check.correctness", 0.12,
        "FAVOR / exact / decoder vs float64 CPU; NaN check",
    ),
    "attention": ("protein_performer.gpu_check.attention", 0.28, "attention time and memory"),
    "throughput": (
        "protein_performer.gpu_check.throughput", 0.25, "training tokens/s, MFU, memory",
    ),
    "train": ("protein_performer.gpu_check.train", 0.29, "a two-minute real training run"),
}  # fmt: skip


def stage_runner(name: str) -> Callable:
    return importlib.import_module(STAGES[name][0]).run


def budget_s(name: str, total_s: float) -> float:
    return STAGES[name][1] * total_s
