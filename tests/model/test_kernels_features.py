"""Random matrices and feature maps: orthogonality, unbiasedness, variance, stabilisers."""

from __future__ import annotations

import math

import pytest
import torch

from protein_performer.model import kernels as K
from protein_performer.model.kernels.favor_plus_plus import (
    favor_plus_plus_features,
    oprf_coefficient,
)

pytestmark = pytest.mark.usefixtures("single_thread")


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _qk(seed: int, length: int, head_dim: int, logit_std: float, dtype=torch.float64):
    """q, k [1, 1, L, D] whose logits q·k/sqrt(D) have standard deviation `logit_std`."""
    g = _gen(seed)
    scale = math.sqrt(logit_std)
    q = torch.randn(1, 1, length, head_dim, generator=g, dtype=dtype) * scale
    k = torch.randn(1, 1, length, head_dim, generator=g, dtype=dtype) * scale
    return q, k


def test_orthogonal_blocks_are_orthogonal_with_chosen_norms():
    w = K.orthogonal_gaussian_matrix(40, 16, generator=_gen(0), row_norms="sqrt-d")
    assert w.shape == (40, 16)
    torch.testing.assert_close(w.norm(dim=1), torch.full((40,), 4.0, dtype=torch.float64))
    for start in (0, 16):  # two full blocks of 16 mutually orthogonal rows
        block = w[start : start + 16]
        torch.testing.assert_close(block @ block.T, 16 * torch.eye(16, dtype=torch.float64))
    chi = K.orthogonal_gaussian_matrix(2048, 16, generator=_gen(1), row_norms="chi")
    # chi(16) norms: E‖w‖² = 16, and they vary (unlike sqrt-d).
    assert abs(chi.pow(2).sum(1).mean().item() - 16) < 0.5
    assert chi.norm(dim=1).std() > 0.3


