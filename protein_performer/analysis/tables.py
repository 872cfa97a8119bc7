"""Analysis results as pandas DataFrames, for notebooks and interactive use."""

from __future__ import annotations

import pandas as pd

from protein_performer.analysis.head_summary import HeadSummary


def head_table(summary: HeadSummary, sequence: str | None = None) -> pd.DataFrame:
    """One row per (layer, head), 0-based, with entropy, mean distance and the top residue."""
    return pd.DataFrame(summary.rows(sequence)).set_index(["layer", "head"])


def precision_table(precision: dict[str, dict[str, float]]) -> pd.DataFrame:
    """`range_precision` output: rows short / medium / long, columns P@L, P@L/2, P@L/5, random."""
    return pd.DataFrame(precision).T.rename_axis("range")
