"""Checkpoints: save → load gives identical logits; a killed run resumes to the same weights."""

from __future__ import annotations

import csv
from pathlib import Path

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from protein_performer.constants import CLS_ID, EOS_ID, VOCAB_SIZE
from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer
from protein_performer.training.checkpoint import load_model, read_checkpoint
from protein_performer.training.lit_module import OptimConfig, ProteinLM
from protein_performer.training.run import TrainerConfig, build_trainer
from tests.helpers import KillAt


class FixedBatches(L.LightningDataModule):
    """Four fixed causal batches per epoch, no shuffling, no RNG: fully deterministic data."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.batches = []
        for _ in range(4):
            tokens = torch.randint(5, 25, (4, 24), generator=g)
            tokens[:, 0], tokens[:, -1] = CLS_ID, EOS_ID
            labels = torch.full_like(tokens, -100)
            labels[:, :-1] = tokens[:, 1:]
            self.batches.append(
                {"tokens": tokens, "labels": labels, "is_pad": torch.zeros_like(tokens).bool()}
            )

    def train_dataloader(self):
        return DataLoader(self.batches, batch_size=None, shuffle=False)

    def val_dataloader(self):
        return DataLoader(self.batches[:1], batch_size=None)

    def unigram_counts(self, include_eos: bool = False):
        return torch.ones(VOCAB_SIZE)


def fit(run_dir: Path, max_steps: int, ckpt_path=None, kill_at=None) -> ProteinLM:
    L.seed_everything(0, verbose=False)
    module = ProteinLM(
        preset("tiny_l2_d64", objective="causal", dropout=0.0),
        OptimConfig(warmup_steps=2),
    )
    cfg = TrainerConfig(
        max_steps=max_steps, val_check_interval=4, checkpoint_every_n_steps=4,
        accelerator="cpu", devices=1, redraw_every_n_steps=3, enable_progress_bar=False,
        log_every_n_steps=1,
    )  # fmt: skip
    extra = [KillAt(kill_at)] if kill_at is not None else []
    trainer = build_trainer(cfg, run_dir, extra_callbacks=extra)
    if kill_at is None:
        trainer.fit(module, datamodule=FixedBatches(), ckpt_path=ckpt_path)
    else:
        with pytest.raises(RuntimeError, match="killed"):
            trainer.fit(module, datamodule=FixedBatches(), ckpt_path=ckpt_path)
    module.trainer_global_step = trainer.global_step
    return module


def test_resume_after_kill_matches_an_uninterrupted_run(tmp_path):
    straight = fit(tmp_path / "straight", max_steps=8)
    fit(tmp_path / "killed", max_steps=8, kill_at=6)  # last.ckpt was written at step 4
    last = tmp_path / "killed" / "checkpoints" / "last.ckpt"
    checkpoint = read_checkpoint(last)
    assert checkpoint["global_step"] == 4
    assert checkpoint["optimizer_states"][0]["state"], "optimizer moments must be saved"
    resumed = fit(tmp_path / "killed", max_steps=8, ckpt_path=str(last))
    assert resumed.trainer_global_step == straight.trainer_global_step == 8
    straight_state, resumed_state = straight.model.state_dict(), resumed.model.state_dict()
    # The redraw at step 6 happened after the resume: same projections means the generator
    # state came back; same weights means optimizer, schedule and data position did too.
    for name, value in straight_state.items():
        torch.testing.assert_close(resumed_state[name], value, atol=1e-6, rtol=0, msg=name)
    fresh = ProteinPerformer(resumed.config)
    assert not torch.equal(
        fresh.blocks[0].attention.projection_MD, resumed.model.blocks[0].attention.projection_MD
    )


def test_save_then_load_gives_identical_logits(tmp_path):
    module = fit(tmp_path / "run", max_steps=4)
    path = tmp_path / "run" / "checkpoints" / "last.ckpt"
    # Plain-type hyper-parameters: the checkpoint loads without unpickling arbitrary objects.
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert raw["hyper_parameters"]["model"]["objective"] == "causal"
    loaded = load_model(path)
    assert not loaded.training
    tokens = FixedBatches().batches[0]["tokens"]
    module.model.eval()
    with torch.no_grad():
        expected = module.model(tokens).logits_BLV
        got = loaded(tokens).logits_BLV
    torch.testing.assert_close(got, expected, atol=0, rtol=0)
    for a, b in zip(module.model.blocks, loaded.blocks, strict=True):
        assert torch.equal(a.attention.projection_MD, b.attention.projection_MD)
    # Lightning's own loader reads it too (the analysis/generation layers may use either).
    again = ProteinLM.load_from_checkpoint(
        path, map_location="cpu", weights_only=True
    ).model.eval()
    with torch.no_grad():
        torch.testing.assert_close(again(tokens).logits_BLV, expected, atol=0, rtol=0)


def test_tiny_checkpoint_fixture_is_a_real_lightning_checkpoint(tiny_checkpoint):
    raw = read_checkpoint(tiny_checkpoint)
    assert raw["global_step"] > 0 and "pytorch-lightning_version" in raw
    model = load_model(tiny_checkpoint)
    assert model.config == preset("tiny_l2_d64")
    # The run logged the model and the unigram baseline side by side.
    rows = list(csv.DictReader(next(tiny_checkpoint.parents[1].rglob("metrics.csv")).open()))
    valid = [r for r in rows if r.get("valid/loss")]
    assert valid and 0.0 < float(valid[-1]["valid/baseline_accuracy"]) < 0.2
    assert 10.0 < float(valid[-1]["valid/baseline_perplexity"]) < 25.0


def test_tiny_causal_checkpoint_fixture_is_causal(tiny_causal_checkpoint):
    model = load_model(tiny_causal_checkpoint)
    assert model.config.objective == "causal" and model.config.causal
    tokens = FixedBatches().batches[0]["tokens"][:1]
    changed = tokens.clone()
    changed[0, 10] = 5 if int(tokens[0, 10]) != 5 else 6
    with torch.no_grad():
        a, b = model(tokens).logits_BLV, model(changed).logits_BLV
    torch.testing.assert_close(a[:, :10], b[:, :10], atol=1e-5, rtol=0)
