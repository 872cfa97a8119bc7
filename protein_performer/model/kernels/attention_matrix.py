"""Materialised L×L attention matrices: the row-stochastic maps a layer really applies.

Shape legend: B batch, H heads, L length (query), S length (key), D head dim, M features.

For analysis at short L only (O(L²) memory). For FAVOR the matrix is built from the very same
features the fast kernels use, so `A @ V` equals the linear-attention output up to rounding.
Feeding one-hot values (V = I_L) through the fast kernel yields the implicit matrix row by row
(how Choromanski et al. 2021 visualise Performer attention on proteins); the tests check that
this one-hot-V result equals the matrix built here.
"""

from __future__ import annotations

import math

import torch

from protein_performer.model.kernels.exact_attention import allowed_keys
from protein_performer.model.kernels.linear_attention import mask_pad_keys


def _row_normalise(scores_BHLS: torch.Tensor, causal: bool) -> torch.Tensor:
    if causal:
        scores_BHLS = scores_BHLS.tril()
    den_BHL1 = scores_BHLS.sum(dim=-1, keepdim=True)
    return scores_BHLS / den_BHL1.clamp_min(torch.finfo(den_BHL1.dtype).tiny)


def favor_attention_matrix(
    phi_q_BHLM: torch.Tensor,
    phi_k_BHLM: torch.Tensor,
    *,
    causal: bool,
    is_pad_BL: torch.Tensor | None = None,
) -> torch.Tensor:
    """Row-normalised φ(Q) φ(K)ᵀ `[B, H, L, L]`, pad keys zeroed, lower-triangular if causal."""
    with torch.autocast(phi_q_BHLM.device.type, enabled=False):
        phi_k_BHLM = mask_pad_keys(phi_k_BHLM, is_pad_BL)
        scores_BHLS = torch.matmul(phi_q_BHLM, phi_k_BHLM.transpose(-1, -2))
        return _row_normalise(scores_BHLS, causal)


def softmax_attention_matrix(
    q_BHLD: torch.Tensor,
    k_BHLD: torch.Tensor,
    *,
    causal: bool,
    is_pad_BL: torch.Tensor | None = None,
) -> torch.Tensor:
    """softmax(QKᵀ/sqrt(D)) `[B, H, L, L]` with the same mask `exact_attention` uses (float32+)."""
    dtype = torch.float64 if q_BHLD.dtype == torch.float64 else torch.float32
    with torch.autocast(q_BHLD.device.type, enabled=False):
        q_BHLD, k_BHLD = q_BHLD.to(dtype), k_BHLD.to(dtype)
        logits_BHLS = torch.matmul(q_BHLD, k_BHLD.transpose(-1, -2)) / math.sqrt(q_BHLD.shape[-1])
        mask = allowed_keys(is_pad_BL, q_BHLD.shape[-2], causal=causal, device=q_BHLD.device)
        if mask is not None:
            logits_BHLS = logits_BHLS.masked_fill(~mask, float("-inf"))
        return torch.softmax(logits_BHLS, dim=-1)
