"""Exact softmax attention (the Transformer baseline) and identity attention (the "X" optimum).

Shape legend: B batch, H heads, L length, D head dim.

Exact attention is Vaswani et al. 2017, softmax(QKᵀ/sqrt(D)) V, through PyTorch's fused
`scaled_dot_product_attention` (flash/memory-efficient kernels where available).
Identity attention returns V unchanged: the lower bound on the cost of any attention layer,
used as "X" in Choromanski et al. 2021, Fig. 3 (benchmarks only).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def allowed_keys(
    is_pad_BL: torch.Tensor | None, length: int, *, causal: bool, device: torch.device
) -> torch.Tensor | None:
    """Boolean `[B or 1, 1, L, L]` mask, True where query i may attend to key j; None if all.

    Pad keys are excluded. Every query may always see itself, so a row is never empty (an all-
    masked row would make softmax return NaN, e.g. left-padded causal pads); for real queries
    this changes nothing because their own key is real and causally visible.
    """
    if is_pad_BL is None and not causal:
        return None
    eye_LL = torch.eye(length, dtype=torch.bool, device=device)
    allowed = torch.ones(1, 1, length, length, dtype=torch.bool, device=device)
    if causal:
        allowed = allowed & eye_LL.new_ones(length, length).tril()
    if is_pad_BL is not None:
        allowed = allowed & ~is_pad_BL[:, None, None, :].to(device)
    return allowed | eye_LL


def exact_attention(
    q_BHLD: torch.Tensor,
    k_BHLD: torch.Tensor,
    v_BHLD: torch.Tensor,
    *,
    causal: bool,
    is_pad_BL: torch.Tensor | None = None,
    dropout_p: float = 0.0,
) -> torch.Tensor:
    """softmax(QKᵀ/sqrt(D) + mask) V `[B, H, L, D]` through SDPA; pads removed as keys."""
    if is_pad_BL is None:
        # No explicit mask lets SDPA pick its fused causal kernel.
        return F.scaled_dot_product_attention(
            q_BHLD, k_BHLD, v_BHLD, dropout_p=dropout_p, is_causal=causal
        )
    mask = allowed_keys(is_pad_BL, q_BHLD.shape[-2], causal=causal, device=q_BHLD.device)
    return F.scaled_dot_product_attention(
        q_BHLD, k_BHLD, v_BHLD, attn_mask=mask, dropout_p=dropout_p
    )


def identity_attention(
    q_BHLD: torch.Tensor, k_BHLD: torch.Tensor, v_BHLD: torch.Tensor, **_: object
) -> torch.Tensor:
    """Return V: attention that costs nothing (benchmark floor, "X" in the paper's Fig. 3)."""
    return v_BHLD
