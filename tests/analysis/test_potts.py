"""The pseudo-likelihood Potts model: objective, gradient, recovery of planted couplings, ΔE."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from protein_performer.analysis.dms import Variant
from protein_performer.analysis.mutations import Mutation
from protein_performer.analysis.potts import (
    GAP_STATE,
    GRADIENT_BLOCK_ROWS,
    N_STATES,
    CouplingFields,
    PottsConfig,
    PottsModel,
    StateRows,
    block_mask,
    fit_states,
    objective,
    symmetric_couplings,
    token_states,
)
from protein_performer.analysis.potts_readouts import potts_contacts, potts_scores, zero_sum_gauge
from protein_performer.analysis.variant_scores import ScoringFrame
from protein_performer.constants import ALIGNED_VOCAB, CLS_ID, EOS_ID, GAP_ID


def _random_problem(seed: int, n_rows: int = 7, n_cols: int = 3, n_states: int = 3):
    rng = np.random.default_rng(seed)
    states = rng.integers(0, n_states, size=(n_rows, n_cols))
    weights = rng.uniform(0.2, 1.0, size=n_rows)
    h = rng.normal(size=(n_cols, n_states))
    free = rng.normal(size=(n_cols * n_states, n_cols * n_states))
    return states, weights, h, free


def _direct_objective(states, weights, h, J_CqCq, lam_h, lam_J):
    """The same objective written as loops over rows, sites and states."""
    n_cols, q = h.shape
    J = J_CqCq.reshape(n_cols, q, n_cols, q)
    total = 0.0
    for x, w in zip(states, weights, strict=True):
        for i in range(n_cols):
            field = [h[i, a] + sum(J[i, a, j, x[j]] for j in range(n_cols) if j != i)
                     for a in range(q)]  # fmt: skip
            total -= w * (field[x[i]] - np.log(np.sum(np.exp(field))))
    pairs = sum((J[i, :, j] ** 2).sum() for i in range(n_cols) for j in range(i + 1, n_cols))
    return (total + lam_h * (h**2).sum() + lam_J * pairs) / weights.sum()


def test_objective_matches_a_direct_loop():
    states, weights, h, free = _random_problem(0)
    mask = block_mask(3, 3, torch.float64)
    J = symmetric_couplings(torch.tensor(free), mask)
    rows = StateRows.of(torch.tensor(states), 3, torch.float64)
    got = objective(torch.tensor(h), J, rows, torch.tensor(weights), 0.3, 0.7)
    want = _direct_objective(states, weights, h, J.numpy(), 0.3, 0.7)
    assert float(got) == pytest.approx(want, rel=1e-12)


def test_gradient_matches_finite_differences():
    states, weights, h0, free0 = _random_problem(1)
    mask = block_mask(3, 3, torch.float64)
    rows = StateRows.of(torch.tensor(states), 3, torch.float64)
    weights_t = torch.tensor(weights)

    def f(h, free):
        return objective(h, symmetric_couplings(free, mask), rows, weights_t, 0.3, 0.7)

    h = torch.tensor(h0, requires_grad=True)
    free = torch.tensor(free0, requires_grad=True)
    f(h, free).backward()
    eps = 1e-6
    for param, grad, shape in ((h0, h.grad, h0.shape), (free0, free.grad, free0.shape)):
        for flat in range(param.size):
            index = np.unravel_index(flat, shape)
            up, down = param.copy(), param.copy()
            up[index] += eps
            down[index] -= eps
            if param is h0:
                diff = f(torch.tensor(up), torch.tensor(free0)) - f(
                    torch.tensor(down), torch.tensor(free0)
                )
            else:
                diff = f(torch.tensor(h0), torch.tensor(up)) - f(
                    torch.tensor(h0), torch.tensor(down)
                )
            assert float(grad[index]) == pytest.approx(float(diff) / (2 * eps), abs=1e-7)


@pytest.mark.parametrize("n_rows", [1, GRADIENT_BLOCK_ROWS, 2 * GRADIENT_BLOCK_ROWS + 3])
def test_the_block_sparse_coupling_gradient_is_embedding_bags_own(n_rows):
    rng = np.random.default_rng(n_rows)
    n_cols, n_states = 5, 4
    rows = StateRows.of(
        torch.tensor(rng.integers(0, n_states, size=(n_rows, n_cols))), n_states, torch.float64
    )
    J = torch.tensor(rng.normal(size=(n_cols * n_states, n_cols * n_states)), requires_grad=True)
    upstream = torch.tensor(rng.normal(size=(n_rows, n_cols * n_states)))
    ours = CouplingFields.apply(J, rows)
    (grad_ours,) = torch.autograd.grad(ours, J, upstream)
    theirs = torch.nn.functional.embedding_bag(rows.flat_NC, J, mode="sum")
    (grad_theirs,) = torch.autograd.grad(theirs, J, upstream)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    torch.testing.assert_close(grad_ours, grad_theirs, rtol=1e-12, atol=1e-12)


def _gibbs_samples(h, J, n_chains, n_sweeps, rng):
    """Rows drawn from P ∝ exp(Σ h + Σ_{i<j} J) by sweeps of single-site Gibbs updates."""
    n_cols, q = h.shape
    x = rng.integers(0, q, size=(n_chains, n_cols))
    for _ in range(n_sweeps):
        for i in range(n_cols):
            field = h[i][None] + sum(J[i, :, j, x[:, j]] for j in range(n_cols) if j != i)
            p = np.exp(field - field.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            u = rng.random((n_chains, 1))
            x[:, i] = (p.cumsum(1) < u).sum(1).clip(max=q - 1)
    return x


def test_planted_couplings_are_the_top_contacts():
    rng = np.random.default_rng(2)
    n_cols, q = 10, 4
    planted = [(0, 7), (2, 5), (3, 9)]
    J = np.zeros((n_cols, q, n_cols, q))
    for i, j in planted:
        block = zero_sum_gauge(rng.normal(scale=1.2, size=(1, q, 1, q)))[0, :, 0]
        J[i, :, j], J[j, :, i] = block, block.T
    h = 0.3 * rng.normal(size=(n_cols, q))
    states = _gibbs_samples(h, J, n_chains=2000, n_sweeps=40, rng=rng)
    config = PottsConfig(lambda_h=0.01, lambda_J=0.01, max_iterations=50, dtype="float64")
    model = fit_states(states, np.ones(len(states)), q, config)
    scores = potts_contacts(model, exclude_state=None)
    upper = [(scores[i, j], (i, j)) for i in range(n_cols) for j in range(i + 1, n_cols)]
    top = {pair for _, pair in sorted(upper, reverse=True)[: len(planted)]}
    assert top == set(planted)
    # The strongest planted coupling is recovered in shape, not only in rank.
    i, j = planted[0]
    fitted = zero_sum_gauge(model.J_CqCq)[i, :, j]
    assert np.corrcoef(fitted.ravel(), J[i, :, j].ravel())[0, 1] > 0.9
    assert model.iterations >= 1 and model.seconds > 0


def test_duplicate_rows_fit_like_one_row_with_their_weight():
    states, weights, _, _ = _random_problem(3, n_rows=5)
    config = PottsConfig(max_iterations=30, dtype="float64")
    doubled = fit_states(np.concatenate([states, states[:2]]),
                         np.concatenate([weights, weights[:2]]), 3, config)  # fmt: skip
    merged = fit_states(states, weights * np.array([2, 2, 1, 1, 1]), 3, config)
    np.testing.assert_allclose(doubled.J_CqCq, merged.J_CqCq, atol=1e-6)
    np.testing.assert_allclose(doubled.h_Cq, merged.h_Cq, atol=1e-6)


def test_token_states_put_gaps_and_rare_letters_last():
    tokens = np.array([[ALIGNED_VOCAB["A"], ALIGNED_VOCAB["Y"], GAP_ID, ALIGNED_VOCAB["X"]]])
    assert token_states(tokens).tolist() == [[0, 19, GAP_STATE, GAP_STATE]]


def _hand_model():
    """Three columns, q = 21, a few non-zero parameters with easy values."""
    rng = np.random.default_rng(4)
    h = rng.normal(size=(3, N_STATES))
    J = np.zeros((3, N_STATES, 3, N_STATES))
    for i, j in ((0, 1), (0, 2), (1, 2)):
        block = rng.normal(size=(N_STATES, N_STATES))
        J[i, :, j], J[j, :, i] = block, block.T
    return PottsModel(h, J, neff=1.0, iterations=0, evaluations=0, seconds=0.0, objective=0.0)


def test_delta_energy_of_a_single_and_a_double_mutant_by_hand():
    model = _hand_model()
    h, J = model.h_Cq, model.J_CqCq
    a, c, d, g, w = (token_states(np.array([ALIGNED_VOCAB[x]]))[0] for x in "ACDGW")
    # Wild type ACD on columns 0, 1, 2 (token index = column + 1).
    frame = ScoringFrame(
        np.array([CLS_ID, ALIGNED_VOCAB["A"], ALIGNED_VOCAB["C"], ALIGNED_VOCAB["D"], EOS_ID]),
        np.array([1, 2, 3]),
    )
    single = Variant("C2G", 0.0, (Mutation("C", 1, "G"),), 1)
    double = Variant("A1W:D3G", 0.0, (Mutation("A", 0, "W"), Mutation("D", 2, "G")), 2)
    want_single = h[1, g] - h[1, c] + J[0, a, 1, g] - J[0, a, 1, c] + J[1, g, 2, d] - J[1, c, 2, d]
    want_double = (
        h[0, w] - h[0, a] + h[2, g] - h[2, d]
        + J[0, w, 1, c] - J[0, a, 1, c]
        + J[1, c, 2, g] - J[1, c, 2, d]
        + J[0, w, 2, g] - J[0, a, 2, d]
    )  # fmt: skip
    got = potts_scores(model, frame, [single, double])
    np.testing.assert_allclose(got, [want_single, want_double], rtol=1e-12)


def test_variants_off_the_columns_are_unscorable():
    model = _hand_model()
    frame = ScoringFrame(
        np.array([CLS_ID, ALIGNED_VOCAB["A"], ALIGNED_VOCAB["C"], ALIGNED_VOCAB["D"], EOS_ID]),
        np.array([1, -1, 3]),
    )
    variants = [Variant("C2G", 0.0, (Mutation("C", 1, "G"),), 1),
                Variant("A1A", 0.0, (), 2)]  # fmt: skip
    got = potts_scores(model, frame, variants)
    assert np.isnan(got[0]) and got[1] == 0.0


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="lambdas"):
        PottsConfig(lambda_J=-1.0)
    with pytest.raises(ValueError, match="states must lie"):
        fit_states(np.array([[0, 5]]), np.ones(1), 3)
