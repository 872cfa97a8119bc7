"""Bidirectional linear attention: out = D⁻¹ φ(Q) (φ(K)ᵀ V), never forming the L×L matrix.

Shape legend: B batch, H heads, L length, D head dim, M random features.

Choromanski et al., "Rethinking Attention with Performers" (ICLR 2021, arXiv 2009.14794),
§2.1 eq. (3)-(5) and Algorithm 1 (bidirectional case): Att(Q, K, V) ≈ D̂⁻¹ (Q' ((K')ᵀ V)) with
D̂ = diag(Q' ((K')ᵀ 1_L)). A column of ones appended to V makes the normaliser fall out of the
same two matmuls, so the whole op is exactly two batched GEMMs plus O(L·(M+D)) elementwise
work; time O(L·M·D), memory O(L·(M+D) + M·D).

Low-precision GEMMs (`gemm_dtype=torch.bfloat16`): the two large GEMMs take bf16 inputs and
accumulate in fp32 inside the GEMM (cuBLAS / oneDNN), while the normaliser D̂ = φ(Q)(φ(K)ᵀ1) is
computed apart in the features' dtype (fp32), an O(L·M) matrix-vector product: a rounded
normaliser would bias every output row, whereas rounding inside the numerator averages out.
Its error against float64 stays within `kernels.numeric_error.BF16_GEMM_BOUND` (measured by
`python -m protein_performer.gpu_check --stages correctness`; docs/gpu.md, "bf16 GEMMs").
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
    return divide(out_BHLE[..., :-1], out_BHLE[..., -1:])


def divide(num_BHLD: torch.Tensor, den_BHL1: torch.Tensor) -> torch.Tensor:
    """num / den in the normaliser's dtype, den clamped at its smallest normal float (see
    `normalise`)."""
    return num_BHLD.to(den_BHL1.dtype) / den_BHL1.clamp_min(torch.finfo(den_BHL1.dtype).tiny)


def gemm_inputs(gemm_dtype: torch.dtype | None, like: torch.Tensor) -> bool:
    """True when the attention GEMMs should run in `gemm_dtype` rather than in `like.dtype`."""
    return gemm_dtype is not None and gemm_dtype != like.dtype


def linear_attention(
    phi_q_BHLM: torch.Tensor,
    phi_k_BHLM: torch.Tensor,
    v_BHLD: torch.Tensor,
    is_pad_BL: torch.Tensor | None = None,
    *,
    gemm_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Bidirectional FAVOR attention `[B, H, L, D]` in the dtype of the features.

    The result equals `attention_matrix.favor_attention_matrix(φq, φk) @ v` exactly (up to
    rounding). Pads (True in `is_pad_BL`) are removed as keys; pad query rows are still
    computed (finite) and are the caller's to ignore. `gemm_dtype` (e.g. `torch.bfloat16`)
    runs the two large GEMMs in that dtype, the normaliser staying in the features' dtype.
    """
    with torch.autocast(phi_q_BHLM.device.type, enabled=False):
        phi_k_BHLM = mask_pad_keys(phi_k_BHLM, is_pad_BL)
        if gemm_inputs(gemm_dtype, phi_k_BHLM):
            # D̂ = φ(Q) Σ_j φ(k_j): `[B, H, L, 1]`, a GEMV in the features' dtype.
            den_BHL1 = torch.matmul(phi_q_BHLM, phi_k_BHLM.sum(dim=-2).unsqueeze(-1))
            phi_k_lo, v_lo = phi_k_BHLM.to(gemm_dtype), v_BHLD.to(gemm_dtype)
            kv_BHDM = torch.matmul(v_lo.transpose(-1, -2), phi_k_lo)
            num_BHLD = torch.matmul(phi_q_BHLM.to(gemm_dtype), kv_BHDM.transpose(-1, -2))
            return divide(num_BHLD, den_BHL1)
        v_BHLE = append_ones(v_BHLD.to(phi_k_BHLM.dtype))
        # Written as (Vᵀ φ(K))ᵀ rather than φ(K)ᵀ V so that the gradient w.r.t. φ(K) comes
        # out of its GEMM contiguous (the other order costs an [L, M] copy in backward).
        kv_BHEM = torch.matmul(v_BHLE.transpose(-1, -2), phi_k_BHLM)
        return normalise(torch.matmul(phi_q_BHLM, kv_BHEM.transpose(-1, -2)))
