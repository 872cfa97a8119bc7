"""Token-budget batching across ranks: every item exactly once per epoch, the same number of
batches on every rank, every batch within its token budget (2 and 3 simulated ranks)."""

from __future__ import annotations

import numpy as np
import pytest

from protein_performer.data.batching import TokenBudgetBatchSampler
from protein_performer.data.rank_balance import balance_across_ranks

BUDGET = 600


def _lengths(n: int = 155, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(20, 300, size=n)


def _rank_batches(lengths, world: int, shuffle: bool, epoch: int) -> list[list[list[int]]]:
    ranks = []
    for rank in range(world):
        sampler = TokenBudgetBatchSampler(
            lengths, BUDGET, shuffle=shuffle, seed=3, pool_size=64, rank=rank, world_size=world
        )
        sampler.set_epoch(epoch)
        ranks.append(list(sampler))
        assert len(sampler) == len(ranks[-1])
    return ranks


@pytest.mark.parametrize("world", [2, 3])
@pytest.mark.parametrize("shuffle", [True, False], ids=["train", "eval"])
def test_ranks_cover_every_item_once_with_equal_batch_counts(world, shuffle):
    lengths = _lengths()
    for epoch in range(3):
        ranks = _rank_batches(lengths, world, shuffle, epoch)
        assert len({len(batches) for batches in ranks}) == 1, [len(b) for b in ranks]
        items = [i for batches in ranks for batch in batches for i in batch]
        assert sorted(items) == list(range(len(lengths)))  # no item dropped, none repeated
        for batches in ranks:
            for batch in batches:
                assert batch and len(batch) * max(lengths[batch]) <= BUDGET


def test_the_batch_count_really_needed_balancing():
    """Guard for the test above: on one rank this epoch's batch count divides by neither 2 nor
    3, so without balancing the ranks would differ (or items would be dropped)."""
    counts = []
    for shuffle in (True, False):
        for epoch in range(3):
            single = TokenBudgetBatchSampler(
                _lengths(), BUDGET, shuffle=shuffle, seed=3, pool_size=64
            )
            single.set_epoch(epoch)
            counts.append(len(single))
    assert all(count % 2 and count % 3 for count in counts), counts


def test_balance_splits_the_widest_batch_and_keeps_order():
    batches = [[0], [1, 2, 3, 4], [5, 6]]
    assert balance_across_ranks(batches, 2) == [[0], [1, 2], [3, 4], [5, 6]]
    assert balance_across_ranks(batches, 3) == batches
    assert balance_across_ranks(batches, 1) == batches


def test_balance_drops_only_when_every_batch_is_a_single_item():
    assert balance_across_ranks([[0], [1], [2]], 2) == [[0], [1]]
    with pytest.raises(ValueError, match="world_size"):
        balance_across_ranks([[0]], 0)
