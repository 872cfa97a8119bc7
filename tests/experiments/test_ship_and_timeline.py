"""`ship.strip_checkpoint` keeps a loadable, identical model without optimizer state; the
timeline watcher records a row only when a run's newest step moves."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from protein_performer.experiments.ship import strip_checkpoint
from protein_performer.experiments.timeline import poll_once, read_timeline
from protein_performer.model.config import preset
from protein_performer.model.performer import ProteinPerformer
from protein_performer.training.checkpoint import load_model


def _fake_lightning_checkpoint(path: Path) -> ProteinPerformer:
    torch.manual_seed(0)
    config = preset("tiny_l2_d64", max_len=64)
    model = ProteinPerformer(config).eval()
    state = {f"model.{k}": v for k, v in model.state_dict().items()}
    optimizer_state = {"state": {0: {"exp_avg": torch.randn(1000, 100)}}, "param_groups": []}
    torch.save(
        {
            "state_dict": state,
            "hyper_parameters": {"model": config.to_dict(), "optim": {}},
            "global_step": 7,
            "optimizer_states": [optimizer_state],
        },
        path,
    )
    return model


def test_strip_checkpoint_drops_optimizer_and_keeps_logits(tmp_path: Path):
    src, dst = tmp_path / "full.ckpt", tmp_path / "out" / "small.ckpt"
    model = _fake_lightning_checkpoint(src)
    strip_checkpoint(src, dst)
    stripped = torch.load(dst, weights_only=True)
    assert "optimizer_states" not in stripped and stripped["global_step"] == 7
    assert dst.stat().st_size < src.stat().st_size / 2
    tokens = torch.randint(5, 25, (1, 30))
    with torch.no_grad():
        assert torch.equal(load_model(dst)(tokens).logits_BLV, model(tokens).logits_BLV)


def test_strip_checkpoint_enforces_the_size_limit(tmp_path: Path):
    src = tmp_path / "full.ckpt"
    _fake_lightning_checkpoint(src)
    with pytest.raises(ValueError, match="exceeds"):
        strip_checkpoint(src, tmp_path / "small.ckpt", max_mb=0.01)


def test_poll_once_appends_only_when_the_step_moves(tmp_path: Path):
    log = tmp_path / "run_a" / "logs" / "version_0" / "metrics.csv"
    log.parent.mkdir(parents=True)
    log.write_text("step,train/loss\n9,2.0\n")
    last: dict[str, int] = {}
    assert poll_once(tmp_path, last, now=100.0) == 1
    assert poll_once(tmp_path, last, now=101.0) == 0
    log.write_text("step,train/loss\n9,2.0\n19,1.9\n")
    assert poll_once(tmp_path, last, now=102.0, only="other") == 0
    assert poll_once(tmp_path, last, now=103.0) == 1
    assert read_timeline(tmp_path / "run_a" / "timeline.csv") == [(100.0, 9), (103.0, 19)]
