import numpy as np
import pytest

from protein_performer.analysis.contacts import apc, range_mask, sym_apc, symmetrize, true_contacts


def test_symmetrize_is_symmetric_and_doubles_symmetric_input():
    rng = np.random.default_rng(0)
    x = rng.random((3, 7, 7))
    s = symmetrize(x)
    np.testing.assert_allclose(s, np.swapaxes(s, -1, -2))
    sym = x + np.swapaxes(x, -1, -2)
    np.testing.assert_allclose(symmetrize(sym), 2 * sym)


def test_apc_removes_rank_one_background_and_zeroes_margins():
    rng = np.random.default_rng(1)
    row, col = rng.random(9) + 0.1, rng.random(9) + 0.1
    background = np.outer(row, col)
    # a pure row x column product is exactly the background APC estimates: nothing is left
    np.testing.assert_allclose(apc(background), 0.0, atol=1e-12)
    x = rng.random((2, 9, 9))
    corrected = apc(x)
    # after APC, every row and column sums to zero
    np.testing.assert_allclose(corrected.sum(-1), 0.0, atol=1e-10)
    np.testing.assert_allclose(corrected.sum(-2), 0.0, atol=1e-10)
    # APC keeps the signal added on top of a background
    signal = np.zeros((9, 9))
    signal[2, 7] = signal[7, 2] = 5.0
    boosted = sym_apc(background + signal)
    assert np.unravel_index(np.argmax(boosted), boosted.shape) in {(2, 7), (7, 2)}


def test_sym_apc_is_symmetric():
    x = np.random.default_rng(2).random((4, 5, 11, 11))
    s = sym_apc(x)
    assert s.shape == x.shape
    np.testing.assert_allclose(s, np.swapaxes(s, -1, -2), atol=1e-12)


def test_range_masks_partition_upper_triangle_by_separation():
    length = 40
    masks = {name: range_mask(length, name) for name in ("short", "medium", "long", "all")}
    i, j = np.nonzero(masks["short"])
    assert (j - i).min() == 6 and (j - i).max() == 11
    i, j = np.nonzero(masks["medium"])
    assert (j - i).min() == 12 and (j - i).max() == 23
    i, j = np.nonzero(masks["long"])
    assert (j - i).min() == 24
    union = masks["short"] | masks["medium"] | masks["long"]
    np.testing.assert_array_equal(union, masks["all"])
    assert not (masks["short"] & masks["medium"]).any()
    assert masks["all"].sum() == sum(length - s for s in range(6, length))
    with pytest.raises(ValueError, match="unknown contact range"):
        range_mask(10, "tiny")


def test_true_contacts_threshold():
    coords = np.array([[0.0, 0, 0], [7.9, 0, 0], [16.0, 0, 0]])
    c = true_contacts(coords)
    assert c[0, 1] and c[1, 0] and not c[0, 2] and not c[1, 2]
    assert c.diagonal().all()
