"""The maps the analyses read are the matrices the model really applies."""

import numpy as np
import pytest
import torch

from protein_performer.analysis.attention_maps import (
    encode_batch,
    iter_residue_attention,
    residue_attention,
    residue_attention_batch,
)
from protein_performer.analysis.structures import load_bpti
from protein_performer.model import kernels
from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer


def _model(**changes):
    torch.manual_seed(0)
    return ProteinPerformer(preset("tiny_l2_d64", dropout=0.0, **changes)).eval()


@pytest.mark.parametrize(
    ("attention", "objective"),
    [("favor-relu", "mlm"), ("favor-softmax", "mlm"), ("favor-relu", "causal")],
)
def test_favor_maps_are_stochastic_and_match_one_hot_v(attention, objective):
    model = _model(attention=attention, objective=objective)
    tokens_BL, _ = encode_batch([load_bpti().precursor])
    length = tokens_BL.shape[1]
    with torch.no_grad():
        maps_NBHLL = model.attention_maps(tokens_BL)
        x_BLC = model.embed(tokens_BL)
        for layer, block in enumerate(model.blocks):
            attn = block.attention
            x_ln = block.ln1(x_BLC)
            matrix_BHLL = maps_NBHLL[layer]
            torch.testing.assert_close(matrix_BHLL.sum(-1), torch.ones_like(matrix_BHLL[..., 0]))
            assert (matrix_BHLL >= 0).all()
            # One-hot values through the fast (never materialised) kernel give the matrix back.
            q, k, _ = attn.project_qkv(x_ln)
            phi_q, phi_k = attn.feature_map(q, is_query=True), attn.feature_map(k, is_query=False)
            eye_BHLL = torch.eye(length).expand(1, model.config.n_heads, length, length)
            fast = (
                kernels.causal_linear_attention
                if model.config.causal
                else kernels.linear_attention
            )
            rows_BHLL = fast(phi_q, phi_k, eye_BHLL)
            torch.testing.assert_close(rows_BHLL, matrix_BHLL, atol=1e-5, rtol=1e-4)
            if model.config.causal:
                assert torch.count_nonzero(matrix_BHLL.triu(1)) == 0
            # and A @ V is what the layer outputs (before the output projection)
            x_BLC = block(x_BLC)


def test_residue_maps_drop_specials_and_ignore_padding():
    model = _model()
    bpti = load_bpti()
    single = residue_attention(model, bpti.mature.sequence)
    assert single.maps_NHLL.shape == (2, 4, 58, 58)
    assert single.sequence == bpti.mature.sequence
    with torch.no_grad():
        tokens, _ = encode_batch([bpti.mature.sequence])
        full = model.attention_maps(tokens)[:, 0].numpy()
    np.testing.assert_allclose(single.maps_NHLL, full[:, :, 1:59, 1:59])
    # batched with a longer sequence: padding is masked, so the map is unchanged
    batched = residue_attention_batch(model, [bpti.precursor, bpti.mature.sequence])
    np.testing.assert_allclose(batched[1].maps_NHLL, single.maps_NHLL, atol=1e-5)
    assert batched[0].maps_NHLL.shape[-1] == 100
    many = list(iter_residue_attention(model, ["MKV" * 5, bpti.precursor, "ACDE" * 3]))
    assert sorted(len(m.sequence) for m in many) == [12, 15, 100]


def test_long_sequences_are_cropped_to_max_len():
    model = _model()
    att = residue_attention(model, "A" * 400)
    assert att.maps_NHLL.shape[-1] == model.config.max_len - 2
