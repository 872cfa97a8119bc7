from __future__ import annotations

import numpy as np
import pytest
import torch

from protein_performer.constants import AMINO_ACID_IDS, BOS_ID, EOS_ID, PAD_ID
from protein_performer.generation.decoder import generate, prefill
from protein_performer.generation.sample_io import encode_prompt
from protein_performer.generation.sampling import SamplingConfig
from protein_performer.generation.scoring import sequence_log_likelihoods
from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer


def _model(kind: str, eos_bias: float = 0.0, **changes) -> ProteinPerformer:
    torch.manual_seed(0)
    config = preset("tiny_l2_d64", attention=kind, objective="causal", dropout=0.0, **changes)
    model = ProteinPerformer(config).eval()
    with torch.no_grad():
        model.lm_head.bias[EOS_ID] = eos_bias  # a positive bias makes samples end early
    return model


def _generate(model, seed=0, mode="recurrent", prompt="MK", **kw):
    kw = {"num_samples": 6, "max_length": 40, "sampling": SamplingConfig(top_p=0.95), **kw}
    gen = torch.Generator().manual_seed(seed)
    return generate(model, torch.from_numpy(encode_prompt(prompt)), generator=gen, mode=mode, **kw)


def _check_frame(out, prompt_ids: list[int]) -> None:
    allowed = set(AMINO_ACID_IDS)
    for row, finished in zip(out.tokens_BL.tolist(), out.finished_B.tolist(), strict=True):
        assert row[: len(prompt_ids)] == prompt_ids and row[0] == BOS_ID
        body = row[1:]
        end = body.index(EOS_ID) if EOS_ID in body else len([t for t in body if t != PAD_ID])
        assert finished == (EOS_ID in body)
        assert set(body[:end]) <= allowed, body
        assert all(t == PAD_ID for t in body[end + 1 :])


@pytest.mark.parametrize("kind", ["favor-relu", "favor-softmax", "exact"])
def test_samples_are_amino_acids_between_bos_and_eos(kind: str) -> None:
    out = _generate(_model(kind, eos_bias=3.0))
    _check_frame(out, encode_prompt("MK").tolist())
    assert out.finished_B.any()  # the EOS bias makes stopping likely within 40 residues
    lengths = [len(out.residues(r)) for r in range(6)]
    assert all(2 <= n <= 40 for n in lengths)


def test_fixed_seed_gives_same_samples_and_other_seed_differs() -> None:
    model = _model("favor-relu")
    a, b, c = _generate(model, seed=5), _generate(model, seed=5), _generate(model, seed=6)
    assert torch.equal(a.tokens_BL, b.tokens_BL)
    assert not torch.equal(a.tokens_BL[:, :10], c.tokens_BL[:, :10])


@pytest.mark.parametrize("kind", ["favor-softmax", "exact"])
def test_recurrent_and_naive_recomputation_sample_the_same(kind: str) -> None:
    model = _model(kind, eos_bias=1.5).double()
    fast, slow = _generate(model, seed=3), _generate(model, seed=3, mode="naive")
    assert torch.equal(fast.tokens_BL, slow.tokens_BL)


def test_without_eos_every_sample_reaches_max_length() -> None:
    out = _generate(_model("favor-relu", eos_bias=5.0), max_length=25, stop_at_eos=False)
    assert out.tokens_BL.shape == (6, 26) and not out.finished_B.any()
    assert all(len(out.residues(r)) == 25 for r in range(6))


def test_length_limits_are_checked() -> None:
    model = _model("favor-relu", max_len=32)
    with pytest.raises(ValueError, match="max_len=32"):
        _generate(model, max_length=33)
    with pytest.raises(ValueError, match="leaves none"):
        _generate(model, prompt="MKV", max_length=3)


def test_mlm_model_is_refused() -> None:
    model = ProteinPerformer(preset("tiny_l2_d64", objective="mlm")).eval()
    with pytest.raises(ValueError, match="causal"):
        _generate(model)


def test_scores_equal_sum_of_recurrent_log_probs() -> None:
    model = _model("favor-softmax").double()
    framed = [np.array([BOS_ID, 5, 9, 14, 20, EOS_ID]), np.array([BOS_ID, 7, EOS_ID])]
    totals = sequence_log_likelihoods(model, framed, batch_size=2)
    for ids, total in zip(framed, totals, strict=True):
        tokens = torch.as_tensor(ids, dtype=torch.long)[None]
        with torch.no_grad():
            logits, _ = prefill(model, tokens[:, :-1])
        log_probs = torch.log_softmax(logits[0], dim=-1)
        expected = log_probs.gather(-1, tokens[0, 1:, None]).sum().item()
        assert total == pytest.approx(expected, rel=1e-9)
    assert np.all(totals < 0)