def test_projection_is_reproducible_from_seed():
    a = K.draw_projection(32, 8, generator=_gen(7))
    b = K.draw_projection(32, 8, generator=_gen(7))
    c = K.draw_projection(32, 8, generator=_gen(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert K.draw_projection(32, 8, orthogonal=False, generator=_gen(7)).shape == (32, 8)


def test_softmax_features_are_unbiased():
    """Averaged over many draws, raw features reproduce exp(q·k/sqrt(D)) (Lemma 1)."""
    q, k = _qk(0, 6, 8, logit_std=0.25)
    exact = torch.exp(q[0, 0] @ k[0, 0].T / math.sqrt(8))

    def estimate(n_draws: int) -> torch.Tensor:
        # n_draws independent 32-feature draws, stacked: φ·φ over all rows is their mean.
        w = torch.cat(
            [K.draw_projection(32, 8, orthogonal=False, generator=_gen(s)) for s in range(n_draws)]
        )
        phi_q = K.softmax_features(q, w, stabilizer="none")[0, 0]
        return phi_q @ K.softmax_features(k, w, stabilizer="none")[0, 0].T

    single_err = ((estimate(1) - exact).abs() / exact).mean()
    mean_err = ((estimate(400) - exact).abs() / exact).mean()
    assert mean_err < 0.02, mean_err
    assert mean_err < single_err / 5, (mean_err, single_err)  # averaging, not luck


def _attention_rel_err(n_features: int, seed: int, orthogonal: bool, logit_std: float) -> float:
    q, k = _qk(1000 + seed, 64, 16, logit_std)
    v = torch.randn(1, 1, 64, 16, generator=_gen(seed), dtype=torch.float64)
    exact = K.softmax_attention_matrix(q, k, causal=False) @ v
    w = K.draw_projection(n_features, 16, orthogonal=orthogonal, generator=_gen(seed))
    out = K.linear_attention(
        K.softmax_features(q, w, stabilizer="query"), K.softmax_features(k, w, stabilizer="key"), v
    )
    return ((out - exact).norm() / exact.norm()).item()


def test_error_falls_with_number_of_features():
    errs = [
        sum(_attention_rel_err(m, s, True, 0.125) for s in range(12)) / 12 for m in (16, 64, 256)
    ]
    assert errs[0] > errs[1] > errs[2], errs
    assert errs[0] / errs[2] > 3, errs  # 1/sqrt(m) gives 4


def test_orthogonal_features_beat_iid():
    """Theorem 2: orthogonal rows give a lower MSE of the kernel estimate at equal m."""

    def kernel_rel_mse(orthogonal: bool) -> float:
        total = 0.0
        for seed in range(150):
            q, k = _qk(seed, 16, 16, logit_std=0.125)
            w = K.draw_projection(16, 16, orthogonal=orthogonal, generator=_gen(10_000 + seed))
            est = K.softmax_features(q, w, stabilizer="none")[0, 0]
            est = est @ K.softmax_features(k, w, stabilizer="none")[0, 0].T
            exact = torch.exp(q[0, 0] @ k[0, 0].T / 4)
            total += ((est / exact - 1) ** 2).mean().item()
        return total / 150

    # Measured ratio ~0.72-0.76 over disjoint seed sets; 0.9 leaves room for none of them.
    mse_orf, mse_iid = kernel_rel_mse(True), kernel_rel_mse(False)
    assert mse_orf < 0.9 * mse_iid, (mse_orf, mse_iid)


@pytest.mark.parametrize("causal", [False, True])
def test_stabilisers_cancel_exactly(causal):
    q, k = _qk(3, 20, 8, logit_std=1.0)
    v = torch.randn(1, 1, 20, 8, dtype=torch.float64)
    w = K.draw_projection(64, 8, generator=_gen(0))
    attend = K.causal_linear_attention if causal else K.linear_attention
    raw = attend(
        K.softmax_features(q, w, stabilizer="none"), K.softmax_features(k, w, stabilizer="none"), v
    )
    stable = attend(
        K.softmax_features(q, w, stabilizer="query"), K.softmax_features(k, w, stabilizer="key"), v
    )
    torch.testing.assert_close(stable, raw, rtol=1e-10, atol=1e-12)


def test_stabilised_features_are_bounded_for_huge_inputs():
    w = K.draw_projection(64, 16, generator=_gen(0)).float()
    x = torch.randn(1, 2, 50, 16) * 1e3
    phi_q = K.softmax_features(x, w, stabilizer="query")
    phi_k = K.softmax_features(x, w, stabilizer="key")
    assert torch.isfinite(phi_q).all() and torch.isfinite(phi_k).all()
    assert torch.equal(phi_q.amax(-1), torch.ones(1, 2, 50))
    assert phi_k.max() <= 64**-0.5


def test_key_features_do_not_depend_on_other_keys():
    w = K.draw_projection(32, 8, generator=_gen(0))
    k = torch.randn(1, 1, 10, 8, dtype=torch.float64)
    full = K.softmax_features(k, w, stabilizer="key")
    one = K.softmax_features(k[:, :, 4:5] * 1.0, w, stabilizer="key")
    torch.testing.assert_close(full[:, :, 4:5], one)
    k_big = k.clone()
    k_big[:, :, 0] *= 50  # a huge other key must not rescale this one
    torch.testing.assert_close(K.softmax_features(k_big, w, stabilizer="key")[:, :, 4:5], one)


def test_relu_features():
    w = K.draw_projection(32, 8, generator=_gen(0))
    x = torch.randn(2, 3, 5, 8, dtype=torch.float64)
    phi = K.relu_features(x, w)
    assert phi.shape == (2, 3, 5, 32)
    torch.testing.assert_close(phi, torch.relu(x @ w.T * 8**-0.25) + K.RELU_EPSILON)
    det = K.relu_features(x, None)
    assert det.shape == (2, 3, 5, 8)
    torch.testing.assert_close(det, torch.relu(x * 8**-0.25) + K.RELU_EPSILON)


def test_features_are_float32_under_autocast():
    w = K.draw_projection(16, 8, generator=_gen(0)).float()
    x = torch.randn(1, 1, 4, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert K.softmax_features(x.bfloat16(), w, stabilizer="key").dtype == torch.float32
        assert K.relu_features(x.bfloat16(), w).dtype == torch.float32


def test_favor_plus_plus_is_unbiased_for_fixed_coefficient():
    """GERF with B² = 1 − 4A, C = −1/2: mean of φ(q)·φ(k) is exp(q·k/sqrt(D)) / D_A²."""
    q, k = _qk(0, 5, 8, logit_std=0.25)
    exact = torch.exp(q[0, 0] @ k[0, 0].T / math.sqrt(8))
    w = torch.cat(
        [K.draw_projection(32, 8, orthogonal=False, generator=_gen(s)) for s in range(400)]
    )
    a = -0.05
    phi_q, phi_k = favor_plus_plus_features(q, k, w, stabilize=False, coefficient=a)
    d_a = (1 - 4 * a) ** (8 / 4)
    est = (phi_q[0, 0] @ phi_k[0, 0].T) * d_a**2
    assert ((est - exact).abs() / exact).mean() < 0.02


def test_favor_plus_plus_coefficient_and_error():
    # ρ = 0 gives A* = 0 (FAVOR+); larger inputs give A* < 0.
    zeros = torch.zeros(1, 1, 4, 8, dtype=torch.float64)
    assert oprf_coefficient(zeros, zeros).item() == 0.0
    q, k = _qk(1, 64, 16, logit_std=0.5)
    assert oprf_coefficient(q / 2, k / 2).item() < 0
    # Lower attention error than FAVOR+ with the same projections, averaged over seeds.
    v = torch.randn(1, 1, 64, 16, generator=_gen(2), dtype=torch.float64)
    exact = K.softmax_attention_matrix(q, k, causal=False) @ v
    err_plus = err_pp = 0.0
    for seed in range(20):
        w = K.draw_projection(64, 16, generator=_gen(seed))
        plus = K.linear_attention(
            K.softmax_features(q, w, stabilizer="query"),
            K.softmax_features(k, w, stabilizer="key"),
            v,
        )
        pp = K.linear_attention(*favor_plus_plus_features(q, k, w), v)
        err_plus += ((plus - exact).norm() / exact.norm()).item()
        err_pp += ((pp - exact).norm() / exact.norm()).item()
    assert err_pp < err_plus, (err_pp, err_plus)
