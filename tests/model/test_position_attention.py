"""Position-attention (factored) layers: queries and keys from positions alone, values from
residues; the same map for every sequence, equal in the forward pass and token by token, and a
read-out that finds planted couplings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from protein_performer.analysis.position_attention import (
    coupling_scores,
    position_attention_contacts,
    position_layers,
)
from protein_performer.constants import CLS_ID, EOS_ID, MASK_ID, STANDARD_IDS
from protein_performer.generation.decoder import prefill
from protein_performer.model.attention import SHARED_MAP_MAX_LENGTH, SelfAttention
from protein_performer.model.attention_kinds import KINDS
from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer


def _model(kind: str = "favor-softmax", objective: str = "causal", n: int = 1, **changes):
    config = preset(
        "tiny_l2_d64", attention=kind, objective=objective, position_attention_layers=n,
        dropout=0.0, **changes,
    )  # fmt: skip
    torch.manual_seed(0)
    return ProteinPerformer(config).eval()


@pytest.mark.parametrize("value", [-1, 3])
def test_position_attention_layers_out_of_range_is_refused(value):
    with pytest.raises(ValueError, match="position_attention_layers"):
        preset("tiny_l2_d64", position_attention_layers=value)


@pytest.mark.parametrize("objective", ["causal", "mlm"])
def test_position_layer_map_is_the_same_for_every_sequence(objective):
    model = _model(objective=objective)
    tokens_BL = torch.randint(5, 25, (3, 15))
    with torch.no_grad():
        maps_NBHLL = model.attention_maps(tokens_BL)
    assert position_layers(model) == (0,)
    torch.testing.assert_close(maps_NBHLL[0, 0], maps_NBHLL[0, 1])
    torch.testing.assert_close(maps_NBHLL[0, 0], maps_NBHLL[0, 2])
    # the ordinary layer above it reads the residues, so its maps differ between sequences
    assert (maps_NBHLL[1, 0] - maps_NBHLL[1, 1]).abs().max() > 1e-4


def _outputs_and_grads(model, tokens_BL, is_pad_BL=None):
    logits_BLV = model(tokens_BL, is_pad_BL).logits_BLV
    grads = torch.autograd.grad(logits_BLV.square().sum(), list(model.parameters()))
    return logits_BLV, grads


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("objective", ["causal", "mlm"])
def test_shared_map_equals_the_kernel_in_outputs_and_gradients(kind, objective, monkeypatch):
    model = _model(kind=kind, objective=objective).double().train()
    tokens_BL = torch.randint(5, 25, (4, 17))
    calls = []
    shared = SelfAttention.attend_shared
    monkeypatch.setattr(
        SelfAttention, "attend_shared", lambda self, *a: calls.append(1) or shared(self, *a)
    )
    logits_BLV, grads = _outputs_and_grads(model, tokens_BL)
    assert calls == [1]  # the position layer took the shared map, the other layer did not
    monkeypatch.setattr(SelfAttention, "shares_map", lambda self, *a: False)
    kernel_BLV, kernel_grads = _outputs_and_grads(model, tokens_BL)
    torch.testing.assert_close(logits_BLV, kernel_BLV, atol=1e-12, rtol=1e-10)
    for grad, kernel_grad in zip(grads, kernel_grads, strict=True):
        torch.testing.assert_close(grad, kernel_grad, atol=1e-12, rtol=1e-10)


def test_padding_and_long_inputs_use_the_kernel():
    layer = _model().blocks[0].attention
    x_BLC, qk_1LC = torch.zeros(2, 9, 64), torch.zeros(1, 9, 64)
    assert layer.shares_map(x_BLC, None, qk_1LC)
    assert not layer.shares_map(x_BLC, torch.zeros(2, 9, dtype=torch.bool), qk_1LC)
    assert not layer.shares_map(x_BLC, None, qk_1LC.expand(2, -1, -1))  # one source per row
    assert not layer.shares_map(x_BLC, None, None)  # ordinary attention
    long_BLC = torch.zeros(1, SHARED_MAP_MAX_LENGTH + 1, 64)
    assert not layer.shares_map(long_BLC, None, long_BLC)


def test_padded_batches_match_their_unpadded_rows():
    model = _model().double()
    tokens_BL = torch.randint(5, 25, (2, 11))
    padded_BL = torch.cat([tokens_BL, torch.zeros(2, 3, dtype=torch.long)], dim=1)
    is_pad_BL = torch.zeros(padded_BL.shape, dtype=torch.bool)
    is_pad_BL[:, 11:] = True
    with torch.no_grad():
        plain_BLV = model(tokens_BL).logits_BLV  # the shared map
        padded_BLV = model(padded_BL, is_pad_BL).logits_BLV  # the kernel, pad keys removed
    torch.testing.assert_close(padded_BLV[:, :11], plain_BLV, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("kind", KINDS)
def test_token_by_token_decoding_equals_the_forward_pass(kind):
    model = _model(kind=kind, n=2)
    tokens_BL = torch.randint(5, 25, (2, 13))
    with torch.no_grad():
        full_BLV = model(tokens_BL).logits_BLV
        stepped_BLV, _ = prefill(model, tokens_BL)
    torch.testing.assert_close(stepped_BLV, full_BLV, atol=2e-5, rtol=1e-4)


def test_position_layers_change_nothing_when_absent():
    torch.manual_seed(0)
    plain = ProteinPerformer(preset("tiny_l2_d64"))
    torch.manual_seed(0)
    zero = ProteinPerformer(preset("tiny_l2_d64", position_attention_layers=0))
    assert plain.state_dict().keys() == zero.state_dict().keys()
    assert not position_layers(zero)
    with pytest.raises(ValueError, match="no position-attention layer"):
        position_attention_contacts(zero, 10, np.arange(1, 9))


def test_causal_read_out_moves_rows_to_the_token_they_predict():
    causal = _model(objective="causal")
    scores_LL = coupling_scores(causal, 9)
    assert np.all(scores_LL[0] == 0)  # no token predicts <cls>
    assert np.all(np.triu(scores_LL, 1) == 0)  # token t + 1 is coupled to keys s <= t only
    assert scores_LL[1, 0] > 0


def _coupled_columns(n_rows: int, length: int, pairs, generator) -> torch.Tensor:
    """Aligned-like rows over residue tokens: each planted pair (i, j) holds the same residue,
    every other column is uniform noise."""
    residues = torch.tensor(STANDARD_IDS)
    tokens = residues[torch.randint(0, 20, (n_rows, length), generator=generator)]
    for i, j in pairs:
        tokens[:, j] = tokens[:, i]
    cls = torch.full((n_rows, 1), CLS_ID, dtype=torch.long)
    eos = torch.full((n_rows, 1), EOS_ID, dtype=torch.long)
    return torch.cat([cls, tokens, eos], dim=1)


def test_training_recovers_planted_couplings_from_the_position_layer():
    generator = torch.Generator().manual_seed(0)
    length, pairs = 16, [(1, 9), (3, 14), (5, 11)]
    model = _model(kind="exact", objective="mlm", n=1, n_layers=1)
    model.train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        tokens_BL = _coupled_columns(64, length, pairs, generator)
        masked_BL = tokens_BL.clone()
        hide_BL = torch.rand(tokens_BL.shape, generator=generator) < 0.2
        hide_BL[:, [0, -1]] = False
        masked_BL[hide_BL] = MASK_ID
        logits_BLV = model(masked_BL).logits_BLV
        loss = torch.nn.functional.cross_entropy(logits_BLV[hide_BL], tokens_BL[hide_BL])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    scores_PP = position_attention_contacts(model, length + 2, np.arange(1, length + 1))
    upper = np.triu_indices(length, 1)
    top = np.argsort(scores_PP[upper])[::-1][: len(pairs)]
    found = {(int(upper[0][k]), int(upper[1][k])) for k in top}
    assert found == set(pairs)
