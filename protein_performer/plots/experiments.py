"""Figures of the protein experiments (docs/RESULTS.md): validation accuracy against training
tokens, wall-clock or steps, one line per run (Choromanski et al. 2021, Fig. 5-style
learning curves).

Inputs are plain `Curve`s so the plots know nothing of run directories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from protein_performer.plots.style import PALETTE, figure, save


@dataclass(frozen=True)
class Curve:
    """One line: `xs` against `ys` (accuracy as a fraction), drawn dashed if `dashed`."""

    label: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    dashed: bool = False


@dataclass(frozen=True)
class Panel:
    """One axes: its title, curves and an optional horizontal reference (e.g. unigram)."""

    title: str
    curves: tuple[Curve, ...]
    reference: float | None = None
    reference_label: str = "unigram baseline"


def plot_panels(
    panels: Sequence[Panel], xlabel: str, path: str | Path, *, ylabel: str = "valid accuracy (%)"
) -> Path:
    """Side-by-side panels sharing the y axis; accuracy is drawn in percent."""
    fig, axes = figure(5.0 * len(panels), 3.8, ncols=len(panels), sharey=True, squeeze=False)
    labels = sorted({c.label for p in panels for c in p.curves})
    colour = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}
    for ax, panel in zip(axes[0], panels, strict=True):
        for curve in panel.curves:
            ax.plot(
                curve.xs,
                [100 * y for y in curve.ys],
                "--" if curve.dashed else "-",
                marker="o",
                ms=3,
                color=colour[curve.label],
                label=curve.label,
            )
        if panel.reference is not None:
            ax.axhline(
                100 * panel.reference, color="grey", lw=0.8, ls=":", label=panel.reference_label
            )
        ax.set_title(panel.title)
        ax.set_xlabel(xlabel)
        ax.grid(True, alpha=0.3)
        if panel.curves:
            ax.legend(fontsize=7)
    axes[0][0].set_ylabel(ylabel)
    return save(fig, path)
