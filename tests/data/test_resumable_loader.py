"""Batch order is a function of (seed, epoch); a loader restored from its state continues where
it stopped; empty splits are refused for training and skipped, with a warning, for testing."""

from __future__ import annotations

import pytest

from protein_performer.data.batching import FixedBatchSampler
from protein_performer.data.datamodule import EmptySplitError, ProteinDataModule, ResumableLoader


def _loader(n=50, batch_size=4, seed=0):
    return ResumableLoader(
        list(range(n)),
        batch_sampler=FixedBatchSampler(n, batch_size, shuffle=True, seed=seed),
        collate_fn=list,
    )


def test_order_depends_on_seed_and_epoch_only():
    a, b = _loader(), _loader()
    assert list(a) == list(b)
    a.batch_sampler.set_epoch(1)
    assert list(a) != list(b)
    assert sorted(i for batch in a for i in batch) == list(range(50))


def test_restored_loader_continues_mid_epoch():
    straight = _loader()
    straight.batch_sampler.set_epoch(2)
    expected = list(straight)
    first = _loader()
    first.batch_sampler.set_epoch(2)
    seen = []
    for batch in first:
        seen.append(batch)
        if len(seen) == 5:
            break
    state = first.state_dict()
    assert state == {"epoch": 2, "position": 5}
    again = _loader()
    again.load_state_dict(state)
    again.batch_sampler.set_epoch(2)
    assert seen + list(again) == expected
    assert len(list(again)) == len(expected)  # the skip applies to one pass only


def test_ranks_split_the_batches_evenly():
    per_rank = [
        list(FixedBatchSampler(50, 4, shuffle=True, rank=r, world_size=3)) for r in range(3)
    ]
    assert len({len(batches) for batches in per_rank}) == 1
    flat = [i for batches in per_rank for batch in batches for i in batch]
    assert len(flat) == len(set(flat))


def _module(tmp_path, fasta, **kw):
    dm = ProteinDataModule(fasta=str(fasta), cache_dir=str(tmp_path / "cache"), **kw)
    dm.prepare_data()
    dm.setup("fit")
    return dm


def test_empty_ood_split_is_skipped_with_a_warning(tmp_path, fasta_factory, make_records):
    path = fasta_factory(records=make_records(200, taxa=(9606,)))
    dm = _module(tmp_path, path, max_len=64)
    with pytest.warns(UserWarning, match="split 'ood' is empty: not evaluated"):
        assert dm.test_split_names == ("test",)
    assert len(dm.test_dataloader()) == 1


def test_empty_training_splits_are_refused(tmp_path, fasta_factory, make_records):
    path = fasta_factory(records=make_records(2, taxa=(9606,)))
    with pytest.raises(EmptySplitError, match="valid split"):
        _module(tmp_path, path, max_len=64)


@pytest.mark.parametrize("name", ["batch_size", "max_len", "tokens_per_batch"])
def test_sizes_must_be_positive(name):
    with pytest.raises(ValueError, match=f"data.{name} must be >= 1"):
        ProteinDataModule(**{name: 0})
