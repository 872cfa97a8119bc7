"""Variant-effect figures: predicted vs measured scores, and both averaged by position."""

from __future__ import annotations

import numpy as np

from protein_performer.plots.style import PALETTE, figure


def dms_scatter(
    predicted_N: np.ndarray,
    measured_N: np.ndarray,
    positions_N: np.ndarray,
    *,
    label: str,
    rho: float,
    measured_label: str = "measured",
):
    """Left: one dot per variant. Right: mean predicted and mean measured score per position
    (each z-scored, so the two profiles share an axis)."""
    keep = np.isfinite(predicted_N) & np.isfinite(measured_N)
    pred, meas, pos = predicted_N[keep], measured_N[keep], positions_N[keep]
    fig, (left, right) = figure(9.0, 3.4, ncols=2, gridspec_kw={"width_ratios": [1, 1.6]})
    left.scatter(pred, meas, s=5, alpha=0.5, color=PALETTE[0], linewidths=0)
    left.set_xlabel(f"{label} score")
    left.set_ylabel(measured_label)
    left.set_title(f"Spearman ρ = {rho:.3f} (n = {keep.sum()})")
    sites = np.unique(pos)
    mean_pred = np.array([pred[pos == s].mean() for s in sites])
    mean_meas = np.array([meas[pos == s].mean() for s in sites])

    def z(x: np.ndarray) -> np.ndarray:
        return (x - x.mean()) / (x.std() or 1.0)

    right.plot(sites, z(mean_meas), color="0.3", lw=1.2, label=measured_label)
    right.plot(sites, z(mean_pred), color=PALETTE[1], lw=1.2, label=label)
    right.set_xlabel("residue")
    right.set_ylabel("mean per position (z-score)")
    right.legend(loc="lower left")
    return fig
