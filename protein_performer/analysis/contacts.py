"""Residue contacts: true contacts from coordinates, and the attention post-processing of
Rao et al. 2021 ("Transformer protein language models are unsupervised structure learners",
ICLR 2021): symmetrisation followed by the average product correction (APC).

Ranges follow CASP and Rao et al.: a pair (i, j) is short range for separation 6–11, medium
for 12–23 and long for ≥ 24; pairs closer than 6 along the chain are never scored.
"""

from __future__ import annotations

import numpy as np

CONTACT_THRESHOLD_A = 8.0
MIN_SEPARATION = 6
# name -> (min separation, max separation inclusive; None = unbounded)
RANGES: dict[str, tuple[int, int | None]] = {
    "short": (6, 11),
    "medium": (12, 23),
    "long": (24, None),
}


def true_contacts(coords_L3: np.ndarray, threshold: float = CONTACT_THRESHOLD_A) -> np.ndarray:
    """Boolean [L, L] map: representative atoms (Cβ, Cα for Gly) closer than `threshold` Å.

    The diagonal is True; callers select pairs by separation with `range_mask`.
    """
    coords_L3 = np.asarray(coords_L3, dtype=np.float64)
    diff_LL3 = coords_L3[:, None, :] - coords_L3[None, :, :]
    dist_LL = np.sqrt((diff_LL3**2).sum(-1))
    return dist_LL < threshold


def symmetrize(x_LL: np.ndarray) -> np.ndarray:
    """x + xᵀ over the last two axes: attention is directed, contacts are not."""
    return x_LL + np.swapaxes(x_LL, -1, -2)


def apc(x_LL: np.ndarray) -> np.ndarray:
    """Average product correction (Dunn et al. 2008, used by Rao et al. 2021):
    x_ij − (row_i · col_j) / total, removing the background that every row and column shares
    (e.g. a head that attends to the first residue from everywhere). Works on [..., L, L]."""
    row = x_LL.sum(-1, keepdims=True)
    col = x_LL.sum(-2, keepdims=True)
    total = x_LL.sum((-1, -2), keepdims=True)
    return x_LL - row * col / np.where(total == 0, 1.0, total)


def sym_apc(x_LL: np.ndarray) -> np.ndarray:
    """The per-head contact score of Rao et al. 2021: APC(symmetrize(x)) over [..., L, L]."""
    return apc(symmetrize(np.asarray(x_LL, dtype=np.float64)))


def apc_mean(maps_NHLL: np.ndarray) -> np.ndarray:
    """[L, L] APC of the symmetrised attention averaged over all layers and heads."""
    return apc(symmetrize(np.asarray(maps_NHLL, dtype=np.float64).mean(axis=(0, 1))))


def range_mask(length: int, name: str) -> np.ndarray:
    """Boolean [L, L] map of the upper-triangle pairs (i < j) whose separation is in range
    `name` ("short", "medium", "long", or "all" for every separation ≥ 6)."""
    if name == "all":
        lo, hi = MIN_SEPARATION, None
    elif name in RANGES:
        lo, hi = RANGES[name]
    else:
        raise ValueError(f"unknown contact range {name!r}; expected one of {[*RANGES, 'all']}")
    sep_LL = np.arange(length)[None, :] - np.arange(length)[:, None]
    mask = sep_LL >= lo
    if hi is not None:
        mask &= sep_LL <= hi
    return mask
