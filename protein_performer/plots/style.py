"""The one shared look of the project's figures, and saving them.

Functions here are generic (no knowledge of attention or contacts) so every figure family can
use them. Importing this module never chooses a matplotlib backend: figure functions return
`Figure` objects, a notebook shows them inline, and a command that only writes files (such as
`protein-performer analyze`) selects Agg itself before drawing.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

RC: dict[str, object] = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}
# Colour-blind-safe qualitative palette (Okabe & Ito 2008).
PALETTE: tuple[str, ...] = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
)  # fmt: skip
SEQUENTIAL_CMAP = "viridis"
DIVERGING_CMAP = "RdBu_r"


def figure(width: float = 6.0, height: float = 4.0, **subplot_kw):
    """A new figure and axes (`plt.subplots(**subplot_kw)`) in the project style.

    The style is applied to the global rcParams: text added to the axes later must see it too.
    """
    plt.rcParams.update(RC)
    return plt.subplots(figsize=(width, height), **subplot_kw)


def save(fig, path: str | Path) -> Path:
    """Write `fig` to `path` (parents created), close it, and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
