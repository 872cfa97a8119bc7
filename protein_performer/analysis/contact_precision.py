"""Precision of the top-k predicted contacts, per sequence-separation range, with the random
baseline, as reported by Rao et al. 2021 (P@L, P@L/2, P@L/5; L = sequence length).

For each range, the pairs of that range are ranked by score and the top ⌊L/k⌋ are compared
with the true contacts. The random baseline is the contact density of the range: the expected
precision of a predictor that ranks pairs at random.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from protein_performer.analysis.contacts import RANGES, range_mask

TOP_K: dict[str, int] = {"P@L": 1, "P@L/2": 2, "P@L/5": 5}  # name -> divisor of L


def precision_at(
    scores_LL: np.ndarray, contacts_LL: np.ndarray, mask_LL: np.ndarray, k: int
) -> float:
    """Fraction of true contacts among the `k` highest-scoring pairs selected by `mask_LL`.

    Ties are broken by the order of the pairs (a stable sort), so results are deterministic.
    With fewer than `k` candidate pairs, all of them are used.
    """
    scores = np.asarray(scores_LL)[mask_LL]
    truth = np.asarray(contacts_LL, dtype=bool)[mask_LL]
    if scores.size == 0 or k <= 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")[:k]
    return float(truth[order].mean())


def range_precision(scores_LL: np.ndarray, contacts_LL: np.ndarray) -> dict[str, dict[str, float]]:
    """{range: {"P@L", "P@L/2", "P@L/5", "random"}} for one protein."""
    length = scores_LL.shape[-1]
    if scores_LL.shape != contacts_LL.shape or scores_LL.shape != (length, length):
        raise ValueError(
            f"scores {scores_LL.shape} and contacts {contacts_LL.shape} must both "
            f"be square and equal"
        )
    out: dict[str, dict[str, float]] = {}
    for name in RANGES:
        mask_LL = range_mask(length, name)
        row = {
            key: precision_at(scores_LL, contacts_LL, mask_LL, max(length // div, 1))
            for key, div in TOP_K.items()
        }
        n_pairs = int(mask_LL.sum())
        row["random"] = float(contacts_LL[mask_LL].mean()) if n_pairs else float("nan")
        out[name] = row
    return out


def mean_precision(
    per_protein: Sequence[dict[str, dict[str, float]]],
) -> dict[str, dict[str, float]]:
    """Average of `range_precision` results over proteins (each protein weighs the same, as in
    Rao et al. 2021); NaN entries (a range with no pairs) are skipped."""
    if not per_protein:
        raise ValueError("no proteins to average")
    out: dict[str, dict[str, float]] = {}
    for name in RANGES:
        out[name] = {}
        for key in (*TOP_K, "random"):
            values = np.array([p[name][key] for p in per_protein], dtype=np.float64)
            values = values[~np.isnan(values)]
            out[name][key] = float(values.mean()) if values.size else float("nan")
    return out
