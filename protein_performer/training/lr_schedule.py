"""The learning-rate schedule: a linear warm-up to the peak, then constant, linear or cosine
decay to a floor. Plain Python (no Lightning), so gpu-check's training run and `ProteinLM`
share it; the paper's recipe is the warm-up (Choromanski et al. 2021, Appendix C).
"""

from __future__ import annotations

import math

DECAYS: tuple[str, ...] = ("constant", "linear", "cosine")


def lr_factor(
    step: int,
    warmup_steps: int,
    total_steps: int,
    decay: str,
    min_ratio: float,
    *,
    progress: float | None = None,
) -> float:
    """Multiplier of the peak learning rate at optimizer step `step` (0-based).

    The decay runs from the end of warm-up to `total_steps`; a run bounded by time rather than
    steps passes its own `progress` in [0, 1] instead (then `total_steps` is not used).
    """
    if decay not in DECAYS:
        raise ValueError(f"decay must be constant, linear or cosine, got {decay!r}")
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if progress is None:
        if total_steps <= warmup_steps:
            return 1.0
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    progress = min(1.0, max(0.0, progress))
    if decay == "linear":
        return 1.0 - (1.0 - min_ratio) * progress
    if decay == "cosine":
        return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0
