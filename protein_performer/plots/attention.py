"""Attention-map figures: the layers × heads grid of the Performer paper (Choromanski et al.
2021, App. C.4, Fig. 10, for BPT1_BOVIN), a single-head view, and a head-summary scatter."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from protein_performer.plots.style import PALETTE, SEQUENTIAL_CMAP, figure


def _residue_ticks(ax, sequence: str, every: int, offset: int = 0) -> None:
    # Ticks at residues 1, every, 2*every... labelled with letter+number, like the paper.
    positions = [0, *range(every - 1, len(sequence), every)]
    labels = [f"{sequence[p]}{p + 1 + offset}" for p in positions]
    ax.set_xticks(positions, labels, rotation=90, fontsize=5)
    ax.set_yticks(positions, labels, fontsize=5)


def attention_grid(
    maps_NHLL: np.ndarray,
    sequence: str,
    *,
    layers: Sequence[int] = (0, 1),
    tick_every: int = 10,
    title: str = "",
    vmax_quantile: float = 0.99,
):
    """Grid of heatmaps: one row per layer in `layers`, one column per head.

    Each panel is the residue-only L×L map (query on y, key on x). The colour scale is clipped
    at a high quantile per panel so that a single very sharp entry does not hide the rest.
    """
    layers = [layer for layer in layers if layer < maps_NHLL.shape[0]]
    n_heads = maps_NHLL.shape[1]
    fig, axes = figure(
        2.1 * n_heads, 2.2 * len(layers), nrows=len(layers), ncols=n_heads, squeeze=False
    )
    for row, layer in enumerate(layers):
        for head in range(n_heads):
            ax = axes[row, head]
            panel = maps_NHLL[layer, head]
            ax.imshow(
                panel,
                cmap=SEQUENTIAL_CMAP,
                vmin=0,
                vmax=max(float(np.quantile(panel, vmax_quantile)), 1e-9),
            )
            ax.set_title(f"layer {layer + 1}, head {head + 1}", fontsize=7)
            _residue_ticks(ax, sequence, tick_every)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def single_map(
    map_LL: np.ndarray, sequence: str, *, title: str = "", tick_every: int = 10, ax=None
):
    """One attention (or contact-score) map with residue ticks; returns the figure."""
    if ax is None:
        fig, ax = figure(4.2, 4.0)
    else:
        fig = ax.figure
    image = ax.imshow(map_LL, cmap=SEQUENTIAL_CMAP)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    _residue_ticks(ax, sequence, tick_every)
    ax.set_xlabel("attended residue (key)")
    ax.set_ylabel("attending residue (query)")
    if title:
        ax.set_title(title)
    return fig


def head_summary_scatter(
    entropy_NH: np.ndarray, mean_distance_NH: np.ndarray, kind_NH: np.ndarray, *, title: str = ""
):
    """Entropy against mean attended distance, one point per head, coloured by kind and
    annotated layer.head."""
    fig, ax = figure(4.6, 3.6)
    for colour, kind in zip(PALETTE, ("diagonal", "vertical", "diffuse"), strict=False):
        sel = kind_NH == kind
        if sel.any():
            ax.scatter(mean_distance_NH[sel], entropy_NH[sel], color=colour, label=kind, s=22)
    for (layer, head), x in np.ndenumerate(mean_distance_NH):
        ax.annotate(
            f"{layer + 1}.{head + 1}",
            (x, entropy_NH[layer, head]),
            fontsize=5,
            xytext=(2, 2),
            textcoords="offset points",
        )
    ax.set_xlabel("mean attended distance (residues)")
    ax.set_ylabel("row entropy (nats)")
    ax.legend()
    if title:
        ax.set_title(title)
    return fig
