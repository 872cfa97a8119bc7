"""Learning-rate schedule, and weight transfer between attention kinds (paper §4.3)."""

from __future__ import annotations

import pytest
import torch

from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer
from protein_performer.training.checkpoint import transfer_weights
from protein_performer.training.lr_schedule import lr_factor


def test_linear_warmup_then_decay():
    assert lr_factor(0, 10, 100, "constant", 0.1) == pytest.approx(0.1)
    assert lr_factor(9, 10, 100, "constant", 0.1) == 1.0
    assert lr_factor(50, 10, 100, "constant", 0.1) == 1.0
    assert lr_factor(100, 10, 100, "linear", 0.1) == pytest.approx(0.1)
    assert lr_factor(55, 10, 100, "linear", 0.1) == pytest.approx(0.55)
    assert lr_factor(100, 10, 100, "cosine", 0.0) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="decay"):
        lr_factor(50, 10, 100, "step", 0.1)


def test_a_run_bounded_by_time_decays_by_its_own_progress():
    # total_steps is unknown (0): the progress fraction drives the decay after warm-up.
    assert lr_factor(1, 4, 0, "cosine", 0.1) == pytest.approx(0.5)
    assert lr_factor(50, 4, 0, "cosine", 0.1, progress=0.0) == pytest.approx(1.0)
    assert lr_factor(50, 4, 0, "cosine", 0.1, progress=0.5) == pytest.approx(0.55)
    assert lr_factor(50, 4, 0, "cosine", 0.1, progress=2.0) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("source_kind", "target_kind"),
    [("exact", "favor-relu"), ("favor-relu", "exact"), ("favor-softmax", "favor-relu")],
)
def test_every_parameter_transfers_between_kinds(source_kind, target_kind):
    torch.manual_seed(0)
    source = ProteinPerformer(preset("tiny_l2_d64", attention=source_kind))
    torch.manual_seed(1)
    target = ProteinPerformer(preset("tiny_l2_d64", attention=target_kind))
    projections_before = {
        k: v.clone() for k, v in target.state_dict().items() if "projection" in k
    }
    report = transfer_weights(source.state_dict(), target)
    source_params = dict(source.named_parameters())
    for name, param in target.named_parameters():
        assert torch.equal(param, source_params[name]), name
    assert set(report.parameters) == set(source_params)
    for name, before in projections_before.items():
        after = target.state_dict()[name]
        if source_kind == "exact":
            assert torch.equal(after, before) and name in report.buffers_kept
        else:
            assert torch.equal(after, source.state_dict()[name]) and name in report.buffers_copied
    assert target.lm_head.weight is target.token_embedding.weight


def test_transfer_refuses_a_different_shape():
    small = ProteinPerformer(preset("tiny_l2_d64"))
    wide = ProteinPerformer(preset("tiny_l2_d64", d_ff=256))
    with pytest.raises(ValueError, match="fc_in.weight"):
        transfer_weights(wide.state_dict(), small)
