"""FAVOR++: optimal positive random features (OPRFs) for the softmax kernel.

Shape legend: B batch, H heads, L length, D head dim, M random features.

Likhosherstov, Choromanski, Dubey, Liu, Sarlos, Weller, "Chefs' Random Tables:
Non-Trigonometric Random Features", NeurIPS 2022. Generalised exponential features

    f(ω, x) = D_A · exp(A‖ω‖² + B ω·x + C‖x‖²),   ω ~ N(0, I_d),

are unbiased for exp(x·y) whenever B² = 1 − 4A, C = −1/2, D_A = (1 − 4A)^(d/4) (and A < 1/8 for
a finite variance); A = 0 is FAVOR+. Minimising the second moment averaged over the pairs of
a sequence gives, with ρ = mean_{i,j} ‖x_i + y_j‖² / d (O(L·d) to compute),

    A* = (1 − 2ρ − sqrt((2ρ + 1)² + 8ρ)) / 16  ≤ 0.

The variance gain is largest exactly where FAVOR+ fails: large-norm queries and keys.

A* depends on statistics of the whole sequence, so these features serve bidirectional attention
(benchmarks, analysis); they are not decodable token by token. A* is detached (a per-sequence
hyper-parameter: the estimator is unbiased for any fixed A). D_A is one constant per
(batch, head) and cancels in the attention normalisation, so it is omitted; the stabilisers are
a per-query max and a per-sequence key max, both detached and cancelling exactly.
"""

from __future__ import annotations

import torch

from protein_performer.model.kernels.feature_maps import compute_dtype


def oprf_coefficient(q_s_BHLD: torch.Tensor, k_s_BHLD: torch.Tensor) -> torch.Tensor:
    """A* `[B, H, 1, 1]` from ρ = mean over all (i, j) of ‖q_i + k_j‖² / d (scaled inputs)."""
    d = q_s_BHLD.shape[-1]
    mean_sq = q_s_BHLD.pow(2).sum(-1).mean(-1) + k_s_BHLD.pow(2).sum(-1).mean(-1)
    cross = 2 * (q_s_BHLD.mean(-2) * k_s_BHLD.mean(-2)).sum(-1)
    rho = (mean_sq + cross) / d
    a = (1 - 2 * rho - torch.sqrt((2 * rho + 1) ** 2 + 8 * rho)) / 16
    return a[..., None, None]


def favor_plus_plus_features(
    q_BHLD: torch.Tensor,
    k_BHLD: torch.Tensor,
    projection_MD: torch.Tensor,
    *,
    stabilize: bool = True,
    coefficient: torch.Tensor | float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """OPRF features (φ(Q), φ(K)), each `[B, H, L, M]`, for bidirectional softmax attention.

    `coefficient` overrides A* (e.g. 0.0 gives FAVOR+, a fixed value makes the raw features
    testable for unbiasedness); `stabilize=False` returns the raw features D_A⁻¹·f/sqrt(M).
    """
    dtype = compute_dtype(q_BHLD.dtype)
    head_dim, n_features = q_BHLD.shape[-1], projection_MD.shape[0]
    with torch.autocast(q_BHLD.device.type, enabled=False):
        scale = head_dim**-0.25
        q_s, k_s = q_BHLD.to(dtype) * scale, k_BHLD.to(dtype) * scale
        w_MD = projection_MD.to(device=q_s.device, dtype=dtype)
        if coefficient is None:
            a = oprf_coefficient(q_s.detach(), k_s.detach())
        else:
            a = torch.as_tensor(coefficient, dtype=dtype, device=q_s.device)
        b = torch.sqrt(1 - 4 * a)
        norm_term_M = w_MD.pow(2).sum(-1)  # ‖ω_i‖²
        log_m = 0.5 * torch.log(torch.tensor(float(n_features), dtype=dtype))
        logit_q = b * torch.matmul(q_s, w_MD.T) + a * norm_term_M - log_m
        logit_k = b * torch.matmul(k_s, w_MD.T) + a * norm_term_M - log_m
        logit_q = logit_q - q_s.pow(2).sum(-1, keepdim=True) / 2
        logit_k = logit_k - k_s.pow(2).sum(-1, keepdim=True) / 2
        if stabilize:
            logit_q = logit_q - logit_q.detach().amax(dim=-1, keepdim=True)
            logit_k = logit_k - logit_k.detach().amax(dim=(-2, -1), keepdim=True)
        return logit_q.exp(), logit_k.exp()
