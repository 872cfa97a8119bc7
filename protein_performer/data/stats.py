"""Per-split length statistics, as in Table 1 of Choromanski et al. 2021 (count, min, max, mean,
std and median sequence length), plus token counts for the unigram baseline.

Lengths are accumulated as a histogram (one counter per length), so the median is exact while
memory is bounded by the longest protein (~35 k residues for titin), not by the record count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from rich.console import Console
from rich.table import Table

from protein_performer.constants import VOCAB_SIZE


@dataclass(frozen=True)
class LengthSummary:
    """Summary of one split's sequence lengths (residues, specials excluded)."""

    count: int
    residues: int
    min: int
    max: int
    mean: float
    std: float
    median: float


class SplitStats:
    """Streaming accumulator: feed it lengths and token ids one batch at a time."""

    def __init__(self) -> None:
        self.length_hist = np.zeros(1, dtype=np.int64)
        self.token_counts = np.zeros(VOCAB_SIZE, dtype=np.int64)

    def update(self, lengths: np.ndarray, token_counts: np.ndarray | None = None) -> None:
        """Add a batch: its sequence lengths and, optionally, its per-token-id counts."""
        lengths = np.asarray(lengths, dtype=np.int64)
        if lengths.size:
            hist = np.bincount(lengths)
            if hist.size > self.length_hist.size:
                self.length_hist = np.pad(self.length_hist, (0, hist.size - self.length_hist.size))
            self.length_hist[: hist.size] += hist
        if token_counts is not None:
            self.token_counts += np.asarray(token_counts, dtype=np.int64)

    def summary(self) -> LengthSummary:
        return summarize_histogram(self.length_hist)

    def to_json(self) -> dict:
        nonzero = np.flatnonzero(self.length_hist)
        return {
            "length_hist": {int(k): int(self.length_hist[k]) for k in nonzero},
            "token_counts": self.token_counts.tolist(),
        }

    @classmethod
    def from_json(cls, data: Mapping) -> SplitStats:
        stats = cls()
        hist = {int(k): int(v) for k, v in data["length_hist"].items()}
        if hist:
            stats.length_hist = np.zeros(max(hist) + 1, dtype=np.int64)
            stats.length_hist[list(hist)] = list(hist.values())
        stats.token_counts = np.asarray(data["token_counts"], dtype=np.int64)
        return stats


def summarize_histogram(length_hist: np.ndarray) -> LengthSummary:
    """Exact count/min/max/mean/std/median from a histogram `length_hist[length] = count`."""
    hist = np.asarray(length_hist, dtype=np.int64)
    count = int(hist.sum())
    if count == 0:
        nan = float("nan")
        return LengthSummary(0, 0, 0, 0, nan, nan, nan)
    lengths = np.arange(hist.size, dtype=np.float64)
    present = np.flatnonzero(hist)
    residues = int((hist * np.arange(hist.size)).sum())
    mean = residues / count
    # Population std, the numpy default, computed around the mean to avoid cancellation.
    std = math.sqrt(float((hist * (lengths - mean) ** 2).sum()) / count)
    cum = np.cumsum(hist)
    lower = int(np.searchsorted(cum, (count - 1) // 2 + 1))
    upper = int(np.searchsorted(cum, count // 2 + 1))
    return LengthSummary(
        count=count,
        residues=residues,
        min=int(present[0]),
        max=int(present[-1]),
        mean=mean,
        std=std,
        median=(lower + upper) / 2,
    )


def stats_table(summaries: Mapping[str, LengthSummary], title: str) -> Table:
    """A rich table with one row per split (Performer paper, Table 1 layout)."""
    table = Table(title=title)
    for column in ("split", "count", "min", "max", "mean", "std", "median", "residues"):
        table.add_column(column, justify="left" if column == "split" else "right")
    for name, s in summaries.items():
        table.add_row(
            name,
            f"{s.count:,}",
            f"{s.min:,}",
            f"{s.max:,}",
            f"{s.mean:.1f}",
            f"{s.std:.1f}",
            f"{s.median:g}",
            f"{s.residues:,}",
        )
    return table


def print_stats(summaries: Mapping[str, LengthSummary], title: str, console: Console) -> None:
    console.print(stats_table(summaries, title))
