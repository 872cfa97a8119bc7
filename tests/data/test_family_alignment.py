"""Unit tests of `data.family_alignment.FamilyAlignment` itself, with no Lightning: its config's
checks, the gap filters and the trainability check it applies, the rows and items of each split,
the draw weights and the weighted unigram counts. The helpers it is built from (split hash,
holdout, weight cache, views) are in test_family.py; the `family` command runs it end to end in
tests/family."""

from __future__ import annotations

import numpy as np
import pytest

from protein_performer.constants import ALIGNED_VOCAB_SIZE, EOS_ID, GAP_ID, VOCAB_SIZE
from protein_performer.data.family_alignment import FamilyAlignment, FamilyDataConfig
from protein_performer.data.msa import MSAFormatError
from protein_performer.data.msa_weights import sequence_weights
from protein_performer.data.tokenizer import Alphabet

# Column 3 is a gap in three of the four rows; the last row is half gaps.
ROWS = {
    "AAA_HUMAN/1-5": "MK-AY",
    "AAA_MOUSE/1-5": "MK-AY",
    "BBB_YEAST/1-6": "MRWAY",
    "CCC_ECOLI/1-3": "M--A-",
}


def _write(tmp_path, rows: dict[str, str]):
    path = tmp_path / "family.fasta"
    path.write_text("".join(f">{name}\n{row}\n" for name, row in rows.items()))
    return path


def _alignment(tmp_path, rows=ROWS, **changes) -> FamilyAlignment:
    settings = {"msa": str(_write(tmp_path, rows)), "valid_fraction": 0.0, "test_fraction": 0.0,
                "cache_dir": str(tmp_path / "cache")}  # fmt: skip
    return FamilyAlignment(FamilyDataConfig(**{**settings, **changes}))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"view": "columns"}, "view must be 'aligned' or 'unaligned', got 'columns'"),
        ({"batch_size": 0}, "batch_size must be >= 1, got 0"),
        ({"batch_tokens": 0}, "batch_tokens must be >= 1 or None, got 0"),
        ({"valid_fraction": 0.6, "test_fraction": 0.4}, r"must be in \[0, 1\)"),
    ],
    ids=["view", "batch-size", "batch-tokens", "fractions"],
)
def test_the_config_refuses_a_bad_setting(changes, message):
    with pytest.raises(ValueError, match=message):
        FamilyDataConfig(msa="family.fasta", **changes)


@pytest.mark.parametrize(
    ("batch_size", "batch_tokens", "item_length", "rows"),
    [
        (128, 128 * 84, 84, 128),  # PF00595's 82 columns: the cap is its batch
        (128, 128 * 84, 55, 128),  # shorter items: batch_size bounds the rows
        (128, 128 * 84, 202, 53),  # 200 columns: 10,752 // 202 rows
        (128, 100, 202, 1),  # one row at least
        (128, None, 202, 128),  # no cap
    ],
)
def test_the_token_cap_takes_fewer_rows_of_longer_items(batch_size, batch_tokens, item_length,
                                                         rows):  # fmt: skip
    config = FamilyDataConfig(msa="f", batch_size=batch_size, batch_tokens=batch_tokens)
    assert config.batch_rows(item_length) == rows


def test_the_aligned_view_needs_the_gap_in_its_vocabulary():
    assert FamilyDataConfig(msa="f").vocab_size == ALIGNED_VOCAB_SIZE == VOCAB_SIZE + 1
    assert FamilyDataConfig(msa="f", view="unaligned").vocab_size == VOCAB_SIZE


def test_the_gap_filters_drop_the_gappy_column_then_the_gappy_row(tmp_path):
    alignment = _alignment(tmp_path, max_col_gaps=0.5, max_row_gaps=0.3)
    assert alignment.msa.width == 4  # column 3 is 75 % gaps
    assert list(alignment.msa.names) == ["AAA_HUMAN/1-5", "AAA_MOUSE/1-5", "BBB_YEAST/1-6"]
    assert alignment.weights_N.shape == (3,)
    assert all(len(item) == 4 + 2 for item in alignment.items["train"].tokens)


def test_an_alignment_left_with_one_row_is_refused_before_any_weights(tmp_path):
    with pytest.raises(MSAFormatError, match=r"1 row\(s\); training needs .* at least 2 rows"):
        _alignment(tmp_path, rows={"AAA_HUMAN/1-5": "MKTAY"})


def test_every_row_is_in_one_split_and_its_items_follow_the_row_order(tmp_path):
    alignment = _alignment(tmp_path, holdout=("BBB_YEAST",))
    assert alignment.rows("train").tolist() == [0, 1, 3]
    assert alignment.rows("test").tolist() == [2] and alignment.rows("valid").size == 0
    test_item = alignment.items["test"][0]
    assert test_item["index"] == 0
    np.testing.assert_array_equal(test_item["tokens"][1:-1], alignment.msa.tokens_NC[2])


def test_rows_are_drawn_by_their_weights_or_uniformly(tmp_path):
    weighted = _alignment(tmp_path)
    expected = sequence_weights(weighted.msa.tokens_NC, 0.8)
    np.testing.assert_allclose(weighted.draw_weights(), expected)
    assert weighted.draw_weights()[0] == pytest.approx(0.5)  # two identical rows share one
    assert weighted.neff == pytest.approx(expected.sum())
    uniform = _alignment(tmp_path, weights=False)
    assert uniform.draw_weights().tolist() == [1.0, 1.0, 1.0, 1.0]


def test_the_unigram_counts_are_the_weighted_residues_and_gaps_of_the_training_rows(tmp_path):
    alignment = _alignment(tmp_path, weights=False)
    counts_V = alignment.unigram_counts()
    ids = Alphabet().encode
    assert counts_V.shape == (ALIGNED_VOCAB_SIZE,)
    assert counts_V[ids("M", add_special=False)[0]] == 4
    assert counts_V[ids("Y", add_special=False)[0]] == 3
    assert counts_V[GAP_ID] == 1 + 1 + 3  # the gaps of rows 1, 2 and 4
    assert counts_V.sum() == 4 * 5 and counts_V[EOS_ID] == 0
    assert alignment.unigram_counts(include_eos=True)[EOS_ID] == 4
