"""Sequence reweighting of an alignment, and the effective number of sequences Neff.

Each row weighs 1 / (number of rows, itself included, whose identity to it is at least
`threshold`), the standard correction for phylogenetic redundancy in family models
(Morcos et al. 2011, PNAS; Ekeberg et al. 2013 plmDCA; Hopf et al. 2017 EVmutation;
Trinquier et al. 2021 ArDCA). Identity is the fraction of identical symbols over all match
columns, a gap counting as a symbol (the plmDCA/ArDCA convention). Neff = Σ weights.

Identities are counted as one-hot matrix products, a block of rows against all rows at a time,
so memory is O(block × N) and the work runs in BLAS: N × N × C × K multiply-adds for K
symbols, halved by symmetry.
"""

from __future__ import annotations

import numpy as np
import torch


def one_hot_NK(tokens_NC: np.ndarray) -> tuple[torch.Tensor, int]:
    """[N, C*K] float32 one-hot over the symbols that occur, and K."""
    symbols, codes = np.unique(tokens_NC, return_inverse=True)
    codes_NC = torch.from_numpy(codes.reshape(tokens_NC.shape).astype(np.int64))
    n_symbols = len(symbols)
    one_hot = torch.nn.functional.one_hot(codes_NC, n_symbols).to(torch.float32)
    return one_hot.reshape(tokens_NC.shape[0], -1), n_symbols


def neighbour_counts(
    tokens_NC: np.ndarray, threshold: float = 0.8, block: int = 1024
) -> np.ndarray:
    """[N] number of rows (itself included) with identity ≥ `threshold` to each row."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"identity threshold must be in (0, 1], got {threshold}")
    n, width = tokens_NC.shape
    codes_NK, _ = one_hot_NK(tokens_NC)
    # Identity ≥ t  ⇔  identical columns ≥ t·C; the small slack absorbs float rounding of t·C.
    min_same = threshold * width - 1e-6
    counts = np.zeros(n, dtype=np.int64)
    # Identity is symmetric: block i is compared with rows from its own start onwards only; a
    # pair inside the block is seen from both sides by the row sums, a pair with a later row
    # is credited to that row through the column sums.
    with torch.no_grad():
        for start in range(0, n, block):
            stop = min(start + block, n)
            hits_bN = (codes_NK[start:stop] @ codes_NK[start:].T) >= min_same
            counts[start:stop] += hits_bN.sum(1).numpy()
            counts[stop:] += hits_bN[:, stop - start :].sum(0).numpy()
    return counts


def sequence_weights(tokens_NC: np.ndarray, threshold: float = 0.8) -> np.ndarray:
    """[N] float64 weights 1 / neighbour count; `threshold=1.0` down-weights exact duplicates
    only."""
    return 1.0 / neighbour_counts(tokens_NC, threshold).astype(np.float64)


def effective_depth(weights_N: np.ndarray) -> float:
    """Neff, the sum of the sequence weights."""
    return float(np.sum(weights_N))
