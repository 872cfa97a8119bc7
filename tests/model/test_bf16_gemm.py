"""bf16 attention GEMMs: within the stated bound of float64, for outputs, gradients (the causal
kernel's own backward included), modules and the recurrent decoder; off unless asked for."""

from __future__ import annotations

import pytest
import torch

from protein_performer.model import kernels as K
from protein_performer.model.attention import SelfAttention
from protein_performer.model.config import PerformerConfig, preset
from protein_performer.model.kernels.numeric_error import BF16_GEMM_BOUND, path_error
from protein_performer.model.performer import ProteinPerformer
from protein_performer.model.recurrent import attention_step, init_layer_state

pytestmark = pytest.mark.usefixtures("single_thread")
BF16 = torch.bfloat16


def _qkvg(length: int, seed: int = 0, scale: float = 1.0, heads: int = 2, dim: int = 16):
    g = torch.Generator().manual_seed(seed)
    shape = (1, heads, length, dim)
    # bf16 inputs, as autocast hands them over; the float64 reference starts from the same.
    return [(torch.randn(shape, generator=g) * scale).to(BF16) for _ in range(4)]


def _layer(kind: str, causal: bool, bf16_gemm: bool, dtype=torch.float32) -> SelfAttention:
    torch.manual_seed(0)
    layer = SelfAttention(
        32, 2, kind=kind, causal=causal, n_features=64, chunk_size=16, bf16_gemm=bf16_gemm
    )
    return layer.to(dtype)


@pytest.mark.parametrize("kind", ["favor-softmax", "favor-relu"])
@pytest.mark.parametrize("causal", [False, True], ids=["bidirectional", "causal"])
def test_bf16_gemm_path_within_bound_of_float64(kind, causal):
    fast, reference = _layer(kind, causal, True), _layer(kind, causal, False, torch.float64)
    q, k, v, grad = _qkvg(100, seed=1)
    err = path_error(fast.attend, reference.attend, q, k, v, grad)
    assert err.finite and err.worst < BF16_GEMM_BOUND, err
    # The flag really changes the arithmetic: the safe path gives other numbers.
    safe = _layer(kind, causal, False)
    assert not torch.equal(fast.attend(q, k, v), safe.attend(q, k, v))


@pytest.mark.parametrize("causal", [False, True], ids=["bidirectional", "causal"])
def test_flag_is_inert_without_bf16_activations(causal):
    """fp32 activations (no autocast) keep the fp32 GEMMs whatever the flag says."""
    q, k, v, _ = (t.float() for t in _qkvg(40, seed=2))
    on, off = _layer("favor-softmax", causal, True), _layer("favor-softmax", causal, False)
    assert torch.equal(on.attend(q, k, v), off.attend(q, k, v))


def test_causal_prefix_sum_does_not_stall_in_bf16():
    """600 equal keys, one per chunk: a running sum accumulated in bf16 stops growing at 256
    (256 + 1 rounds back to 256), which would turn the mean of v = 1 into 256/i; the chunk
    prefix must accumulate in fp32 (torch's cumsum does) and keep it at 1."""
    length = 600
    phi_BHLM = torch.ones(1, 1, length, 4)
    v_BHLD = torch.ones(1, 1, length, 2)
    out = K.causal_linear_attention(phi_BHLM, phi_BHLM, v_BHLD, chunk_size=1, gemm_dtype=BF16)
    torch.testing.assert_close(out, torch.ones_like(out), rtol=1e-2, atol=0)


@pytest.mark.parametrize("causal", [False, True], ids=["bidirectional", "causal"])
def test_bf16_gemm_padding_and_large_norms_stay_finite(causal):
    layer = _layer("favor-softmax", causal, True)
    x = torch.randn(2, 9, 32, generator=torch.Generator().manual_seed(3)) * 300
    x.requires_grad_()
    pad = torch.zeros(2, 9, dtype=torch.bool)
    pad[0, 6:] = True
    with torch.autocast("cpu", dtype=BF16):
        y = layer(x, pad)
    assert torch.isfinite(y).all()
    y.float().square().mean().backward()
    assert torch.isfinite(x.grad).all()
    # Pad keys are removed from numerator and normaliser: real positions ignore what pads hold.
    x2 = x.detach().clone()
    x2[0, 6:] = 7.0
    with torch.autocast("cpu", dtype=BF16), torch.no_grad():
        y2 = layer(x2, pad)
    torch.testing.assert_close(y2[0, :6], y.detach()[0, :6], rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("kind", ["favor-softmax", "favor-relu"])
def test_recurrent_decoder_agrees_with_bf16_gemm_forward(kind):
    """The decoder keeps its (S, z) sums in fp32; the causal forward under autocast with bf16
    GEMMs must agree with it to within the bound, token by token."""
    layer = _layer(kind, True, True)
    x_BLC = torch.randn(1, 48, 32, generator=torch.Generator().manual_seed(4))
    with torch.autocast("cpu", dtype=BF16), torch.no_grad():
        full_BLC = layer(x_BLC).float()
        state = init_layer_state(layer, 1, capacity=8, dtype=torch.float32, device="cpu")
        steps = []
        for t in range(48):
            y_B1C, state = attention_step(layer, x_BLC[:, t : t + 1], state)
            steps.append(y_B1C.float())
    stepped_BLC = torch.cat(steps, dim=1)
    error = (stepped_BLC - full_BLC).norm() / full_BLC.norm()
    assert error < BF16_GEMM_BOUND


def test_config_field_reaches_every_layer_and_round_trips():
    config = preset("tiny_l2_d64", favor_bf16_gemm=True)
    assert PerformerConfig.from_dict(config.to_dict()) == config
    assert PerformerConfig().favor_bf16_gemm is False  # the safe path is the default
    model = ProteinPerformer(config).eval()
    assert all(block.attention.bf16_gemm for block in model.blocks)
    tokens = torch.randint(5, 25, (2, 20), generator=torch.Generator().manual_seed(5))
    with torch.autocast("cpu", dtype=BF16):
        logits = model(tokens).logits_BLV
    safe = ProteinPerformer(preset("tiny_l2_d64")).eval()
    safe.load_state_dict(model.state_dict())
    with torch.autocast("cpu", dtype=BF16):
        reference = safe(tokens).logits_BLV
    assert torch.isfinite(logits).all()
    torch.testing.assert_close(logits.float(), reference.float(), rtol=5e-2, atol=5e-2)
