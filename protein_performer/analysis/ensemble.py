"""Ensembles of family models: the mean of their variant scores and of their contact maps.

The members are models of one family that differ in their seed, their objective or the order
they read the columns in (`data.column_order`: a causal model N→C and one C→N, as arDCA's
orderings, Trinquier et al. 2021). Variant scores are log-probability ratios in nats, so their
mean is the usual ensemble of protein language models (ESM-1v averages five seeds, Meier et al.
2021). Contact maps differ in scale from one read-out and model to the next, so each is
standardised over its ranked pairs before the mean. Shapes: M members, N variants, C columns.
"""

from __future__ import annotations

import numpy as np


def mean_scores(scores_MN: np.ndarray) -> np.ndarray:
    """[N] the members' mean score; NaN where any member has none."""
    return np.asarray(scores_MN, dtype=np.float64).mean(axis=0)


def standardised(scores_CC: np.ndarray) -> np.ndarray:
    """[C, C] scores minus their mean, over their standard deviation, both over the finite
    pairs i < j; pairs that are not ranked (-inf) stay so."""
    scores_CC = np.asarray(scores_CC, dtype=np.float64)
    finite_CC = np.isfinite(scores_CC)
    pairs = scores_CC[np.triu(finite_CC, k=1)]
    if pairs.size < 2:
        raise ValueError("a contact map needs at least two ranked pairs to be standardised")
    spread = pairs.std()
    centred_CC = scores_CC - pairs.mean()
    scaled_CC = centred_CC / spread if spread > 0 else centred_CC
    return np.where(finite_CC, scaled_CC, -np.inf)


def mean_contact_map(maps_MCC: list[np.ndarray]) -> np.ndarray:
    """[C, C] the mean of the members' standardised maps; a pair one member does not rank is
    not ranked."""
    # A standardised map is finite or -inf, so the mean is -inf wherever one member's is.
    return np.stack([standardised(m) for m in maps_MCC]).mean(axis=0)
