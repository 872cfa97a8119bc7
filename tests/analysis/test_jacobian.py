"""Categorical Jacobian contacts against a slow, loop-by-loop reference on a tiny model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from protein_performer.analysis.contacts import apc
from protein_performer.analysis.jacobian import (
    categorical_jacobian,
    double_centre,
    jacobian_contacts,
)
from protein_performer.constants import CLS_ID, EOS_ID, STANDARD_IDS
from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer


@pytest.fixture(params=["mlm", "causal"])
def tiny_model(request):
    torch.manual_seed(0)
    cfg = preset("tiny_l2_d64", attention="exact", objective=request.param, dropout=0.0)
    return ProteinPerformer(cfg).double().eval()


def reference_contacts(model, tokens, positions):
    """One forward pass per substitution, centring and norms written out as loops."""
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
                    jac[pi, ai, pj, bi] = out[j, b] - base[j, b]
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
