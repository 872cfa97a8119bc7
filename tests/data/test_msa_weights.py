"""Sequence weights against a brute-force double loop."""

from __future__ import annotations

import numpy as np
import pytest

from protein_performer.constants import GAP_ID
from protein_performer.data.msa_weights import effective_depth, neighbour_counts, sequence_weights


def brute_force_weights(tokens_NC: np.ndarray, threshold: float) -> np.ndarray:
    n, c = tokens_NC.shape
    counts = np.zeros(n)
    for i in range(n):
        for j in range(n):
            same = sum(int(tokens_NC[i, k] == tokens_NC[j, k]) for k in range(c))
            counts[i] += same / c >= threshold
    return 1.0 / counts


@pytest.mark.parametrize("threshold", [0.5, 0.8, 1.0])
def test_weights_match_brute_force(threshold):
    rng = np.random.default_rng(0)
    base = rng.integers(5, 25, size=(1, 10))
    # Near-copies of one sequence (so clusters exist) plus unrelated rows, with gaps.
    noisy = np.where(rng.random((40, 10)) < 0.2, rng.integers(5, 25, (40, 10)), base)
    noisy[rng.random((40, 10)) < 0.1] = GAP_ID
    tokens = np.concatenate([noisy, rng.integers(5, 25, (20, 10))]).astype(np.int8)
    expected = brute_force_weights(tokens, threshold)
    # Small blocks so the symmetric block bookkeeping is exercised across many blocks.
    got = 1.0 / neighbour_counts(tokens, threshold, block=7)
    np.testing.assert_allclose(got, expected)
    np.testing.assert_allclose(sequence_weights(tokens, threshold), expected)
    assert effective_depth(got) == pytest.approx(expected.sum())


def test_hand_case_two_identical_one_distinct():
    tokens = np.array([[5, 6, 7, 8, 9], [5, 6, 7, 8, 9], [10, 11, 12, 13, 14]], dtype=np.int8)
    np.testing.assert_allclose(sequence_weights(tokens, 0.8), [0.5, 0.5, 1.0])
    assert effective_depth(sequence_weights(tokens, 0.8)) == pytest.approx(2.0)


def test_threshold_is_validated():
    with pytest.raises(ValueError, match="threshold"):
        sequence_weights(np.zeros((2, 2), dtype=np.int8), 0.0)
