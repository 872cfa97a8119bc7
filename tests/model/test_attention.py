"""SelfAttention: the module contract other layers code against."""

from __future__ import annotations

import itertools

import pytest
import torch

from protein_performer.model.attention import SelfAttention

pytestmark = pytest.mark.usefixtures("single_thread")


KINDS = ["favor-softmax", "favor-relu", "exact"]
ALL = list(itertools.product(KINDS, [False, True]))


def _module(kind, causal, dtype=torch.float64, **kw) -> SelfAttention:
    torch.manual_seed(0)
    return SelfAttention(32, 4, kind=kind, causal=causal, n_features=32, chunk_size=4, **kw).to(
        dtype
    )


def _x(b=2, length=11, dtype=torch.float64, seed=1):
    return torch.randn(b, length, 32, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_parameters_identical_across_kinds_and_weights_transfer():
    mods = {kind: _module(kind, False) for kind in KINDS}
    names = {kind: [n for n, _ in m.named_parameters()] for kind, m in mods.items()}
    assert names["exact"] == names["favor-softmax"] == names["favor-relu"]
    assert set(names["exact"]) == {
        f"{p}.{t}" for p in ("q_proj", "k_proj", "v_proj", "out_proj") for t in ("weight", "bias")
    }
    params = dict(mods["exact"].named_parameters())
    mods["favor-softmax"].load_state_dict(params, strict=False)
    torch.testing.assert_close(mods["favor-softmax"].q_proj.weight, mods["exact"].q_proj.weight)
    assert "projection_MD" in mods["favor-softmax"].state_dict()
    assert mods["favor-softmax"].projection_MD.shape == (32, 8)
    assert "projection_MD" not in mods["exact"].state_dict()
    relu_det = _module("favor-relu", False, relu_projection=False)
    assert relu_det.projection_MD.shape == (0, 8)


def test_redraw_is_explicit_seeded_and_never_in_forward():
    m = _module("favor-softmax", True)
    before = m.projection_MD.clone()
    x = _x()
    y1 = m(x)
    m.train()
    y2 = m(x)
    assert torch.equal(m.projection_MD, before) and torch.equal(y1, y2)
    m.redraw_features(torch.Generator().manual_seed(3))
    first = m.projection_MD.clone()
    assert not torch.equal(first, before)
    m.redraw_features(torch.Generator().manual_seed(3))
    assert torch.equal(m.projection_MD, first)
    assert not torch.allclose(m(x), y1)
    restored = _module("favor-softmax", True)
    restored.load_state_dict(m.state_dict())
    torch.testing.assert_close(restored(x), m(x))


@pytest.mark.parametrize("kind,causal", ALL)
def test_attention_matrix_is_what_forward_applies(kind, causal):
    m = _module(kind, causal)
    x = _x()
    pad = torch.zeros(2, 11, dtype=torch.bool)
    pad[1, 8:] = True
    a = m.attention_matrix(x, pad)
    assert a.shape == (2, 4, 11, 11)
    torch.testing.assert_close(a.sum(-1), torch.ones(2, 4, 11, dtype=torch.float64))
    assert (a[1, :, :8, 8:] == 0).all()
    if causal:
        assert (a.triu(1) == 0).all()
    _, _, v = m.project_qkv(x)
    torch.testing.assert_close(m.merge_heads_and_project(a @ v), m(x, pad))


@pytest.mark.parametrize("kind", KINDS)
def test_causal_module_is_strictly_causal(kind):
    m = _module(kind, True)
    x = _x()
    x2 = x.clone()
    x2[:, 6:] += 10 * torch.randn_like(x2[:, 6:])
    y, y2 = m(x), m(x2)
    torch.testing.assert_close(y2[:, :6], y[:, :6])
    assert not torch.allclose(y2[:, 6:], y[:, 6:])


@pytest.mark.parametrize("kind,causal", ALL)
def test_padding_invariance(kind, causal):
    """Appending pads (with arbitrary content) leaves outputs at real positions unchanged."""
    m = _module(kind, causal)
    x = _x(b=1, length=7)
    y = m(x)
    padded = torch.cat([x, 100 * _x(b=1, length=5, seed=9)], dim=1)
    pad = torch.arange(12)[None] >= 7
    torch.testing.assert_close(m(padded, pad)[:, :7], y)
    if causal:  # left padding: real tokens come after the pads and must ignore them
        left = torch.cat([100 * _x(b=1, length=5, seed=9), x], dim=1)
        torch.testing.assert_close(m(left, pad.flip(1))[:, 5:], y)


@pytest.mark.parametrize("kind,causal", ALL)
def test_no_nan_under_bf16_autocast_with_large_inputs(kind, causal):
    m = _module(kind, causal, dtype=torch.float32)
    x = (_x(dtype=torch.float32) * 300).requires_grad_()
    pad = torch.zeros(2, 11, dtype=torch.bool)
    pad[0, 9:] = True
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = m(x, pad)
    assert torch.isfinite(y).all()
    y.float().square().mean().backward()
    assert torch.isfinite(x.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in m.parameters())


@pytest.mark.parametrize("kind,causal", ALL)
def test_backward_inside_cpu_autocast_runs_and_matches_backward_outside(kind, causal):
    """On the CPU the backward runs on the caller's thread, under the caller's autocast: the
    causal kernel's hand-written backward must not break there, and the gradients agree with a
    backward outside autocast up to the bf16 rounding of the other ops' backward."""
    grads = []
    for inside in (False, True):
        m = _module(kind, causal, dtype=torch.float32)
        x = _x(dtype=torch.float32).requires_grad_()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = m(x).float().square().mean()
            if inside:
                loss.backward()
        if not inside:
            loss.backward()
        grads.append([x.grad, *(p.grad for p in m.parameters())])
    for outside_grad, inside_grad in zip(*grads, strict=True):
        torch.testing.assert_close(
            inside_grad, outside_grad, rtol=0.0, atol=3e-2 * outside_grad.abs().max().item()
        )


@pytest.mark.parametrize("kind", ["favor-softmax", "favor-relu"])
def test_token_by_token_recurrence_matches_causal_forward(kind):
    """The public pieces give a decodable recurrence: S += φ(k) vᵀ, z += φ(k)."""
    m = _module(kind, True)
    x = _x()
    q, k, v = m.project_qkv(x)
    phi_k = m.feature_map(k, is_query=False)
    state = torch.zeros(2, 4, phi_k.shape[-1], 8, dtype=torch.float64)
    norm = torch.zeros(2, 4, phi_k.shape[-1], dtype=torch.float64)
    outs = []
    for t in range(11):
        step_k = m.feature_map(k[:, :, t : t + 1], is_query=False)[:, :, 0]
        torch.testing.assert_close(step_k, phi_k[:, :, t])  # no dependence on other keys
        state += step_k[..., None] * v[:, :, t, None, :]
        norm += step_k
        step_q = m.feature_map(q[:, :, t : t + 1], is_query=True)[:, :, 0]
        num = torch.einsum("bhm,bhmd->bhd", step_q, state)
        outs.append(num / torch.einsum("bhm,bhm->bh", step_q, norm)[..., None])
    y = m.merge_heads_and_project(torch.stack(outs, dim=2))
    torch.testing.assert_close(y, m(x))


def test_feature_map_rejects_exact_and_bad_arguments():
    with pytest.raises(RuntimeError, match="FAVOR"):
        _module("exact", False).feature_map(torch.zeros(1, 4, 2, 8), True)
    with pytest.raises(ValueError, match="kind"):
        SelfAttention(32, 4, kind="linear", causal=False)
    with pytest.raises(ValueError, match="divisible"):
        SelfAttention(30, 4, kind="exact", causal=False)


def test_exact_dropout_only_in_training():
    m = _module("exact", False, dropout=0.5)
    x = _x()
    m.eval()
    torch.testing.assert_close(m(x), m(x))
    m.train()
    assert not torch.allclose(m(x), m(x))


def test_a_new_kind_is_one_class_plus_one_registration(monkeypatch):
    """The seam: a kind registered in `model.attention_kinds` works in the module, the config,
    the L×L matrix and the recurrent decoder, with no kind string compared anywhere else."""
    from protein_performer.model import attention_kinds
    from protein_performer.model.attention_kinds.base import FeatureMapKind
    from protein_performer.model.config import preset
    from protein_performer.model.performer import ProteinPerformer
    from protein_performer.model.recurrent import attention_step, init_layer_state

    class EluPlusOne(FeatureMapKind):  # Katharopoulos et al. 2020: φ(x) = elu(x) + 1
        name = "linear-elu"

        def feature_map(self, layer, x_BHLD, is_query):
            return torch.nn.functional.elu(x_BHLD.float()) + 1

    spec = EluPlusOne()
    monkeypatch.setitem(attention_kinds.REGISTRY, spec.name, spec)
    layer = SelfAttention(32, 4, kind="linear-elu", causal=True).eval()
    x_BLC = torch.randn(2, 7, 32)
    matrix_BHLL = layer.attention_matrix(x_BLC)
    torch.testing.assert_close(matrix_BHLL.sum(-1), torch.ones(2, 4, 7))
    state = init_layer_state(layer, 2, capacity=8, dtype=torch.float32, device="cpu")
    steps = []
    for t in range(7):
        y_B1C, state = attention_step(layer, x_BLC[:, t : t + 1], state)
        steps.append(y_B1C)
    torch.testing.assert_close(torch.cat(steps, dim=1), layer(x_BLC), atol=1e-5, rtol=1e-4)
    model = ProteinPerformer(preset("tiny_l2_d64", attention="linear-elu", objective="causal"))
    assert model(torch.tensor([[2, 5, 6, 3]])).logits_BLV.shape == (1, 4, 30)


def test_kinds_are_declared_once_in_one_order():
    from protein_performer.model.attention import KINDS as module_kinds
    from protein_performer.model.attention_kinds import KINDS
    from protein_performer.model.config import ATTENTION_KINDS

    assert module_kinds is KINDS and ATTENTION_KINDS is KINDS
    assert KINDS == ("favor-relu", "favor-softmax", "exact")
