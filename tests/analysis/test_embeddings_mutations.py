import numpy as np
import pytest
import torch

from protein_performer.analysis.dms import Variant
from protein_performer.analysis.embeddings import embed_sequences, resolve_layer
from protein_performer.analysis.mutations import apply_mutations, parse_mutations
from protein_performer.analysis.variant_scores import (
    masked_marginals,
    score_variants,
    sequence_scores,
    unaligned_frame,
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


def _variant(text: str):
    return Variant(text, float("nan"), parse_mutations(text, SEQ), 0)


def test_masked_marginals_equal_explicit_masking_and_pll_sums_them():
    model = _model()
    frame = unaligned_frame(SEQ)
    tokens = torch.tensor([[2, *(VOCAB[a] for a in SEQ), 3]])
    masked = tokens.clone()
    masked[0, 3] = MASK_ID  # residue index 2 (T)
    with torch.no_grad():
        direct = torch.log_softmax(model(masked).logits_BLV[0, 3], -1).numpy()
    (score,) = masked_marginals(model, frame, [_variant("T3W")])
    assert score == pytest.approx(direct[VOCAB["W"]] - direct[VOCAB["T"]], abs=1e-5)
    # PLL: every residue masked in turn
    expected = 0.0
    with torch.no_grad():
        for i, a in enumerate(SEQ):
            one = tokens.clone()
            one[0, i + 1] = MASK_ID
            expected += float(torch.log_softmax(model(one).logits_BLV[0, i + 1], -1)[VOCAB[a]])
    (pll,) = sequence_scores(model, [tokens[0].numpy()])
    assert pll == pytest.approx(expected, rel=1e-5)


def test_a_multi_mutant_masks_all_its_positions_together():
    model = _model()
    tokens = torch.tensor([[2, *(VOCAB[a] for a in SEQ), 3]])
    tokens[0, 2] = tokens[0, 4] = MASK_ID  # residues K2 and A4
    with torch.no_grad():
        logp = torch.log_softmax(model(tokens).logits_BLV[0], -1).numpy()
    expected = (logp[2, VOCAB["A"]] - logp[2, VOCAB["K"]]
                + logp[4, VOCAB["G"]] - logp[4, VOCAB["A"]])  # fmt: skip
    (score,) = masked_marginals(model, unaligned_frame(SEQ), [_variant("K2A:A4G")])
    assert score == pytest.approx(expected, abs=1e-5)


def test_causal_models_use_sequence_likelihood():
    causal = _model(objective="causal")
    with pytest.raises(ValueError, match="masked-LM"):
        score_variants(causal, unaligned_frame(SEQ), [_variant("T3W")], "masked-marginals")
    tokens = np.array([2, *(VOCAB[a] for a in SEQ), 3])
    (ll,) = sequence_scores(causal, [tokens])
    with torch.no_grad():
        logp = torch.log_softmax(causal(torch.from_numpy(tokens[None])).logits_BLV[0].double(), -1)
    assert ll == pytest.approx(float(logp[np.arange(len(SEQ) + 1), tokens[1:]].sum()), rel=1e-9)
    with pytest.raises(ValueError, match="causal"):
        score_variants(_model(), unaligned_frame(SEQ), [_variant("T3W")], "causal-llr")
