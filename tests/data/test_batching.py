import numpy as np
import pytest
import torch

from protein_performer.constants import CLS_ID, EOS_ID, MASK_ID, PAD_ID, STANDARD_IDS
from protein_performer.data.batching import (
    IGNORE_INDEX,
    CausalCollator,
    MLMCollator,
    TokenBudgetBatchSampler,
    mlm_mask,
)


def _framed(n, rng):
    return np.r_[CLS_ID, rng.integers(5, 30, size=n), EOS_ID].astype(np.int8)


def test_masking_statistics_over_many_draws():
    rng = np.random.default_rng(0)
    selected = masked = randomised = unchanged = maskable = 0
    for _ in range(400):
        tokens = _framed(500, rng)
        inputs, labels = mlm_mask(tokens, rng)
        sel = labels != IGNORE_INDEX
        assert not sel[0] and not sel[-1]  # <cls>/<eos> are never selected
        assert (labels[sel] == tokens[sel]).all()
        assert (inputs[~sel] == tokens[~sel]).all()  # nothing changes outside the selection
        maskable += len(tokens) - 2
        selected += sel.sum()
        masked += (inputs[sel] == MASK_ID).sum()
        changed = sel & (inputs != MASK_ID) & (inputs != tokens)
        assert np.isin(inputs[changed], STANDARD_IDS).all()
        randomised += changed.sum()
        unchanged += (sel & (inputs == tokens)).sum()
    assert selected / maskable == pytest.approx(0.15, abs=0.005)
    assert masked / selected == pytest.approx(0.8, abs=0.01)
    # A random draw equals the original 1 time in 20 (for a standard residue), as in BERT.
    assert randomised / selected == pytest.approx(0.1 * 19 / 20, abs=0.01)
    assert unchanged / selected == pytest.approx(0.1 + 0.1 / 20, abs=0.01)


def test_mlm_collator_pads_and_is_deterministic_in_eval():
    rng = np.random.default_rng(1)
    items = [{"tokens": _framed(n, rng), "index": i} for i, n in enumerate([40, 7, 25])]
    batch = MLMCollator(seed=5)(items)
    assert set(batch) == {"tokens", "labels", "is_pad"}
    assert batch["tokens"].shape == (3, 42) and batch["tokens"].dtype == torch.int64
    assert batch["labels"].dtype == torch.int64 and batch["is_pad"].dtype == torch.bool
    assert batch["is_pad"].sum(1).tolist() == [0, 33, 15]
    assert (batch["tokens"][batch["is_pad"]] == PAD_ID).all()
    assert (batch["labels"][batch["is_pad"]] == IGNORE_INDEX).all()
    # Same item, other batch: same mask.
    alone = MLMCollator(seed=5)([items[1]])
    assert torch.equal(alone["tokens"][0], batch["tokens"][1, :9])
    torch.manual_seed(0)
    a = MLMCollator()(items * 20)
    b = MLMCollator()(items * 20)
    assert not torch.equal(a["tokens"], b["tokens"])  # training draws fresh masks


def test_causal_collator_shifts_labels():
    items = [
        {"tokens": np.array([2, 5, 6, 3], dtype=np.int8), "index": 0},
        {"tokens": np.array([2, 7, 3], dtype=np.int8), "index": 1},
    ]
    batch = CausalCollator()(items)
    assert batch["tokens"].tolist() == [[2, 5, 6, 3], [2, 7, 3, 0]]
    assert batch["labels"].tolist() == [[5, 6, 3, -100], [7, 3, -100, -100]]
    assert batch["is_pad"].tolist() == [[False] * 4, [False, False, False, True]]


def test_token_budget_sampler_respects_budget_and_covers_everything():
    lengths = np.random.default_rng(0).integers(10, 1000, size=2000)
    sampler = TokenBudgetBatchSampler(lengths, 4096, shuffle=True, seed=0, pool_size=512)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(2000))
    assert all(len(b) * lengths[b].max() <= 4096 for b in batches)
    padded = sum(len(b) * lengths[b].max() for b in batches)
    assert padded / lengths.sum() < 1.15  # bucketing keeps padding low
    assert len(sampler) == len(batches)
    sampler.set_epoch(1)
    assert list(sampler) != batches
    sampler.set_epoch(0)
    assert list(sampler) == batches
    # Lightning's _set_sampler_epoch reaches the batch sampler only through `.sampler`.
    from lightning.fabric.utilities.data import _set_sampler_epoch

    loader = torch.utils.data.DataLoader(range(2000), batch_sampler=sampler)
    _set_sampler_epoch(loader, 1)
    assert sampler.epoch == 1


def test_token_budget_sampler_shards_by_rank_and_rejects_tiny_budgets():
    lengths = np.full(100, 10)
    ranks = [
        list(TokenBudgetBatchSampler(lengths, 30, shuffle=True, rank=r, world_size=3))
        for r in range(3)
    ]
    assert len({len(r) for r in ranks}) == 1
    flat = [i for r in ranks for b in r for i in b]
    assert len(flat) == len(set(flat))
    with pytest.raises(ValueError, match="smaller than the longest item"):
        TokenBudgetBatchSampler(lengths, 5, shuffle=False)
