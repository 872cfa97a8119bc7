"""FeatureRedraw: when it redraws, and that its generator state round-trips."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer
from protein_performer.training.callbacks import FeatureRedraw


def projections(model: ProteinPerformer) -> list[torch.Tensor]:
    return [b.attention.projection_MD.clone() for b in model.blocks]


def drive(callback: FeatureRedraw, module, steps: list[int]) -> list[int]:
    """Call on_train_batch_end at the given global steps; return the steps that redrew."""
    redrew = []
    for step in steps:
        before = callback.n_redraws
        callback.on_train_batch_end(SimpleNamespace(global_step=step), module, None, None, 0)
        if callback.n_redraws > before:
            redrew.append(step)
    return redrew


def test_redraws_every_n_optimizer_steps_even_with_accumulation():
    module = SimpleNamespace(model=ProteinPerformer(preset("tiny_l2_d64")))
    callback = FeatureRedraw(every_n_steps=3, seed=0)
    # accumulate_grad_batches=2: each optimizer step is seen by two batch ends.
    steps = [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    before = projections(module.model)
    assert drive(callback, module, steps) == [3, 6]
    assert all(
        not torch.equal(a, b) for a, b in zip(before, projections(module.model), strict=True)
    )


def test_zero_fixes_the_features():
    module = SimpleNamespace(model=ProteinPerformer(preset("tiny_l2_d64")))
    before = projections(module.model)
    assert drive(FeatureRedraw(every_n_steps=0), module, list(range(10))) == []
    assert all(torch.equal(a, b) for a, b in zip(before, projections(module.model), strict=True))
    with pytest.raises(ValueError):
        FeatureRedraw(every_n_steps=-1)


def test_state_dict_continues_the_same_sequence_of_draws():
    def run(callback: FeatureRedraw, steps: list[int]) -> list[torch.Tensor]:
        torch.manual_seed(0)
        module = SimpleNamespace(model=ProteinPerformer(preset("tiny_l2_d64")))
        drive(callback, module, steps)
        return projections(module.model)

    straight = FeatureRedraw(every_n_steps=2, seed=7)
    expected = run(straight, [2, 4, 6])
    first = FeatureRedraw(every_n_steps=2, seed=7)
    run(first, [2, 4])
    resumed = FeatureRedraw(every_n_steps=2, seed=7)
    resumed.load_state_dict(first.state_dict())
    assert resumed.n_redraws == 2 and resumed.last_redraw_step == 4
    # The resumed generator's next draw is the third draw of the uninterrupted one.
    got = run(resumed, [6])
    assert all(torch.equal(a, b) for a, b in zip(expected, got, strict=True))


def test_adamw_is_fused_on_plain_cpu_parameters():
    from protein_performer.model.config import preset
    from protein_performer.training.lit_module import ProteinLM

    module = ProteinLM(preset("tiny_l2_d64"))
    optimizer = module.configure_optimizers()["optimizer"]
    assert isinstance(optimizer, torch.optim.AdamW) and optimizer.defaults["fused"] is True
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.1, 0.0]


def test_trainer_num_threads_is_checked_and_applied(tmp_path):
    from protein_performer.training.run import TrainerConfig, build_trainer

    with pytest.raises(ValueError, match="num_threads"):
        TrainerConfig(num_threads=0)
    before = torch.get_num_threads()
    try:
        build_trainer(TrainerConfig(num_threads=1, enable_progress_bar=False), tmp_path)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
