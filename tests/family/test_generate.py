"""Sampling family members: the recurrent decoder against the full-forward reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from protein_performer.constants import ALIGNED_VOCAB_SIZE
from protein_performer.family.generate import COLUMN_IDS, sample_aligned
from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer

pytestmark = pytest.mark.usefixtures("single_thread")


def _model(causal: bool = True) -> ProteinPerformer:
    torch.manual_seed(0)
    cfg = preset("tiny_l2_d64", attention="favor-softmax", objective="causal" if causal else "mlm",
                 vocab_size=ALIGNED_VOCAB_SIZE, max_len=14, dropout=0.0)  # fmt: skip
    return ProteinPerformer(cfg).eval()


def test_recurrent_samples_equal_the_full_forward_reference():
    model = _model()
    fast = sample_aligned(model, 16, 12, seed=3)
    slow = sample_aligned(model, 16, 12, seed=3, mode="naive")
    assert fast.shape == (16, 12) and fast.dtype == np.int8
    np.testing.assert_array_equal(fast, slow)
    assert set(np.unique(fast)) <= set(COLUMN_IDS)
    assert not np.array_equal(fast, sample_aligned(model, 16, 12, seed=4))


def test_sampling_refuses_a_masked_model():
    with pytest.raises(ValueError, match="causal model of the aligned view"):
        sample_aligned(_model(causal=False), 2, 12)
