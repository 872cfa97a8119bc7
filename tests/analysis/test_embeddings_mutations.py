import numpy as np
import pytest
import torch

from protein_performer.analysis.embeddings import embed_sequences, resolve_layer
from protein_performer.analysis.mutations import (
    apply_mutations,
    masked_log_probs,
    masked_marginal_score,
    parse_mutations,
    pseudo_log_likelihood,
    sequence_log_likelihood,
    single_mutant_scan,
)
from protein_performer.constants import MASK_ID, VOCAB
from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer

SEQ = "MKTAYIAKQRQISFVKSHFSRQ"


def _model(**changes):
    torch.manual_seed(0)
    return ProteinPerformer(preset("tiny_l2_d64", dropout=0.0, **changes)).eval()


def test_embeddings_per_token_and_mean_match_hidden_states():
    model = _model()
    out = embed_sequences(model, [SEQ, SEQ[:7]], layer=1, pooling="per-token", batch_size=2)
    assert [e.per_token_LC.shape for e in out] == [(len(SEQ), 64), (7, 64)]
    np.testing.assert_allclose(out[0].mean_C, out[0].per_token_LC.mean(0), rtol=1e-6)
    # the padded batch member equals the sequence embedded alone
    alone = embed_sequences(model, [SEQ[:7]], layer=1, pooling="per-token")[0]
    np.testing.assert_allclose(alone.per_token_LC, out[1].per_token_LC, atol=1e-5)
    last = embed_sequences(model, [SEQ], layer=-1)[0]
    assert last.layer == 2 and last.per_token_LC is None
    with torch.no_grad():
        tokens = torch.tensor([[2, *(VOCAB[a] for a in SEQ), 3]])
        hidden = model(tokens).hidden_BLC[0, 1:-1].numpy()
    np.testing.assert_allclose(last.mean_C, hidden.mean(0), atol=1e-5)
    with pytest.raises(ValueError, match="out of range"):
        resolve_layer(5, 2)


def test_parse_mutations_checks_wild_type_and_positions():
    muts = parse_mutations("K2A:A4G", SEQ)
    assert [str(m) for m in muts] == ["K2A", "A4G"]
    assert apply_mutations(SEQ, muts)[:4] == "MATG"
    with pytest.raises(ValueError, match="not 'A'"):
        parse_mutations("A2G", SEQ)
    with pytest.raises(ValueError, match="outside"):
        parse_mutations("A99G", SEQ)
    with pytest.raises(ValueError, match="expected"):
        parse_mutations("2G", SEQ)


def test_masked_marginals_equal_explicit_masking_and_pll_sums_them():
    model = _model()
    logp = masked_log_probs(model, SEQ, batch_size=5)
    tokens = torch.tensor([[2, *(VOCAB[a] for a in SEQ), 3]])
    tokens[0, 3] = MASK_ID  # residue index 2 (T)
    with torch.no_grad():
        direct = torch.log_softmax(model(tokens).logits_BLV[0, 3], -1).numpy()
    np.testing.assert_allclose(logp[2], direct, atol=1e-5)
    muts = parse_mutations("T3W", SEQ)
    assert masked_marginal_score(logp, muts) == pytest.approx(
        direct[VOCAB["W"]] - direct[VOCAB["T"]], abs=1e-5
    )
    pll = pseudo_log_likelihood(model, SEQ)
    assert pll == pytest.approx(sum(logp[i, VOCAB[a]] for i, a in enumerate(SEQ)), rel=1e-5)
    scan = single_mutant_scan(logp, SEQ)
    assert scan.shape == (len(SEQ), 20)
    assert scan[2, "ACDEFGHIKLMNPQRSTVWY".index("T")] == 0.0


def test_causal_models_use_sequence_likelihood():
    causal = _model(objective="causal")
    with pytest.raises(ValueError, match="masked-LM"):
        masked_log_probs(causal, SEQ)
    ll = sequence_log_likelihood(causal, SEQ)
    assert np.isfinite(ll) and ll < 0
    with pytest.raises(ValueError, match="causal"):
        sequence_log_likelihood(_model(), SEQ)
