"""`protein-performer train`: every shipped config parses; fast_dev_run from the real tiny
config; --init-from across attention kinds; a 2-process CPU DDP run (gloo) as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from protein_performer.model.config import PerformerConfig
from protein_performer.training.lit_module import OptimConfig
from protein_performer.training.run import TrainerConfig
from protein_performer.training.train_cli import main, parse

ROOT = Path(__file__).resolve().parents[2]
# configs/family*.yaml configure `protein-performer family`, not `train`.
CONFIGS = sorted(p for p in (ROOT / "configs").glob("*.yaml") if not p.stem.startswith("family"))


def data_args(fasta: Path, cache_dir: Path, runs_dir: Path) -> list[str]:
    return [
        f"--data.fasta={fasta}", f"--data.cache_dir={cache_dir}", f"--runs_dir={runs_dir}",
        "--trainer.enable_progress_bar=false",
    ]  # fmt: skip


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_shipped_config_parses_into_typed_configs(path):
    _, cfg = parse(["--config", str(path)])
    model = PerformerConfig(**cfg.model.as_dict())
    OptimConfig(**cfg.optim.as_dict())
    TrainerConfig(**cfg.trainer.as_dict())
    # The data layer follows the model's objective, and never crops beyond its positions.
    assert cfg.data.objective == model.objective
    assert cfg.data.max_len <= model.max_len


def test_preset_then_overrides():
    _, cfg = parse(["--model_preset", "tiny_l2_d64", "--model.attention", "exact"])
    assert cfg.model.d_model == 64 and cfg.model.attention == "exact"
    _, default = parse([])
    assert default.model.d_model == 512


def test_fast_dev_run_from_the_real_tiny_config(tiny_fasta, tiny_cache_dir, tmp_path):
    argv = ["--config", str(ROOT / "configs" / "tiny.yaml"), "--trainer.fast_dev_run=true"]
    argv += ["--wandb=true"]  # WANDB_MODE=disabled in tests: the logger is built, nothing sent
    assert main(argv + data_args(tiny_fasta, tiny_cache_dir, tmp_path)) == 0
    saved = tmp_path / "tiny" / "config.yaml"
    text = saved.read_text()
    assert "tiny" in text and "favor-relu" in text and "max_len: 128" in text
    # The resolved config repeats the run: it parses back to the same values.
    _, again = parse(["--config", str(saved)])
    _, first = parse(argv + data_args(tiny_fasta, tiny_cache_dir, tmp_path))
    assert again.model == first.model and again.data == first.data


def test_init_from_an_exact_checkpoint_evaluates_then_fine_tunes(
    tiny_fasta, tiny_cache_dir, tmp_path, capsys
):
    from tests.helpers import train_tiny

    exact = train_tiny(tmp_path / "exact", tiny_fasta, tiny_cache_dir, attention="exact")
    argv = [
        "--config", str(ROOT / "configs" / "tiny.yaml"), "--model.attention=favor-relu",
        f"--init-from={exact}", "--trainer.max_steps=2", "--trainer.val_check_interval=2",
        "--data.max_len=64", "--name=swap",
    ]  # fmt: skip
    assert main(argv + data_args(tiny_fasta, tiny_cache_dir, tmp_path)) == 0
    out = capsys.readouterr().out
    assert "parameters transferred" in out and "step-0 evaluation" in out
    metrics = json.loads((tmp_path / "swap" / "metrics.json").read_text())
    assert metrics["global_step"] == 2 and metrics["model"]["attention"] == "favor-relu"
    assert {"valid", "test", "ood"} <= set(metrics["splits"])


def test_batch_size_finder_scales_the_batch_then_trains(
    tiny_fasta, tiny_cache_dir, tmp_path, capsys
):
    argv = [
        "--config", str(ROOT / "configs" / "tiny.yaml"), "--find-batch-size=true",
        "--data.batch_size=2", "--data.max_len=32", "--trainer.max_steps=2",
        "--trainer.val_check_interval=2", "--name=finder",
    ]  # fmt: skip
    assert main(argv + data_args(tiny_fasta, tiny_cache_dir, tmp_path)) == 0
    out = capsys.readouterr().out
    found = int(out.split("batch-size finder: using batch_size=")[1].split()[0])
    # Power mode doubles from 2 while a step fits; on CPU nothing fails, so it stops at the
    # trial cap (2 * 2^8) or at the training split's size, whichever comes first.
    assert 2 < found <= 512
    metrics = json.loads((tmp_path / "finder" / "metrics.json").read_text())
    assert metrics["global_step"] == 2


@pytest.mark.slow
@pytest.mark.parametrize(
    "batching",
    [[], ["--data.tokens_per_batch=512"]],
    ids=["fixed-batch", "token-budget-sampler"],
)
def test_two_process_cpu_ddp_smoke(batching, tiny_fasta, tiny_cache_dir, tmp_path):
    # The token-budget sampler shards batches per rank itself; Lightning must not re-wrap it.
    argv = [
        sys.executable, "-m", "protein_performer.cli", "train",
        "--config", str(ROOT / "configs" / "tiny.yaml"), "--name=ddp",
        "--trainer.strategy=ddp", "--trainer.devices=2", "--trainer.accelerator=cpu",
        "--trainer.max_steps=4", "--trainer.val_check_interval=4",
        "--trainer.checkpoint_every_n_steps=4", "--data.max_len=64",
    ] + batching + data_args(tiny_fasta, tiny_cache_dir, tmp_path)  # fmt: skip
    env = {**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert "MEMBER: 2/2" in log, log[-4000:]
    metrics = json.loads((tmp_path / "ddp" / "metrics.json").read_text())
    assert metrics["global_step"] == 4
    assert metrics["splits"]["valid"]["tokens"] > 0
    assert (tmp_path / "ddp" / "checkpoints" / "last.ckpt").is_file()
