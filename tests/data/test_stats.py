import numpy as np
import pytest
from rich.console import Console

from protein_performer.data.stats import SplitStats, stats_table, summarize_histogram


@pytest.mark.parametrize("n", [1, 2, 7, 1000])
def test_histogram_summary_matches_numpy(n):
    lengths = np.random.default_rng(n).integers(1, 5000, size=n)
    stats = SplitStats()
    for part in np.array_split(lengths, 3):
        stats.update(part)
    s = stats.summary()
    assert (s.count, s.min, s.max, s.residues) == (n, lengths.min(), lengths.max(), lengths.sum())
    assert s.mean == pytest.approx(lengths.mean())
    assert s.std == pytest.approx(lengths.std())
    assert s.median == np.median(lengths)


def test_json_roundtrip_and_empty_split():
    stats = SplitStats()
    stats.update(np.array([3, 3, 10]), np.arange(30))
    again = SplitStats.from_json(stats.to_json())
    assert again.summary() == stats.summary()
    assert again.token_counts.tolist() == list(range(30))
    assert summarize_histogram(np.zeros(1, dtype=np.int64)).count == 0


def test_table_has_paper_columns():
    stats = SplitStats()
    stats.update(np.array([10, 20, 30]))
    console = Console(record=True, width=120)
    console.print(stats_table({"train": stats.summary()}, "lengths"))
    text = console.export_text()
    for word in ("count", "min", "max", "mean", "std", "median", "train", "20"):
        assert word in text
