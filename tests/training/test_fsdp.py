"""FSDP2 on two CPU processes (gloo), end to end through `protein-performer train`: train with
sharded parameters, write one full checkpoint, resume from it, evaluate every split, and load
the result as a plain model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from protein_performer.training.checkpoint import load_model
from protein_performer.training.sharding import FSDP2Strategy, strategy_for

ROOT = Path(__file__).resolve().parents[2]


def _train(tmp_path: Path, fasta: Path, cache_dir: Path, max_steps: int, *extra: str):
    argv = [
        sys.executable, "-m", "protein_performer.cli", "train",
        "--config", str(ROOT / "configs" / "tiny.yaml"), "--name=fsdp",
        "--trainer.strategy=fsdp2", "--trainer.devices=2", "--trainer.accelerator=cpu",
        f"--trainer.max_steps={max_steps}", "--trainer.val_check_interval=4",
        "--trainer.checkpoint_every_n_steps=4", "--trainer.redraw_every_n_steps=3",
        "--data.max_len=64", "--data.tokens_per_batch=512",
        f"--data.fasta={fasta}", f"--data.cache_dir={cache_dir}", f"--runs_dir={tmp_path}",
        "--trainer.enable_progress_bar=false", *extra,
    ]  # fmt: skip
    env = {**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert "MEMBER: 2/2" in log, log[-4000:]
    return log


def test_strategy_name_maps_to_fsdp2_and_leaves_others_to_lightning():
    assert isinstance(strategy_for("fsdp2"), FSDP2Strategy)
    assert strategy_for("ddp") == "ddp" and strategy_for("fsdp") == "fsdp"


@pytest.mark.slow
def test_two_process_cpu_fsdp2_trains_checkpoints_resumes_and_evaluates(
    tiny_fasta, tiny_cache_dir, tmp_path
):
    _train(tmp_path, tiny_fasta, tiny_cache_dir, 4)
    last = tmp_path / "fsdp" / "checkpoints" / "last.ckpt"
    assert last.is_file()  # one gathered file, not a directory of shards
    first = torch.load(last, map_location="cpu", weights_only=True)
    assert first["global_step"] == 4
    # Full (unsharded) tensors: the tied embedding has its whole [V, C] shape on rank 0.
    assert first["state_dict"]["model.token_embedding.weight"].shape == (30, 64)

    # A mark only a real resume can carry over: a fresh start would begin near bias 0.
    first["state_dict"]["model.final_norm.bias"] += 5.0
    torch.save(first, last)
    log = _train(tmp_path, tiny_fasta, tiny_cache_dir, 6, "--resume=true")
    assert f"resuming from {last}" in log, log[-4000:]
    metrics = json.loads((tmp_path / "fsdp" / "metrics.json").read_text())
    assert metrics["global_step"] == 6
    for split in ("valid", "test", "ood"):
        assert metrics["splits"][split]["tokens"] > 0
    resumed = torch.load(last, map_location="cpu", weights_only=True)
    assert resumed["global_step"] == 6
    assert resumed["state_dict"]["model.final_norm.bias"].mean() > 4.0  # loaded, then trained
    moved = resumed["state_dict"]["model.blocks.0.ff.fc_in.weight"]
    assert not torch.equal(moved, first["state_dict"]["model.blocks.0.ff.fc_in.weight"])
    model = load_model(last)  # the gathered checkpoint is an ordinary model checkpoint
    assert torch.isfinite(model(torch.randint(5, 25, (1, 12))).logits_BLV).all()


def test_cli_accepts_the_scale_flags():
    from protein_performer.training.train_cli import parse

    _, cfg = parse(["--trainer.strategy", "fsdp2", "--model.favor_bf16_gemm", "true"])
    assert cfg.trainer.strategy == "fsdp2" and cfg.model.favor_bf16_gemm is True
