"""Gaussian random projections for random-feature attention.

Shape legend: M random features (rows), D head dim (columns).

Choromanski et al., "Rethinking Attention with Performers" (ICLR 2021, arXiv 2009.14794):
§2.4 "Orthogonal random features (ORFs)" and Theorem 2 show that drawing the M feature
directions w_1..w_M exactly orthogonal (blocks of D at a time) lowers the mean squared error
of the softmax-kernel estimator for any D > 0, while keeping it unbiased as long as each row
is still marginally N(0, I_D), i.e. its norm is chi-distributed with D degrees of freedom.
"""

from __future__ import annotations

import math
from typing import Literal

import torch

RowNorms = Literal["chi", "sqrt-d"]


def _gaussian(shape: tuple[int, ...], generator: torch.Generator | None) -> torch.Tensor:
    # Always draw in float64 on the CPU: the same seed gives the same matrix on every device
    # and dtype, and QR of a float64 block is orthogonal to ~1e-15.
    return torch.randn(shape, generator=generator, dtype=torch.float64)


def orthogonal_gaussian_matrix(
    n_rows: int,
    n_cols: int,
    *,
    generator: torch.Generator | None = None,
    row_norms: RowNorms = "chi",
) -> torch.Tensor:
    """Block-orthogonal Gaussian matrix `[n_rows, n_cols]` (float64, CPU).

    Rows come in blocks of `n_cols` mutually orthogonal unit vectors (Q of the QR factorisation
    of a square Gaussian block, sign-corrected so Q is Haar-distributed), the last block cut
    short. Row norms are then set:

    - `"chi"`: independent chi(n_cols) norms (the norm of a fresh Gaussian vector), so each row is
      marginally N(0, I) and the FAVOR+ estimator stays unbiased (paper §2.4);
    - `"sqrt-d"`: every norm equal to sqrt(n_cols) (the "regularised" variant of the reference
      code); lower variance, slightly biased.
    """
    if n_rows < 0 or n_cols <= 0:
        raise ValueError(f"need n_rows >= 0 and n_cols > 0, got {n_rows}x{n_cols}")
    blocks = []
    for _ in range(math.ceil(n_rows / n_cols)):
        q, r = torch.linalg.qr(_gaussian((n_cols, n_cols), generator))
        # Multiplying columns by sign(diag R) makes Q Haar-distributed (Mezzadri 2007); plain
        # Householder QR output is not.
        q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
        blocks.append(q.T)
    directions_MD = torch.cat(blocks)[:n_rows] if blocks else torch.zeros(0, n_cols)
    if row_norms == "chi":
        norms_M = _gaussian((n_rows, n_cols), generator).norm(dim=1)
    elif row_norms == "sqrt-d":
        norms_M = torch.full((n_rows,), math.sqrt(n_cols), dtype=torch.float64)
    else:
        raise ValueError(f"row_norms must be 'chi' or 'sqrt-d', got {row_norms!r}")
    return directions_MD.to(torch.float64) * norms_M.unsqueeze(1)


def iid_gaussian_matrix(
    n_rows: int, n_cols: int, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Plain iid N(0, 1) matrix `[n_rows, n_cols]` (float64, CPU): the baseline features."""
    return _gaussian((n_rows, n_cols), generator)


def draw_projection(
    n_features: int,
    head_dim: int,
    *,
    orthogonal: bool = True,
    row_norms: RowNorms = "chi",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The projection `W_MD` used by the feature maps: orthogonal (default) or iid rows."""
    if orthogonal:
        return orthogonal_gaussian_matrix(
            n_features, head_dim, generator=generator, row_norms=row_norms
        )
    return iid_gaussian_matrix(n_features, head_dim, generator=generator)
