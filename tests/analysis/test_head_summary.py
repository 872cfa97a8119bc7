import numpy as np
import pytest

from protein_performer.analysis.head_summary import summarize_heads


def test_diagonal_vertical_and_uniform_heads_are_told_apart():
    length = 20
    diagonal = np.eye(length)  # every residue attends to itself
    vertical = np.zeros((length, length))
    vertical[:, 4] = 1.0  # everyone attends to residue 5
    uniform = np.full((length, length), 1 / length)
    maps = np.stack([diagonal, vertical, uniform])[None]  # [1 layer, 3 heads, L, L]
    s = summarize_heads(maps)
    assert list(s.kind_NH[0]) == ["diagonal", "vertical", "diffuse"]
    assert s.entropy_NH[0, 0] == pytest.approx(0.0)
    assert s.entropy_NH[0, 2] == pytest.approx(np.log(length))
    assert s.mean_distance_NH[0, 0] == 0.0
    assert s.top_column_NH[0, 1] == 4 and s.top_column_share_NH[0, 1] == pytest.approx(1.0)
    # uniform: mean |i-j| over a 20x20 grid
    expected = np.abs(np.arange(length)[:, None] - np.arange(length)).mean()
    assert s.mean_distance_NH[0, 2] == pytest.approx(expected)
    rows = s.rows("ACDEFGHIKLMNPQRSTVWY")
    assert rows[1]["top_residue"] == "F5" and rows[1]["kind"] == "vertical"


def test_rows_are_renormalised_after_dropping_specials():
    maps = np.full((1, 1, 5, 5), 0.1)  # rows sum to 0.5: half went to <cls>/<eos>
    s = summarize_heads(maps)
    assert s.entropy_NH[0, 0] == pytest.approx(np.log(5))


def test_bad_shape():
    with pytest.raises(ValueError, match="layers, heads"):
        summarize_heads(np.zeros((3, 4, 4)))
