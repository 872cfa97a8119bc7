"""The one right-padder and the `BatchConverter` built on it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from protein_performer.constants import CLS_ID, EOS_ID, PAD_ID
from protein_performer.data.batch_converter import BatchConverter
from protein_performer.data.padding import pad_tokens
from protein_performer.data.tokenizer import Alphabet


def test_rows_are_right_padded_and_the_mask_follows_the_lengths():
    tokens_BL, is_pad_BL = pad_tokens([np.array([5, 6, 7]), np.array([8]), np.array([], int)])
    assert tokens_BL.tolist() == [[5, 6, 7], [8, PAD_ID, PAD_ID], [PAD_ID] * 3]
    assert is_pad_BL.tolist() == [[False] * 3, [False, True, True], [True] * 3]
    assert tokens_BL.dtype == torch.int64 and is_pad_BL.dtype == torch.bool


def test_a_pad_id_inside_a_row_is_not_taken_for_padding():
    _, is_pad_BL = pad_tokens([np.array([5, PAD_ID, 6])])
    assert not is_pad_BL.any()


def test_no_rows_is_an_empty_batch():
    tokens_BL, is_pad_BL = pad_tokens([])
    assert tokens_BL.shape == is_pad_BL.shape == (0, 0)


def test_the_batch_converter_frames_and_pads_through_the_padder():
    alphabet = Alphabet()
    labels, sequences, tokens_BL = BatchConverter(alphabet)([("a", "MKV"), ("b", "M")])
    assert (labels, sequences) == (["a", "b"], ["MKV", "M"])
    expected, _ = pad_tokens([alphabet.encode("MKV"), alphabet.encode("M")])
    assert torch.equal(tokens_BL, expected)
    assert tokens_BL[1].tolist() == [CLS_ID, alphabet.encode("M")[1], EOS_ID, PAD_ID, PAD_ID]
    _, is_pad_BL = BatchConverter(alphabet).pad_batch([("a", "MKV"), ("b", "M")])
    assert torch.equal(is_pad_BL, tokens_BL == PAD_ID)


def test_the_batch_converter_names_a_row_too_long_for_the_model():
    with pytest.raises(ValueError, match="long_one: 5 residues, more than the model's 3"):
        BatchConverter(Alphabet(), max_len=5)([("ok", "MK"), ("long_one", "MKVLA")])
