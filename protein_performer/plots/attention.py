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
    contacts_LL: np.ndarray | None = None,
    offset: int = 0,
    panel_titles: Sequence[str] | None = None,
):
    """Grid of heatmaps: one row per layer in `layers`, one column per head.

    Each panel is the residue-only L×L map (query on y, key on x). The colour scale is clipped
    at a high quantile per panel so that a single very sharp entry does not hide the rest.
    `contacts_LL` (bool) overlays the true contacts of separation ≥ 6 as hollow squares, so
    a head that attends along contacts shows its weight inside them. `offset` shifts residue
    numbers; `panel_titles` (one per panel, row-major) replaces "layer n, head h".
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
            if contacts_LL is not None:
                ci, cj = np.nonzero(np.triu(contacts_LL, k=6) | np.tril(contacts_LL, k=-6))
                ax.scatter(cj, ci, s=3, marker="s", facecolors="none", edgecolors=PALETTE[1],
                           linewidths=0.3)  # fmt: skip
            label = f"layer {layer + 1}, head {head + 1}"
            if panel_titles is not None:
                label = panel_titles[row * n_heads + head]
            ax.set_title(label, fontsize=7)
            _residue_ticks(ax, sequence, tick_every, offset)
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


def head_precision_heatmap(precision_NH: np.ndarray, *, random: float | None = None, title=""):
    """Layers × heads grid of one contact precision per head (e.g. long-range P@L/5), each cell
    annotated; `random` (the contact density) is named in the colour-bar label."""
    n_layers, n_heads = precision_NH.shape
    fig, ax = figure(1.0 + 0.9 * n_heads, 0.8 + 0.7 * n_layers)
    image = ax.imshow(precision_NH, cmap=SEQUENTIAL_CMAP, vmin=0, vmax=1)
    for (n, h), value in np.ndenumerate(precision_NH):
        ax.text(h, n, f"{value:.2f}", ha="center", va="center", fontsize=7,
                color="white" if value < 0.5 else "black")  # fmt: skip
    ax.set_xticks(range(n_heads), [f"head {h + 1}" for h in range(n_heads)], fontsize=7)
    ax.set_yticks(range(n_layers), [f"layer {n + 1}" for n in range(n_layers)], fontsize=7)
    label = "precision" if random is None else f"precision (random {random:.2f})"
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=label)
    if title:
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig
