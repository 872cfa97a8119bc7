"""Categorical Jacobian contacts against a slow, loop-by-loop reference on a tiny model."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from protein_performer.analysis.contacts import apc
from protein_performer.analysis.jacobian import (
    categorical_jacobian,
    contact_map_from_model,
    double_centre,
    jacobian_contacts,
    predicting_tokens,
)
from protein_performer.constants import CLS_ID, EOS_ID, STANDARD_IDS, VOCAB_SIZE
from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer


@pytest.fixture(params=["mlm", "causal"])
def tiny_model(request):
    torch.manual_seed(0)
    cfg = preset("tiny_l2_d64", attention="exact", objective=request.param, dropout=0.0)
    return ProteinPerformer(cfg).double().eval()


def reference_contacts(model, tokens, positions):
    """One forward pass per substitution, centring and norms written out as loops; the
    distribution of token j is read at token j, or at token j − 1 for a causal model."""
    shift = 1 if model.config.causal else 0
    base = model(torch.tensor(tokens)[None]).logits_BLV[0].detach().numpy()
    n, aa = len(positions), list(STANDARD_IDS)
    jac = np.zeros((n, 20, n, 20))
    for pi, i in enumerate(positions):
        for ai, a in enumerate(aa):
            x = list(tokens)
            x[i] = a
            out = model(torch.tensor(x)[None]).logits_BLV[0].detach().numpy()
            for pj, j in enumerate(positions):
                for bi, b in enumerate(aa):
                    jac[pi, ai, pj, bi] = out[j - shift, b] - base[j - shift, b]
    norms = np.zeros((n, n))
    for pi in range(n):
        for pj in range(n):
            block = jac[pi, :, pj, :]
            block = block - block.mean(0, keepdims=True)
            block = block - block.mean(1, keepdims=True)
            norms[pi, pj] = 0.0 if pi == pj else np.sqrt((block**2).sum())
    return jac, apc(norms + norms.T)


def test_jacobian_equals_loop_reference(tiny_model):
    rng = np.random.default_rng(0)
    tokens = [CLS_ID, *rng.choice(STANDARD_IDS, 9).tolist(), EOS_ID]
    positions = np.arange(1, 10)
    jac = categorical_jacobian(tiny_model, np.array(tokens), positions, batch_size=17)
    ref_jac, ref_contacts = reference_contacts(tiny_model, tokens, positions)
    np.testing.assert_allclose(jac, ref_jac, rtol=1e-9, atol=1e-10)
    got = jacobian_contacts(jac)
    np.testing.assert_allclose(got, ref_contacts, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(got, got.T)


def test_double_centre_removes_row_and_column_shifts():
    rng = np.random.default_rng(1)
    jac = rng.normal(size=(3, 20, 3, 20))
    shifted = jac + rng.normal(size=(3, 20, 3, 1)) + rng.normal(size=(3, 1, 3, 20))
    np.testing.assert_allclose(double_centre(shifted), double_centre(jac), atol=1e-12)


def test_contact_benchmark_scores_jacobian_on_test_chains_and_bpti(tiny_checkpoint):
    from protein_performer.analysis.contact_benchmark import run_contact_benchmark
    from protein_performer.analysis.structures import load_bpti, load_ts50
    from protein_performer.model.io import load_model

    chains = sorted(load_ts50(), key=lambda c: c.name)[:3]
    model, bpti = load_model(tiny_checkpoint), load_bpti()
    default = run_contact_benchmark(model, chains, bpti, n_train=2)
    assert "categorical_jacobian" in default.metrics["bpti"]
    assert "categorical_jacobian" not in default.metrics["ts50_test"]
    bench = run_contact_benchmark(model, chains, bpti, n_train=2, ts50_jacobian=True)
    for dataset in ("ts50_test", "bpti", "bpti_mature"):
        ranges = bench.metrics[dataset]["categorical_jacobian"]
        assert all(0.0 <= ranges[r]["P@L"] <= 1.0 for r in ("short", "medium", "long"))
    # Fitting chains get no Jacobian: it needs no training, so it is not computed there.
    assert "categorical_jacobian" not in bench.metrics["ts50_train"]


class _CoupledCausal(torch.nn.Module):
    """A causal stand-in whose distribution of token j (its logits at token j − 1) is a function
    of token `partner[j]` alone: the only couplings are the pairs (partner[j], j)."""

    def __init__(self, partner: dict[int, int], causal: bool = True) -> None:
        super().__init__()
        self.partner = partner
        self.config = SimpleNamespace(causal=causal)

    def forward(self, tokens_BL: torch.Tensor) -> SimpleNamespace:
        batch, length = tokens_BL.shape
        logits_BLV = torch.zeros(batch, length, VOCAB_SIZE, dtype=torch.float64)
        for j, i in self.partner.items():
            logits_BLV[:, j - 1] = torch.nn.functional.one_hot(tokens_BL[:, i], VOCAB_SIZE)
        return SimpleNamespace(logits_BLV=logits_BLV)


def test_causal_jacobian_reads_the_logits_that_predict_each_token():
    rng = np.random.default_rng(2)
    tokens = np.array([CLS_ID, *rng.choice(STANDARD_IDS, 9).tolist(), EOS_ID])
    positions = np.arange(1, 10)
    model = _CoupledCausal({7: 2, 9: 4})
    scores_PP = contact_map_from_model(model, tokens, positions)
    upper = np.triu(scores_PP, 1)
    top = {tuple(int(p) for p in np.unravel_index(k, upper.shape))
           for k in np.argsort(upper, axis=None)[-2:]}  # fmt: skip
    assert top == {(2 - 1, 7 - 1), (4 - 1, 9 - 1)}
    np.testing.assert_array_equal(predicting_tokens(model, positions), positions - 1)
    masked = _CoupledCausal({}, causal=False)
    np.testing.assert_array_equal(predicting_tokens(masked, positions), positions)
    with pytest.raises(ValueError, match="token 0"):
        predicting_tokens(model, np.array([0, 1]))
