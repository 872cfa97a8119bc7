"""Random feature maps φ with φ(q)·φ(k) ≈ K(q, k), the heart of FAVOR+.

Shape legend: B batch, H heads, L length, D head dim, M random features.

Choromanski et al., "Rethinking Attention with Performers" (ICLR 2021, arXiv 2009.14794).

Softmax kernel (Lemma 1, "positive random features", FAVOR+). With x_s = x / D^(1/4) so that
exp(q_s·k_s) = exp(q·k / sqrt(D)) is the softmax numerator,

    φ(x)_i = exp(w_i·x_s − ‖x_s‖²/2) / sqrt(M),   w_i ~ N(0, I_D),

gives an unbiased, strictly positive estimate E[φ(q)·φ(k)] = exp(q_s·k_s).

Stabiliser. exp overflows fp32 for exponents above ~88, so the features are rescaled; any factor
that is common to all keys, or to all features of one query, cancels exactly in the attention
normalisation  Σ_j φ(q)·φ(k_j) v_j / Σ_j φ(q)·φ(k_j).  No epsilon is ever added to the
features (performer-pytorch adds 1e-4 after a sequence-max shift; at logit std ≥ 1 that
constant swamps the real features and attention collapses to uniform averaging).

- Queries (`stabilizer="query"`): divide by exp(max_i w_i·q_s − ‖q_s‖²/2) / sqrt(M), a per-query
  constant. The largest feature is exactly 1, whatever the norm of q. Decodable token by token.
- Keys (`stabilizer="key"`): completing the square, w·k_s − ‖k_s‖²/2 = ‖w‖²/2 − ‖k_s − w‖²/2
  ≤ ‖w‖²/2, so subtracting the *data-independent* constant c = max_i ‖w_i‖²/2 bounds every key
  exponent by 0: no overflow for any input, and since c depends only on the projection, a key's
  features do not depend on other keys. The same function therefore serves bidirectional
  attention, causal attention and incremental decoding (state S = Σ φ(k) vᵀ, z = Σ φ(k)), and
  they agree to rounding. The price is headroom: for D = 64, c ≈ 50, so typical key features
  are ~e^-50 — far above fp32's smallest normal (e^-87); only keys with ‖k_s‖ ≳ 13 (logits in
  the hundreds, where the estimator's variance is already astronomical) underflow. A key whose
  features all underflow simply drops out; the normaliser is clamped at the smallest normal
  float, so outputs stay finite (zero rows) instead of NaN.
- `stabilizer="none"`: raw Lemma-1 features, for tests of unbiasedness.

ReLU kernel ("generalized attention", paper §2.2 and Appendix A.2): φ(x) = ReLU(W x_s) + ε
("favor-relu" with projection), or the deterministic φ(x) = ReLU(x_s) + ε without any random
projection (the default `generalized_kernel` of the reference JAX code, M = D). ε = 1e-3 as in
the reference keeps the normaliser positive when every projection of a query is negative.

Under autocast, features are computed in float32 (float64 inputs stay float64).
"""

from __future__ import annotations

import math
from typing import Literal

import torch

Stabilizer = Literal["query", "key", "none"]
RELU_EPSILON = 1e-3


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """float64 stays float64; everything else (bf16, fp16, fp32) is computed in float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def key_shift(projection_MD: torch.Tensor) -> torch.Tensor:
    """c = max_i ‖w_i‖²/2: an upper bound of every key exponent w·k_s − ‖k_s‖²/2 (0-dim)."""
    return projection_MD.pow(2).sum(dim=1).amax() / 2


def softmax_features(
    x_BHLD: torch.Tensor, projection_MD: torch.Tensor, *, stabilizer: Stabilizer
) -> torch.Tensor:
    """Positive random features of the softmax kernel (Lemma 1), `[B, H, L, M]`.

    `stabilizer` is "query" for queries, "key" for keys (see the module docstring: both shifts
    cancel exactly in attention), or "none" for the raw unbiased features.
    """
    dtype = compute_dtype(x_BHLD.dtype)
    head_dim, n_features = x_BHLD.shape[-1], projection_MD.shape[0]
    if stabilizer not in ("query", "key", "none"):
        raise ValueError(f"stabilizer must be query, key or none, got {stabilizer!r}")
    log_norm = 0.5 * math.log(n_features)  # the 1/sqrt(M) factor, folded into exp
    with torch.autocast(x_BHLD.device.type, enabled=False):
        x_BHLD = x_BHLD.to(dtype)
        w_MD = projection_MD.to(device=x_BHLD.device, dtype=dtype)
        if stabilizer == "query":
            # Fold the D^(-1/4) data scaling into the small [M, D] matrix, not the data.
            logit_BHLM = torch.matmul(x_BHLD, (w_MD * head_dim**-0.25).T)
            # ‖q_s‖²/2 and 1/sqrt(M) are constant along M, so they cancel inside this per-query
            # shift; the largest feature of every query is exactly 1.
            shift_BHL1 = logit_BHLM.detach().amax(dim=-1, keepdim=True)
            # In place: the matmul output is not needed by autograd; exp_ saves its result.
            return logit_BHLM.sub_(shift_BHL1).exp_()
        # Keys: the per-key offset −‖k_s‖²/2 − c rides along as an extra input column against
        # a column of ones in W, so the exponent is one GEMM and its backward needs no
        # [L, M]-sized reduction.
        x_s_BHLD = x_BHLD * head_dim**-0.25
        const = log_norm
        if stabilizer == "key":
            const = const + key_shift(w_MD)
        offset_BHL1 = x_s_BHLD.pow(2).sum(dim=-1, keepdim=True).mul(-0.5).sub(const)
        x_aug_BHLE = torch.cat([x_s_BHLD, offset_BHL1], dim=-1)
        w_aug_ME = torch.cat([w_MD, w_MD.new_ones(n_features, 1)], dim=-1)
        return torch.matmul(x_aug_BHLE, w_aug_ME.T).exp_()


def relu_features(
    x_BHLD: torch.Tensor,
    projection_MD: torch.Tensor | None,
    *,
    epsilon: float = RELU_EPSILON,
) -> torch.Tensor:
    """Generalized-attention features ReLU(W x_s) + ε `[B, H, L, M]`; with `projection_MD=None`,
    the deterministic no-projection map ReLU(x_s) + ε `[B, H, L, D]` (reference JAX default)."""
    dtype = compute_dtype(x_BHLD.dtype)
    head_dim = x_BHLD.shape[-1]
    with torch.autocast(x_BHLD.device.type, enabled=False):
        x_BHLD = x_BHLD.to(dtype)
        if projection_MD is None:
            return torch.relu(x_BHLD * head_dim**-0.25) + epsilon
        w_MD = projection_MD.to(device=x_BHLD.device, dtype=dtype) * head_dim**-0.25
        return torch.relu(torch.matmul(x_BHLD, w_MD.T)) + epsilon
