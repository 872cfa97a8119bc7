"""`analysis.ensemble`: the mean of members' scores, and of their standardised contact maps."""

from __future__ import annotations

import numpy as np
import pytest

from protein_performer.analysis.dms_cli import member_names
from protein_performer.analysis.ensemble import mean_contact_map, mean_scores, standardised


def _map(seed: int, n: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raw = rng.normal(size=(n, n))
    return raw + raw.T


def test_the_mean_score_is_none_where_a_member_has_none():
    scores = mean_scores(np.array([[1.0, 2.0, np.nan], [3.0, -2.0, 1.0]]))
    np.testing.assert_array_equal(scores[:2], [2.0, 0.0])
    assert np.isnan(scores[2])


def test_standardising_removes_a_map_s_scale_and_keeps_unranked_pairs_out():
    scores_CC = _map(0)
    scores_CC[3, :] = scores_CC[:, 3] = -np.inf
    z_CC = standardised(scores_CC)
    np.testing.assert_allclose(standardised(7.0 * scores_CC - 2.0), z_CC)
    upper = z_CC[np.triu(np.isfinite(z_CC), k=1)]
    assert upper.mean() == pytest.approx(0.0, abs=1e-12)
    assert upper.std() == pytest.approx(1.0)
    assert np.isneginf(z_CC[3]).all()
    with pytest.raises(ValueError, match="at least two ranked pairs"):
        standardised(np.full((3, 3), -np.inf))


def test_a_small_scale_member_weighs_as_much_as_a_large_one():
    big, small = 100.0 * _map(1), 0.01 * _map(2)
    mean_CC = mean_contact_map([big, small])
    np.testing.assert_allclose(mean_CC, (standardised(big) + standardised(small)) / 2)
    # the plain mean would follow the large member alone
    assert np.corrcoef(mean_CC.ravel(), small.ravel())[0, 1] > 0.5
    one_unranked = small.copy()
    one_unranked[0, 5] = one_unranked[5, 0] = -np.inf
    assert np.isneginf(mean_contact_map([big, one_unranked])[0, 5])


def test_members_are_named_by_as_much_of_their_path_as_tells_them_apart(tmp_path):
    a, b = tmp_path / "a" / "checkpoints", tmp_path / "b" / "checkpoints"
    for folder in (a, b):
        folder.mkdir(parents=True)
        (folder / "best.ckpt").touch()
    assert member_names([a / "best.ckpt", tmp_path / "x.ckpt"]) == ["best", "x"]
    assert member_names([a / "best.ckpt", b / "best.ckpt"]) == [
        "a/checkpoints/best",
        "b/checkpoints/best",
    ]
    with pytest.raises(ValueError, match="given twice"):
        member_names([a / "best.ckpt", a / ".." / "checkpoints" / "best.ckpt"])
