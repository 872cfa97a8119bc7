"""Contact figures: a contact map with true contacts below the diagonal and the top-L
predictions above it (as in Rao et al. 2021), and precision bars by separation range."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from protein_performer.plots.style import PALETTE, figure

MIN_SEPARATION = 6  # the contact definition of analysis.contacts; pairs closer are not shown


def contact_map(
    contacts_LL: np.ndarray,
    scores_LL: np.ndarray,
    *,
    top_k: int | None = None,
    title: str = "",
    tick_every: int = 10,
    offset: int = 0,
):
    """Lower triangle: true contacts (grey). Upper triangle: the `top_k` (default L)
    highest-scoring pairs with separation ≥ 6, blue when correct and orange when not.
    `offset` shifts the residue numbers on the axes (e.g. 35 for 5PTI in UniProt numbering)."""
    length = contacts_LL.shape[0]
    top_k = length if top_k is None else top_k
    i_idx, j_idx = np.triu_indices(length, k=MIN_SEPARATION)
    order = np.argsort(-scores_LL[i_idx, j_idx], kind="stable")[:top_k]
    pi, pj = i_idx[order], j_idx[order]
    hit = contacts_LL[pi, pj].astype(bool)
    ti, tj = np.nonzero(np.tril(contacts_LL, k=-MIN_SEPARATION))
    fig, ax = figure(4.6, 4.4)
    ax.scatter(tj, ti, s=6, marker="s", color="0.6", label="true contact")
    ax.scatter(pj[hit], pi[hit], s=8, color=PALETTE[0], label="predicted, correct")
    ax.scatter(pj[~hit], pi[~hit], s=8, color=PALETTE[1], label="predicted, wrong")
    ax.plot([0, length - 1], [0, length - 1], color="black", lw=0.5)
    ax.set_xlim(-0.5, length - 0.5)
    ax.set_ylim(length - 0.5, -0.5)
    ax.set_aspect("equal")
    ticks = [0, *range(tick_every - 1, length, tick_every)]
    ax.set_xticks(ticks, [str(t + 1 + offset) for t in ticks], fontsize=6)
    ax.set_yticks(ticks, [str(t + 1 + offset) for t in ticks], fontsize=6)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=3, fontsize=6, markerscale=1.5)
    ax.set_title(title or f"top-{top_k} predictions (upper) vs true contacts (lower)")
    return fig


def precision_bars(
    results: Mapping[str, Mapping[str, Mapping[str, float]]],
    *,
    metrics: Sequence[str] = ("P@L", "P@L/2", "P@L/5"),
    title: str = "",
):
    """One panel per metric; in each, grouped bars (one group per range, one bar per method of
    `results` = {method: {range: {metric: value, "random": density}}}) and a black tick at the
    random baseline of each range. The y axis fits the data, so weak models stay readable."""
    methods = list(results)
    ranges = list(next(iter(results.values())))
    baseline = [next(iter(results.values()))[r]["random"] for r in ranges]
    fig, axes = figure(1.0 + 2.6 * len(metrics), 3.4, ncols=len(metrics), squeeze=False)
    width = 0.8 / max(len(methods), 1)
    top = max(
        [0.05, *baseline]
        + [results[m][r][k] or 0.0 for m in methods for r in ranges for k in metrics]
    )
    for ax, metric in zip(axes[0], metrics, strict=True):
        for m, (colour, method) in enumerate(zip(PALETTE, methods, strict=False)):
            values = [results[method][r][metric] for r in ranges]
            x = np.arange(len(ranges)) + (m - (len(methods) - 1) / 2) * width
            ax.bar(x, values, width=width, color=colour, label=method)
        ax.scatter(
            np.arange(len(ranges)),
            baseline,
            marker="_",
            s=900,
            color="black",
            label="random",
            zorder=3,
        )
        ax.set_xticks(range(len(ranges)), ranges)
        ax.set_title(metric)
        ax.set_ylim(0, min(1.0, 1.15 * top))
    axes[0, 0].set_ylabel("precision")
    axes[0, -1].legend(fontsize=6, loc="upper right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
