"""Unit tests of the family alignment data (`data.family`): row splits by name hash, the holdout,
the sequence-weight cache, the two views and the DataModule's split of the rows. The
end-to-end runs of the `family` command are in tests/family."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from protein_performer.constants import CLS_ID, EOS_ID, GAP_ID
from protein_performer.data import family_alignment as family
from protein_performer.data.family import FamilyDataModule
from protein_performer.data.family_alignment import (
    FamilyDataConfig,
    cached_weights,
    held_out_rows,
    row_tokens,
    split_of,
)
from protein_performer.data.msa import read_msa
from protein_performer.data.msa_weights import sequence_weights
from protein_performer.data.tokenizer import Alphabet

ROWS = {
    "AAA_HUMAN/1-8": "MKT-AYIA",
    "AAA_MOUSE/3-10": "MKT-AYIV",
    "BBB_YEAST/1-7": "MRS-G-LA",
    "CCC_ECOLI/2-9": "LKTWAYIA",
    "DDD_BOVIN/5-12": "MKTWAYLA",
}


@pytest.fixture
def alignment(tmp_path) -> Path:
    path = tmp_path / "family.fasta"
    path.write_text("".join(f">{name}\n{row}\n" for name, row in ROWS.items()))
    return path


def test_a_row_keeps_its_split_and_the_shares_follow_the_fractions():
    names = [f"ROW{i}_HUMAN/1-50" for i in range(4000)]
    splits = [split_of(n, 0.1, 0.2) for n in names]
    assert splits == [split_of(n, 0.1, 0.2) for n in names]  # a hash, not a draw
    shares = {s: splits.count(s) / len(names) for s in ("train", "valid", "test")}
    assert shares["valid"] == pytest.approx(0.1, abs=0.02)
    assert shares["test"] == pytest.approx(0.2, abs=0.02)
    assert {split_of(n, 0.0, 0.0) for n in names} == {"train"}


def test_holdout_names_a_row_or_its_entry():
    names = list(ROWS)
    assert held_out_rows(names, ("AAA_HUMAN/1-8",), "f").tolist() == [0]
    assert held_out_rows(names, ("AAA_MOUSE", "DDD_BOVIN"), "f").tolist() == [1, 4]
    with pytest.raises(ValueError, match=r"f: no row named 'NOPE_HUMAN' \(--data.holdout\)"):
        held_out_rows(names, ("AAA_HUMAN", "NOPE_HUMAN"), "f")


@pytest.mark.parametrize(
    ("given", "names"),
    [("BPT1_BOVIN", ("BPT1_BOVIN",)), ("A_HUMAN, B_MOUSE", ("A_HUMAN", "B_MOUSE")),
     (["A_HUMAN"], ("A_HUMAN",)), (None, ()), ("", ())],
)  # fmt: skip
def test_holdout_takes_a_list_or_comma_separated_names(given, names):
    assert FamilyDataConfig(msa="family.a2m", holdout=given).holdout == names


def test_weights_are_cached_per_alignment_and_threshold(alignment, tmp_path, monkeypatch):
    msa = read_msa(alignment)
    cache = tmp_path / "cache"
    first = cached_weights(msa, 0.8, cache)
    np.testing.assert_array_equal(first, sequence_weights(msa.tokens_NC, 0.8))
    assert len(list(cache.glob("weights-*.npy"))) == 1
    # A second call reads the file: computing the weights again would fail here.
    monkeypatch.setattr(family, "sequence_weights", lambda *a: pytest.fail("recomputed"))
    np.testing.assert_array_equal(cached_weights(msa, 0.8, cache), first)
    monkeypatch.undo()
    cached_weights(msa, 0.5, cache)  # another threshold is another entry
    assert len(list(cache.glob("weights-*.npy"))) == 2
    assert not list(cache.glob("*.tmp-*"))  # written whole, then renamed


def test_a_cache_entry_of_the_wrong_shape_is_recomputed(alignment, tmp_path):
    msa = read_msa(alignment)
    cache = tmp_path / "cache"
    cached_weights(msa, 0.8, cache)
    (entry,) = cache.glob("weights-*.npy")
    np.save(entry, np.ones(3))
    np.testing.assert_array_equal(
        cached_weights(msa, 0.8, cache), sequence_weights(msa.tokens_NC, 0.8)
    )


def test_the_aligned_view_frames_columns_and_the_unaligned_drops_gaps(alignment):
    msa = read_msa(alignment)
    aligned = row_tokens(msa, "aligned")
    assert all(len(t) == msa.width + 2 for t in aligned)
    assert aligned[0][0] == CLS_ID and aligned[0][-1] == EOS_ID and aligned[0][4] == GAP_ID
    unaligned = row_tokens(msa, "unaligned")
    alphabet = Alphabet()
    for tokens, row in zip(unaligned, ROWS.values(), strict=True):
        np.testing.assert_array_equal(tokens, alphabet.encode(row.replace("-", "")))


def test_the_datamodule_splits_every_row_once_and_holds_out_by_name(alignment, tmp_path):
    config = FamilyDataConfig(msa=str(alignment), valid_fraction=0.0, test_fraction=0.0,
                              holdout=("CCC_ECOLI",), cache_dir=str(tmp_path / "c"))  # fmt: skip
    dm = FamilyDataModule(config)
    dm.setup()
    assert dm.rows("test").tolist() == [3]
    assert dm.rows("train").tolist() == [0, 1, 2, 4] and dm.rows("valid").size == 0
    assert len(dm.items["train"]) == 4 and len(dm.items["test"]) == 1
    assert dm.neff == pytest.approx(float(dm.weights_N.sum()))


def test_the_loaders_take_the_rows_the_token_cap_allows_for_the_longest_item(alignment, tmp_path):
    # Items are 8 columns + <cls> + <eos> = 10 tokens: a cap of 25 tokens leaves 2 rows a batch.
    config = FamilyDataConfig(msa=str(alignment), valid_fraction=0.0, test_fraction=0.0,
                              holdout=("CCC_ECOLI",), batch_tokens=25,
                              cache_dir=str(tmp_path / "c"))  # fmt: skip
    dm = FamilyDataModule(config, objective="causal")
    dm.setup()
    assert dm.batch_rows == 2
    assert [len(b["tokens"]) for b in dm.train_dataloader()] == [2, 2]
    assert len(next(iter(dm.test_dataloader()[0]))["tokens"]) == 1
