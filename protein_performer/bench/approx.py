"""Approximation error of FAVOR softmax attention against exact attention, versus m.

Shape legend: B batch, H heads, L length, D head dim, M random features.

q and k have iid N(0, s) entries, so the logits q·k/sqrt(D) have standard deviation s; v is
N(0, 1). The error is ‖ŷ − y‖_F / ‖y‖_F against exact softmax attention computed in float64,
averaged over independent trials. Beside it, `uniform_err` is the error of plain averaging of V
(what attention degenerates to when every weight is equal): an estimator at or above it has
learned nothing. "favor++" rows are the optimal positive random features of Likhosherstov et al.
2022 (`kernels.favor_plus_plus`). Ours, FAVOR++ and performer-pytorch's `softmax_kernel` get the
*same* projection matrix in each trial, so their differences come from the feature map alone
(the peer's: a sequence-max shift plus 1e-4).
"""

from __future__ import annotations

import math

import torch

from protein_performer.model import kernels as K
from protein_performer.model.kernels.favor_plus_plus import favor_plus_plus_features

COLUMNS = ("impl", "features", "m", "logit_std", "rel_err", "uniform_err")
# features -> (orthogonal, row norms): chi norms keep FAVOR+ unbiased (paper §2.4); sqrt(d) norms
# (the reference code's "regularised" option) trade a small bias for lower variance.
FEATURES = {
    "orthogonal": (True, "chi"),
    "orthogonal-sqrt-d": (True, "sqrt-d"),
    "iid": (False, "chi"),
}
FULL = {"m": (16, 32, 64, 128, 256, 512), "logit_std": (0.125, 1.0, 2.25), "trials": 8}
QUICK = {"m": (16, 64), "logit_std": (0.125, 1.0), "trials": 1}


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.double() - b).norm() / b.norm()).item()


def _ours(q, k, v, w_MD):
    phi_q = K.softmax_features(q, w_MD, stabilizer="query")
    return K.linear_attention(phi_q, K.softmax_features(k, w_MD, stabilizer="key"), v)


def _favor_plus_plus(q, k, v, w_MD):
    return K.linear_attention(*favor_plus_plus_features(q, k, w_MD), v)


def _peer(q, k, v, w_MD):
    from performer_pytorch.performer_pytorch import linear_attention, softmax_kernel

    phi_q = softmax_kernel(q, projection_matrix=w_MD, is_query=True)
    return linear_attention(phi_q, softmax_kernel(k, projection_matrix=w_MD, is_query=False), v)


def run(
    *,
    quick: bool = False,
    with_peer: bool = True,
    seq_len: int | None = None,
    head_dim: int = 64,
    heads: int = 4,
) -> list[dict]:
    """Rows of `COLUMNS` for every (impl, features, m, logit_std), fp32 estimators."""
    grid = QUICK if quick else FULL
    seq_len = seq_len or (64 if quick else 512)
    impls = {"ours": _ours, "favor++": _favor_plus_plus, **({"peer": _peer} if with_peer else {})}
    rows = []
    for std in grid["logit_std"]:
        errs: dict[tuple[str, str, int], list[float]] = {}
        uniform = []
        for trial in range(grid["trials"]):
            gen = torch.Generator().manual_seed(1000 * trial + 17)
            shape = (1, heads, seq_len, head_dim)
            q, k = (
                torch.randn(shape, generator=gen, dtype=torch.float64) * math.sqrt(std)
                for _ in range(2)
            )
            v = torch.randn(shape, generator=gen, dtype=torch.float64)
            exact = K.softmax_attention_matrix(q, k, causal=False) @ v
            uniform.append(_rel(v.mean(dim=2, keepdim=True).expand_as(v), exact))
            q32, k32, v32 = q.float(), k.float(), v.float()
            for m in grid["m"]:
                for features, (orthogonal, row_norms) in FEATURES.items():
                    w = K.draw_projection(
                        m, head_dim, orthogonal=orthogonal, row_norms=row_norms, generator=gen
                    )
                    for impl, fn in impls.items():
                        with torch.no_grad():
                            out = fn(q32, k32, v32, w.float())
                        errs.setdefault((impl, features, m), []).append(_rel(out, exact))
        uniform_err = sum(uniform) / len(uniform)
        for (impl, features, m), values in errs.items():
            rows.append(
                {
                    "impl": impl,
                    "features": features,
                    "m": m,
                    "logit_std": std,
                    "rel_err": sum(values) / len(values),
                    "uniform_err": uniform_err,
                }
            )
    return rows
