"""Amino-acid similarity figures: a model's 20×20 matrix next to BLOSUM62 in the same
property-grouped order, and scatters of model similarity against BLOSUM62 with r."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from protein_performer.plots.style import DIVERGING_CMAP, PALETTE, figure


def _group_lines(ax, groups: tuple[tuple[str, str], ...]) -> None:
    # Thin lines between property groups make the block structure of BLOSUM62 readable.
    edge = 0
    for _, letters in groups[:-1]:
        edge += len(letters)
        ax.axhline(edge - 0.5, color="black", lw=0.6)
        ax.axvline(edge - 0.5, color="black", lw=0.6)


def matrices_side_by_side(
    model_AA: np.ndarray,
    blosum_AA: np.ndarray,
    order: tuple[str, ...],
    *,
    groups: tuple[tuple[str, str], ...] = (),
    model_title: str = "model",
    title: str = "",
):
    """Two heatmaps (model similarity, BLOSUM62), both already in `order`."""
    fig, axes = figure(9.0, 4.2, ncols=2)
    panels = ((model_AA, model_title), (blosum_AA, "BLOSUM62"))
    for ax, (matrix, name) in zip(axes, panels, strict=True):
        off_diag = matrix[~np.eye(len(order), dtype=bool)]
        finite = off_diag[np.isfinite(off_diag)]
        bound = float(np.abs(finite).max()) if finite.size else 1.0
        image = ax.imshow(matrix, cmap=DIVERGING_CMAP, vmin=-bound, vmax=bound)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        ax.set_xticks(range(len(order)), order)
        ax.set_yticks(range(len(order)), order)
        ax.set_title(name)
        _group_lines(ax, groups)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def scatter_vs_blosum(
    matrices: Mapping[str, np.ndarray],
    blosum_AA: np.ndarray,
    scores: Mapping[str, float],
    *,
    title: str = "",
):
    """One scatter per matrix of its off-diagonal lower triangle against BLOSUM62; `scores`
    gives the Pearson r printed in each panel."""
    fig, axes = figure(4.0 * len(matrices), 3.6, ncols=len(matrices), squeeze=False)
    rows, cols = np.tril_indices(blosum_AA.shape[0], k=-1)
    reference = blosum_AA[rows, cols]
    for ax, colour, (name, matrix) in zip(axes[0], PALETTE, matrices.items(), strict=False):
        # a little horizontal jitter: BLOSUM62 scores are integers and points stack up
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, size=reference.size)
        ax.scatter(reference + jitter, matrix[rows, cols], s=10, color=colour, alpha=0.7)
        ax.set_xlabel("BLOSUM62 score")
        ax.set_ylabel(f"{name} similarity")
        ax.set_title(f"{name}: Pearson r = {scores.get(name, float('nan')):.2f}")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
