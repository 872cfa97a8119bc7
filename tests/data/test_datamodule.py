import numpy as np
import pytest
import torch

from protein_performer.constants import AMINO_ACID_IDS, CLS_ID, EOS_ID, MASK_ID, PAD_ID, VOCAB_SIZE
from protein_performer.data.batching import IGNORE_INDEX
from protein_performer.data.datamodule import ProteinDataModule


@pytest.fixture
def small_fasta(fasta_factory, make_records):
    return fasta_factory("small.fasta.gz", make_records(240, seed=4))


def _module(path, tmp_path, **kw):
    dm = ProteinDataModule(fasta=str(path), cache_dir=str(tmp_path / "cache"), **kw)
    dm.prepare_data()
    dm.setup("fit")
    return dm


def _check_batch(batch, max_len):
    assert set(batch) == {"tokens", "labels", "is_pad"}
    tokens, labels, is_pad = batch["tokens"], batch["labels"], batch["is_pad"]
    assert tokens.dtype == labels.dtype == torch.int64 and is_pad.dtype == torch.bool
    assert tokens.shape == labels.shape == is_pad.shape and tokens.shape[1] <= max_len
    assert torch.equal(is_pad, tokens == PAD_ID)
    assert (labels[is_pad] == IGNORE_INDEX).all()


def test_single_mlm_batches(tmp_path, small_fasta):
    dm = _module(small_fasta, tmp_path, mode="single", objective="mlm", max_len=64, batch_size=4)
    batch = next(iter(dm.train_dataloader()))
    _check_batch(batch, 64)
    assert batch["tokens"].shape[0] == 4
    assert (batch["tokens"] == MASK_ID).any()
    picked = batch["labels"] != IGNORE_INDEX
    assert picked.any() and np.isin(batch["labels"][picked].numpy(), AMINO_ACID_IDS).all()
    val = [next(iter(dm.val_dataloader())) for _ in range(2)]
    assert torch.equal(val[0]["tokens"], val[1]["tokens"])  # deterministic evaluation masks
    assert (val[0]["tokens"][:, 0] == CLS_ID).all()  # eval crop starts at the beginning


def test_single_causal_batches_with_token_budget(tmp_path, small_fasta):
    dm = _module(
        small_fasta, tmp_path, mode="single", objective="causal", max_len=128, tokens_per_batch=512
    )
    n_seen = 0
    for batch in dm.train_dataloader():
        _check_batch(batch, 128)
        assert batch["tokens"].numel() <= 512
        tokens, labels = batch["tokens"], batch["labels"]
        shifted = tokens[:, 1:]
        real = shifted != PAD_ID
        assert torch.equal(labels[:, :-1][real], shifted[real])
        assert (labels[:, -1] == IGNORE_INDEX).all()
        n_seen += len(tokens)
    assert n_seen == len(dm.datasets["train"])


@pytest.mark.parametrize("objective", ["mlm", "causal"])
def test_concat_batches_are_full_chunks(tmp_path, small_fasta, objective):
    dm = _module(small_fasta, tmp_path, mode="concat", objective=objective, max_len=256)
    loader = dm.train_dataloader()
    batch = next(iter(loader))
    _check_batch(batch, 256)
    assert batch["tokens"].shape == (8, 256)
    assert (batch["tokens"] == EOS_ID).any() and not (batch["tokens"] == CLS_ID).any()
    test_loader, ood_loader = dm.test_dataloader()
    assert dm.test_split_names == ("test", "ood")
    ood_tokens = sum(int((~b["is_pad"]).sum()) for b in ood_loader)
    ood = dm.splits["ood"]
    assert ood_tokens == sum(ood["length"]) + len(ood)  # every residue and <eos>, once


def test_eval_cap_unigram_counts_and_workers(tmp_path, small_fasta):
    dm = _module(
        small_fasta, tmp_path, eval_max_sequences=3, num_workers=1, batch_size=2, max_len=32
    )
    assert [len(dm.datasets[n]) for n in ("valid", "test", "ood")] == [3, 3, 3]
    batches = list(dm.val_dataloader())  # through a worker process
    assert sum(len(b["tokens"]) for b in batches) == 3
    counts = dm.unigram_counts()
    assert counts.dtype == np.float64 and counts.shape == (VOCAB_SIZE,)
    assert counts[:5].sum() == 0
    assert counts.sum() == sum(dm.splits["train"]["length"])
    with_eos = dm.unigram_counts(include_eos=True)
    assert with_eos[EOS_ID] == len(dm.splits["train"])  # one <eos> per training protein
    np.testing.assert_array_equal(np.delete(with_eos, EOS_ID), np.delete(counts, EOS_ID))


def test_invalid_mode_is_rejected():
    with pytest.raises(ValueError, match="mode must be"):
        ProteinDataModule(mode="pairs")  # type: ignore[arg-type]


def test_init_args_can_be_set_from_config():
    """LightningCLI sets the DataModule through jsonargparse: every argument must be typed."""
    from jsonargparse import ArgumentParser

    parser = ArgumentParser()
    parser.add_class_arguments(ProteinDataModule, "data")
    cfg = parser.parse_args(
        ["--data.mode=concat", "--data.objective=causal", "--data.max_len=8192",
         "--data.eval_max_sequences=10", "--data.ood_taxa=5851", "--data.tokens_per_batch=null"]
    )  # fmt: skip
    dm = parser.instantiate(cfg).data
    assert (dm.mode, dm.objective, dm.max_len, dm.eval_max_sequences) == (
        "concat",
        "causal",
        8192,
        10,
    )
    assert dm.prepare_config.ood_taxa == (5851,)
    with pytest.raises(SystemExit):
        parser.parse_args(["--data.mode=pairs"])


def test_preparation_defaults_are_those_of_prepare_config():
    """The DataModule builds the same PrepareConfig as `prepare` would with no options."""
    import inspect

    from protein_performer.data.prepare import PrepareConfig

    defaults = {
        name: p.default
        for name, p in inspect.signature(ProteinDataModule.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    dm = ProteinDataModule(**defaults)
    assert dm.prepare_config == PrepareConfig()
