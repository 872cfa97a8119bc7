"""Bidirectional linear attention: out = D⁻¹ φ(Q) (φ(K)ᵀ V), never forming the L×L matrix.

Shape legend: B batch, H heads, L length, D head dim, M random features.

Choromanski et al., "Rethinking Attention with Performers" (ICLR 2021, arXiv 2009.14794),
§2.1 eq. (3)-(5) and Algorithm 1 (bidirectional case): Att(Q, K, V) ≈ D̂⁻¹ (Q' ((K')ᵀ V)) with
D̂ = diag(Q' ((K')ᵀ 1_L)). A column of ones appended to V makes the normaliser fall out of the
same two matmuls, so the whole op is exactly two batched GEMMs plus O(L·(M+D)) elementwise
work; time O(L·M·D), memory O(L·(M+D) + M·D).
"""

from __future__ import annotations

import torch


def append_ones(v_BHLD: torch.Tensor) -> torch.Tensor:
    """`[.., L, D] -> [.., L, D+1]` with a trailing column of ones (carries the normaliser)."""
    return torch.cat([v_BHLD, v_BHLD.new_ones(*v_BHLD.shape[:-1], 1)], dim=-1)


def mask_pad_keys(phi_k_BHLM: torch.Tensor, is_pad_BL: torch.Tensor | None) -> torch.Tensor:
    """Zero the features of padded keys, removing them from numerator *and* normaliser."""
    if is_pad_BL is None:
        return phi_k_BHLM
    if is_pad_BL.shape != (phi_k_BHLM.shape[0], phi_k_BHLM.shape[2]):
        raise ValueError(
            f"is_pad_BL has shape {tuple(is_pad_BL.shape)}, expected "
            f"{(phi_k_BHLM.shape[0], phi_k_BHLM.shape[2])} (batch, length)"
        )
    return phi_k_BHLM.masked_fill(is_pad_BL[:, None, :, None], 0.0)


def normalise(out_BHLE: torch.Tensor) -> torch.Tensor:
    """Split `[.., D+1]` into numerator and normaliser and divide.

    The normaliser is a sum of positive features; it is zero only when every feature underflowed
    (or every key is padding). Clamping at the smallest normal float turns that 0/0 into a zero
    row without touching any real value.
    """
    num_BHLD, den_BHL1 = out_BHLE[..., :-1], out_BHLE[..., -1:]
    return num_BHLD / den_BHL1.clamp_min(torch.finfo(den_BHL1.dtype).tiny)


def linear_attention(
    phi_q_BHLM: torch.Tensor,
    phi_k_BHLM: torch.Tensor,
    v_BHLD: torch.Tensor,
    is_pad_BL: torch.Tensor | None = None,
) -> torch.Tensor:
    """Bidirectional FAVOR attention `[B, H, L, D]` in the dtype of the features.

    The result equals `attention_matrix.favor_attention_matrix(φq, φk) @ v` exactly (up to
    rounding). Pads (True in `is_pad_BL`) are removed as keys; pad query rows are still
    computed (finite) and are the caller's to ignore.
    """
    with torch.autocast(phi_q_BHLM.device.type, enabled=False):
        phi_k_BHLM = mask_pad_keys(phi_k_BHLM, is_pad_BL)
        v_BHLE = append_ones(v_BHLD.to(phi_k_BHLM.dtype))
        # Written as (Vᵀ φ(K))ᵀ rather than φ(K)ᵀ V so that the gradient w.r.t. φ(K) comes
        # out of its GEMM contiguous (the other order costs an [L, M] copy in backward).
        kv_BHEM = torch.matmul(v_BHLE.transpose(-1, -2), phi_k_BHLM)
        return normalise(torch.matmul(phi_q_BHLM, kv_BHEM.transpose(-1, -2)))
