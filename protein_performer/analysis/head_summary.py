"""Per-head summaries of attention maps: entropy, mean attended distance, and a coarse kind.

The Performer paper (Choromanski et al. 2021, App. C.4, Figs. 10–13) finds two families of
heads on BPT1_BOVIN: diagonal heads that attend to neighbours, and vertical heads where every
residue attends to the same few positions (the initial M, C85). The kind here makes that split
measurable: "diagonal" when most mass stays within `local_window` residues, "vertical" when a
single column receives a large share of all attention, "diffuse" otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("diagonal", "vertical", "diffuse")


@dataclass(frozen=True)
class HeadSummary:
    """Statistics of every head of one sequence's residue-only maps ([layers, heads] arrays)."""

    entropy_NH: np.ndarray  # mean row entropy in nats (uniform rows give log L)
    mean_distance_NH: np.ndarray  # mean |i - j| under each row's attention
    local_fraction_NH: np.ndarray  # mean mass within the local window
    top_column_NH: np.ndarray  # 0-based residue receiving the most attention
    top_column_share_NH: np.ndarray  # its share of all attention of the head
    kind_NH: np.ndarray  # one of KINDS
    length: int

    def rows(self, sequence: str | None = None) -> list[dict[str, object]]:
        """One dict per head (layer and head 0-based), for tables and JSON."""
        out = []
        n_layers, n_heads = self.entropy_NH.shape
        for layer in range(n_layers):
            for head in range(n_heads):
                col = int(self.top_column_NH[layer, head])
                label = f"{sequence[col]}{col + 1}" if sequence else str(col + 1)
                out.append(
                    {
                        "layer": layer,
                        "head": head,
                        "kind": str(self.kind_NH[layer, head]),
                        "entropy": float(self.entropy_NH[layer, head]),
                        "mean_distance": float(self.mean_distance_NH[layer, head]),
                        "local_fraction": float(self.local_fraction_NH[layer, head]),
                        "top_residue": label,
                        "top_residue_share": float(self.top_column_share_NH[layer, head]),
                    }
                )
        return out


def summarize_heads(
    maps_NHLL: np.ndarray,
    *,
    local_window: int = 2,
    local_threshold: float = 0.5,
    vertical_threshold: float = 0.2,
) -> HeadSummary:
    """Summarise [layers, heads, L, L] residue-only attention maps.

    Rows are renormalised first: dropping <cls>/<eos> leaves rows that sum to a little less
    than 1, and entropy and distance are properties of the distribution over residues.
    """
    maps = np.asarray(maps_NHLL, dtype=np.float64)
    length = maps.shape[-1]
    if maps.ndim != 4 or maps.shape[-2] != length:
        raise ValueError(f"expected [layers, heads, L, L] maps, got shape {maps.shape}")
    rows = maps / maps.sum(-1, keepdims=True).clip(min=1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(rows > 0, rows * np.log(rows), 0.0)
    entropy_NH = -plogp.sum(-1).mean(-1)
    dist_LL = np.abs(np.arange(length)[:, None] - np.arange(length)[None, :])
    mean_distance_NH = (rows * dist_LL).sum(-1).mean(-1)
    local_fraction_NH = (rows * (dist_LL <= local_window)).sum(-1).mean(-1)
    received_NHL = rows.mean(-2)  # share of the head's attention each residue receives
    top_column_NH = received_NHL.argmax(-1)
    top_column_share_NH = received_NHL.max(-1)
    kind_NH = np.where(
        local_fraction_NH >= local_threshold,
        "diagonal",
        np.where(top_column_share_NH >= vertical_threshold, "vertical", "diffuse"),
    )
    return HeadSummary(
        entropy_NH=entropy_NH,
        mean_distance_NH=mean_distance_NH,
        local_fraction_NH=local_fraction_NH,
        top_column_NH=top_column_NH,
        top_column_share_NH=top_column_share_NH,
        kind_NH=kind_NH,
        length=length,
    )
