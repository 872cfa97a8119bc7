"""Spearman's ρ between predicted and measured variant effects, with a bootstrap over variants.

The interval is the percentile bootstrap (Efron & Tibshirani 1993) over variants resampled with
replacement; `paired_bootstrap` resamples the same variants for two predictors, so the interval
of their difference says whether one beats the other on this scan, not just on this sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata


@dataclass(frozen=True)
class Correlation:
    rho: float
    low: float  # percentile interval at `level`
    high: float
    n: int
    level: float = 0.95


def _spearman_rows(pred_RN: np.ndarray, truth_RN: np.ndarray) -> np.ndarray:
    """ρ per row of paired [R, N] samples (ties get average ranks)."""
    a = rankdata(pred_RN, axis=1)
    b = rankdata(truth_RN, axis=1)
    a -= a.mean(1, keepdims=True)
    b -= b.mean(1, keepdims=True)
    denom = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    return (a * b).sum(1) / np.where(denom == 0, np.nan, denom)


def _finite(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.isfinite(pred) & np.isfinite(truth)


def spearman(
    pred_N: np.ndarray, truth_N: np.ndarray, *, n_boot: int = 1000, level: float = 0.95,
    seed: int = 0,
) -> Correlation:  # fmt: skip
    """ρ over the variants where both are finite, with its bootstrap interval."""
    pred_N, truth_N = np.asarray(pred_N, float), np.asarray(truth_N, float)
    keep = _finite(pred_N, truth_N)
    pred_N, truth_N = pred_N[keep], truth_N[keep]
    rho = float(_spearman_rows(pred_N[None], truth_N[None])[0])
    idx_RN = np.random.default_rng(seed).integers(0, len(pred_N), (n_boot, len(pred_N)))
    boot = _spearman_rows(pred_N[idx_RN], truth_N[idx_RN])
    low, high = np.nanquantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return Correlation(rho, float(low), float(high), int(len(pred_N)), level)


def paired_bootstrap(
    pred_a: np.ndarray, pred_b: np.ndarray, truth: np.ndarray, *, n_boot: int = 1000,
    level: float = 0.95, seed: int = 0,
) -> Correlation:  # fmt: skip
    """ρ(a) − ρ(b) on the variants both score, and its interval over shared resamples."""
    pred_a, pred_b, truth = (np.asarray(x, float) for x in (pred_a, pred_b, truth))
    keep = _finite(pred_a, truth) & np.isfinite(pred_b)
    pred_a, pred_b, truth = pred_a[keep], pred_b[keep], truth[keep]
    diff = float(
        _spearman_rows(pred_a[None], truth[None])[0] - _spearman_rows(pred_b[None], truth[None])[0]
    )
    idx_RN = np.random.default_rng(seed).integers(0, len(truth), (n_boot, len(truth)))
    boot = _spearman_rows(pred_a[idx_RN], truth[idx_RN]) - _spearman_rows(
        pred_b[idx_RN], truth[idx_RN]
    )
    low, high = np.nanquantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return Correlation(diff, float(low), float(high), int(len(truth)), level)
