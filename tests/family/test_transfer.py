"""Fine-tuning a family model from a general checkpoint: vocabulary and positions refitted."""

from __future__ import annotations

import pytest
import torch

from protein_performer.constants import ALIGNED_VOCAB_SIZE, AMINO_ACID_IDS, GAP_ID, VOCAB_SIZE
from protein_performer.family.transfer import init_family_from
from protein_performer.model.config import preset
from protein_performer.model.io import load_model
from protein_performer.model.performer import ProteinPerformer


def test_general_checkpoint_grows_into_aligned_family_model(tiny_checkpoint):
    general = load_model(tiny_checkpoint)
    family = ProteinPerformer(
        general.config.replace(vocab_size=ALIGNED_VOCAB_SIZE, max_len=84, objective="causal")
    )
    n = init_family_from(tiny_checkpoint, family)
    assert n == len(list(family.parameters()))
    emb_general = general.token_embedding.weight
    emb_family = family.token_embedding.weight
    assert torch.equal(emb_family[:VOCAB_SIZE], emb_general)
    expected_gap = emb_general[list(AMINO_ACID_IDS)].mean(0)
    torch.testing.assert_close(emb_family[GAP_ID], expected_gap)
    assert torch.equal(family.position_embedding.weight, general.position_embedding.weight[:84])
    blocks = family.state_dict()
    for name, value in general.state_dict().items():
        if "embedding" not in name and "lm_head" not in name:
            assert torch.equal(blocks[name], value), name


def test_other_shape_is_refused(tiny_checkpoint):
    other = ProteinPerformer(preset("family_l4_d64", vocab_size=ALIGNED_VOCAB_SIZE, max_len=84))
    with pytest.raises(ValueError, match="model shape differs"):
        init_family_from(tiny_checkpoint, other)
