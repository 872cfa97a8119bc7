"""Recurrent step functions reproduce the causal forward pass exactly (float64, to rounding)."""

from __future__ import annotations

import pytest
import torch

from protein_performer.model import kernels
from protein_performer.model.attention import SelfAttention
from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer
from protein_performer.model.recurrent import (
    FavorState,
    KVCache,
    attention_step,
    exact_step,
    favor_step,
    init_favor_state,
    init_kv_cache,
    init_layer_state,
    kv_append,
)

CAUSAL_KINDS = ("favor-relu", "favor-softmax", "exact")


pytestmark = pytest.mark.usefixtures("single_thread")


def _tiny_model(kind: str, seed: int = 0) -> ProteinPerformer:
    torch.manual_seed(seed)
    config = preset("tiny_l2_d64", attention=kind, objective="causal", dropout=0.0)
    model = ProteinPerformer(config).double().eval()
    # Larger weights than the init's 0.02 make attention far from uniform, so a wrong state
    # update (a missing token, an off-by-one) changes the logits well above rounding.
    with torch.no_grad():
        for block in model.blocks:
            for proj in (block.attention.q_proj, block.attention.k_proj, block.attention.v_proj):
                proj.weight.normal_(std=0.3)
    return model


def test_favor_step_matches_causal_kernel_with_hand_checkable_case() -> None:
    # Constant features and v = e_t: the causal output at t is the prefix mean of e_1..e_t.
    length, n_features = 4, 3
    phi_BHM = torch.ones(1, 1, n_features, dtype=torch.float64)
    state = init_favor_state(1, 1, n_features, length, dtype=torch.float64, device="cpu")
    for t in range(length):
        v_BHD = torch.eye(length, dtype=torch.float64)[t].view(1, 1, length)
        out_BHD, state = favor_step(state, phi_BHM, phi_BHM, v_BHD)
        expected = torch.zeros(length, dtype=torch.float64)
        expected[: t + 1] = 1.0 / (t + 1)
        torch.testing.assert_close(out_BHD[0, 0], expected, rtol=0, atol=1e-15)


def test_favor_step_equals_chunked_causal_kernel() -> None:
    gen = torch.Generator().manual_seed(1)
    phi_q = torch.rand(2, 3, 37, 8, generator=gen, dtype=torch.float64)
    phi_k = torch.rand(2, 3, 37, 8, generator=gen, dtype=torch.float64)
    v = torch.randn(2, 3, 37, 5, generator=gen, dtype=torch.float64)
    full = kernels.causal_linear_attention(phi_q, phi_k, v, chunk_size=16)
    state = init_favor_state(2, 3, 8, 5, dtype=torch.float64, device="cpu")
    for t in range(37):
        out, state = favor_step(state, phi_q[:, :, t], phi_k[:, :, t], v[:, :, t])
        torch.testing.assert_close(out, full[:, :, t], rtol=1e-12, atol=1e-12)
    assert isinstance(state, FavorState) and state.S_BHMD.shape == (2, 3, 8, 5)


def test_kv_cache_grows_and_older_state_is_unchanged() -> None:
    cache = init_kv_cache(1, 2, 4, capacity=2, dtype=torch.float64, device="cpu")
    keys = torch.randn(5, 1, 2, 4, dtype=torch.float64)
    states = []
    for k in keys:
        cache = kv_append(cache, k, -k)
        states.append(cache)
    assert cache.length == 5 and cache.k_BHSD.shape[2] >= 5
    torch.testing.assert_close(cache.k_BHSD[:, :, :5], keys.permute(1, 2, 0, 3))
    torch.testing.assert_close(states[1].v_BHSD[:, :, :2], -keys[:2].permute(1, 2, 0, 3))
    assert states[1].length == 2 and cache.nbytes == 2 * 5 * 2 * 4 * 8


def test_exact_step_equals_sdpa_causal() -> None:
    gen = torch.Generator().manual_seed(2)
    q, k, v = (torch.randn(2, 2, 9, 4, generator=gen, dtype=torch.float64) for _ in range(3))
    full = kernels.exact_attention(q, k, v, causal=True)
    cache = init_kv_cache(2, 2, 4, capacity=1, dtype=torch.float64, device="cpu")
    for t in range(9):
        out, cache = exact_step(cache, q[:, :, t], k[:, :, t], v[:, :, t])
        torch.testing.assert_close(out, full[:, :, t], rtol=1e-12, atol=1e-12)
    assert isinstance(cache, KVCache) and cache.length == 9


@pytest.mark.parametrize("kind", CAUSAL_KINDS)
def test_attention_step_equals_self_attention_forward(kind: str) -> None:
    torch.manual_seed(3)
    layer = SelfAttention(32, 4, kind=kind, causal=True, n_features=16).double()
    x_BLC = torch.randn(2, 11, 32, dtype=torch.float64)
    full_BLC = layer(x_BLC)
    state = init_layer_state(layer, 2, capacity=4, dtype=torch.float64, device="cpu")
    for t in range(11):
        y_B1C, state = attention_step(layer, x_BLC[:, t : t + 1], state)
        torch.testing.assert_close(y_B1C[:, 0], full_BLC[:, t], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", CAUSAL_KINDS)
def test_recurrent_logits_equal_full_forward_logits(kind: str) -> None:
    from protein_performer.generation.decoder import prefill

    model = _tiny_model(kind)
    tokens_BL = torch.randint(5, 25, (3, 40), generator=torch.Generator().manual_seed(4))
    tokens_BL[:, 0] = 2  # BOS
    with torch.no_grad():
        full_BLV = model(tokens_BL).logits_BLV
        step_BLV, state = prefill(model, tokens_BL, capacity=8)
    assert full_BLV.dtype == torch.float64
    torch.testing.assert_close(step_BLV, full_BLV, rtol=1e-10, atol=1e-10)
    assert state.position == 40
    # The comparison has teeth: dropping the last token from the state changes the logits.
    with torch.no_grad():
        shifted_BLV = model(torch.cat([tokens_BL[:, :1], tokens_BL[:, 2:]], dim=1)).logits_BLV
    assert (shifted_BLV[:, -1] - full_BLV[:, -1]).abs().max() > 1e-4


def test_favor_state_size_does_not_grow_with_length() -> None:
    from protein_performer.generation.decoder import prefill

    for kind, grows in (("favor-softmax", False), ("exact", True)):
        model = _tiny_model(kind)
        tokens = torch.full((1, 64), 5)
        with torch.no_grad():
            _, short = prefill(model, tokens[:, :8])
            _, long = prefill(model, tokens)
        assert (long.nbytes > short.nbytes) is grows


def test_bidirectional_layer_is_refused() -> None:
    layer = SelfAttention(32, 4, kind="favor-relu", causal=False, n_features=16)
    with pytest.raises(ValueError, match="causal"):
        init_layer_state(layer, 1, capacity=4, dtype=torch.float32, device="cpu")
