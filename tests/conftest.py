"""Shared fixtures: a small real FASTA and small real Lightning checkpoints.

- `tiny_fasta`: the first 300 records of `data/uniprot_sample.fasta.gz`, plus further records
  of the held-out taxa (`DEFAULT_OOD_TAXA`) so the OOD split always has members.
- `tiny_checkpoint` / `tiny_causal_checkpoint`: the `tiny_l2_d64` preset (MLM / causal,
  Performer-ReLU) trained for a few steps on `tiny_fasta` by a real `Trainer`; each returns the
  path of its `last.ckpt` (a genuine Lightning checkpoint: `training.checkpoint.load_model` reads
  it, and so does `ProteinLM.load_from_checkpoint`).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import lightning as L
import pytest
import torch

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "uniprot_sample.fasta.gz"
N_HEAD_RECORDS = 300
N_EXTRA_OOD = 12


@pytest.fixture
def single_thread():
    """Run a test with one intra-op thread, restoring the setting afterwards.

    For tests of many tiny ops (kernels on small tensors, token-by-token decoding): on a shared
    2-core CPU extra threads only add barrier waits (measured during generation work: 2.3 ms per
    decoded token with one thread vs 86 ms with two under load). Opt in per module with
    `pytestmark = pytest.mark.usefixtures("single_thread")`.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _records(path: Path):
    header, lines = None, []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.startswith(">"):
                if header is not None:
                    yield header, "".join(lines)
                header, lines = line, []
            elif line:
                lines.append(line)
    if header is not None:
        yield header, "".join(lines)


def write_tiny_fasta(out: Path) -> Path:
    from protein_performer.data.prepare import DEFAULT_OOD_TAXA

    ood_tags = tuple(f" OX={taxon} " for taxon in DEFAULT_OOD_TAXA)
    chosen, extra = [], 0
    for i, (header, sequence) in enumerate(_records(SAMPLE)):
        if i < N_HEAD_RECORDS:
            chosen.append((header, sequence))
        elif any(tag in header + " " for tag in ood_tags):
            chosen.append((header, sequence))
            extra += 1
        if i >= N_HEAD_RECORDS and extra >= N_EXTRA_OOD:
            break
    with open(out, "w") as handle:
        for header, sequence in chosen:
            handle.write(f"{header}\n{sequence}\n")
    return out


@pytest.fixture(scope="session")
def tiny_fasta(tmp_path_factory) -> Path:
    """A ~312-record FASTA whose train, valid, test and ood splits are all non-empty."""
    return write_tiny_fasta(tmp_path_factory.mktemp("tiny_fasta") / "tiny.fasta")


@pytest.fixture(scope="session")
def tiny_cache_dir(tmp_path_factory) -> Path:
    """One preparation cache shared by every test that builds a `ProteinDataModule`."""
    return tmp_path_factory.mktemp("tiny_cache")


def train_tiny(
    run_dir: Path,
    fasta: Path,
    cache_dir: Path,
    objective: str = "mlm",
    attention: str = "favor-relu",
    max_steps: int = 6,
) -> Path:
    """Train `tiny_l2_d64` for `max_steps` with a real Trainer; returns checkpoints/last.ckpt."""
    import lightning as L

    from protein_performer.data.datamodule import ProteinDataModule
    from protein_performer.model.config import preset
    from protein_performer.training.lit_module import OptimConfig, ProteinLM
    from protein_performer.training.run import TrainerConfig, build_trainer

    L.seed_everything(0, verbose=False)
    datamodule = ProteinDataModule(
        fasta=str(fasta), cache_dir=str(cache_dir), objective=objective, max_len=64,
        batch_size=8, eval_max_sequences=16,
    )  # fmt: skip
    module = ProteinLM(
        preset("tiny_l2_d64", attention=attention, objective=objective),
        OptimConfig(warmup_steps=2),
    )
    trainer_cfg = TrainerConfig(
        max_steps=max_steps, val_check_interval=max_steps, checkpoint_every_n_steps=max_steps,
        log_every_n_steps=1, accelerator="cpu", devices=1, redraw_every_n_steps=2,
        enable_progress_bar=False,
    )  # fmt: skip
    trainer = build_trainer(trainer_cfg, run_dir)
    trainer.fit(module, datamodule=datamodule)
    last = run_dir / "checkpoints" / "last.ckpt"
    assert last.is_file(), f"{last} was not written"
    return last


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_fasta, tiny_cache_dir) -> Path:
    """Path of a real Lightning checkpoint of a tiny Performer-ReLU MLM model."""
    return train_tiny(tmp_path_factory.mktemp("tiny_mlm_run"), tiny_fasta, tiny_cache_dir, "mlm")


@pytest.fixture(scope="session")
def tiny_causal_checkpoint(tmp_path_factory, tiny_fasta, tiny_cache_dir) -> Path:
    """Path of a real Lightning checkpoint of a tiny Performer-ReLU causal model."""
    run_dir = tmp_path_factory.mktemp("tiny_causal_run")
    return train_tiny(run_dir, tiny_fasta, tiny_cache_dir, "causal")


class KillAt(L.Callback):
    """Simulates a crash: raises before training batch `step` starts."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            raise RuntimeError("killed")
