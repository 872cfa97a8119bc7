"""ProteinPerformer: shapes, causality, padding invariance, tying, feature redraw, maps."""

from __future__ import annotations

import pytest
import torch

from protein_performer.constants import CLS_ID, EOS_ID, PAD_ID
from protein_performer.model.config import ATTENTION_KINDS, preset
from protein_performer.model.performer import PerformerOutput, ProteinPerformer

ATOL = 2e-5


def make(kind: str = "favor-relu", objective: str = "mlm", **changes) -> ProteinPerformer:
    torch.manual_seed(0)
    cfg = preset("tiny_l2_d64", attention=kind, objective=objective, dropout=0.0, **changes)
    return ProteinPerformer(cfg).eval()


def random_tokens(batch: int, length: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(5, 25, (batch, length), generator=g)
    tokens[:, 0], tokens[:, -1] = CLS_ID, EOS_ID
    return tokens


@pytest.mark.parametrize("objective", ["mlm", "causal"])
@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_shapes(kind, objective):
    model = make(kind, objective)
    tokens = random_tokens(3, 17)
    out = model(tokens, output_hidden_states=True)
    assert isinstance(out, PerformerOutput)
    assert out.logits_BLV.shape == (3, 17, 30) and out.hidden_BLC.shape == (3, 17, 64)
    assert len(out.hidden_states) == model.config.n_layers + 1
    assert all(h.shape == (3, 17, 64) for h in out.hidden_states)
    assert torch.equal(out.hidden_states[-1], out.hidden_BLC)
    assert model(tokens).hidden_states is None
    maps = model.attention_maps(tokens)
    assert maps.shape == (2, 3, 4, 17, 17)
    torch.testing.assert_close(maps.sum(-1), torch.ones(2, 3, 4, 17), atol=1e-4, rtol=0)


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_causal_future_tokens_never_change_past_logits(kind):
    model = make(kind, "causal")
    tokens = random_tokens(2, 24)
    base = model(tokens).logits_BLV
    for t in (1, 9, 23):
        changed = tokens.clone()
        changed[:, t] = (changed[:, t] - 5 + 7) % 20 + 5
        logits = model(changed).logits_BLV
        torch.testing.assert_close(logits[:, :t], base[:, :t], atol=ATOL, rtol=0)
        assert (logits[:, t] - base[:, t]).abs().max() > 1e-4  # the changed position itself moves
    maps = model.attention_maps(tokens)
    assert torch.all(maps.triu(diagonal=1).abs() < 1e-6)


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_bidirectional_model_does_see_the_future(kind):
    # The counterpart that makes the causality test meaningful: MLM logits see later tokens.
    model = make(kind, "mlm")
    tokens = random_tokens(1, 20)
    changed = tokens.clone()
    changed[0, 15] = (changed[0, 15] - 5 + 3) % 20 + 5
    assert (
        model(changed).logits_BLV[0, :15] - model(tokens).logits_BLV[0, :15]
    ).abs().max() > 1e-5


@pytest.mark.parametrize("objective", ["mlm", "causal"])
@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_padding_invariance(kind, objective):
    model = make(kind, objective)
    short, long = random_tokens(1, 9, seed=2), random_tokens(1, 21, seed=3)
    batch = torch.full((2, 21), PAD_ID)
    batch[0, :9], batch[1] = short[0], long[0]
    is_pad = batch == PAD_ID
    together = model(batch, is_pad).logits_BLV
    torch.testing.assert_close(together[0, :9], model(short).logits_BLV[0], atol=ATOL, rtol=0)
    torch.testing.assert_close(together[1], model(long).logits_BLV[0], atol=ATOL, rtol=0)
    # is_pad defaults to tokens == <pad>.
    torch.testing.assert_close(model(batch).logits_BLV, together, atol=0, rtol=0)
    # Without the mask the pads do leak in, so the test above is not vacuous.
    unmasked = model(batch, torch.zeros_like(is_pad)).logits_BLV
    if objective == "mlm":
        assert (unmasked[0, :9] - together[0, :9]).abs().max() > 1e-5


def test_tied_and_untied_heads():
    tied, untied = make(), make(tie_embeddings=False)
    assert tied.lm_head.weight is tied.token_embedding.weight
    assert untied.lm_head.weight is not untied.token_embedding.weight
    assert untied.num_parameters() - tied.num_parameters() == 30 * 64
    assert torch.all(tied.token_embedding.weight[PAD_ID] == 0)


def test_parameter_names_do_not_depend_on_the_attention_kind():
    names = {k: {n for n, _ in make(k).named_parameters()} for k in ATTENTION_KINDS}
    assert names["favor-relu"] == names["favor-softmax"] == names["exact"]
    block = make().blocks[0]
    for attr in ("ln1", "attention", "ln2", "ff", "dropout"):
        assert hasattr(block, attr)


def test_too_long_input_names_max_len():
    model = make()
    with pytest.raises(ValueError, match="max_len=256"):
        model(random_tokens(1, 257))


@pytest.mark.parametrize("kind", ["favor-relu", "favor-softmax"])
def test_redraw_features_is_seeded_and_changes_outputs(kind):
    a, b = make(kind), make(kind)
    tokens = random_tokens(2, 16)
    before = a(tokens).logits_BLV
    a.redraw_features(torch.Generator().manual_seed(5))
    b.redraw_features(torch.Generator().manual_seed(5))
    after = a(tokens).logits_BLV
    assert (after - before).abs().max() > 1e-6
    torch.testing.assert_close(b(tokens).logits_BLV, after, atol=0, rtol=0)


def test_redraw_is_a_no_op_for_exact_attention():
    model = make("exact")
    tokens = random_tokens(2, 16)
    before = model(tokens).logits_BLV
    model.redraw_features(torch.Generator().manual_seed(5))
    torch.testing.assert_close(model(tokens).logits_BLV, before, atol=0, rtol=0)


def test_attention_maps_use_each_layers_real_input():
    model = make("exact")
    tokens = random_tokens(1, 12)
    maps = model.attention_maps(tokens)
    hidden = model(tokens, output_hidden_states=True).hidden_states
    block = model.blocks[1]
    expected = block.attention.attention_matrix(block.ln1(hidden[1]))
    torch.testing.assert_close(maps[1], expected, atol=1e-6, rtol=0)
    # Exact maps really are what the layer applies: maps @ V reproduces the attention output.
    _, _, v = block.attention.project_qkv(block.ln1(hidden[1]))
    applied = block.attention.merge_heads_and_project(maps[1] @ v)
    torch.testing.assert_close(applied, block.attention(block.ln1(hidden[1])), atol=1e-5, rtol=0)
