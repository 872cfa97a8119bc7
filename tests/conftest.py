"""Shared fixtures: a small real FASTA and small real Lightning checkpoints.

- `tiny_fasta`: the first 300 records of `data/uniprot_sample.fasta.gz`, plus further records
  of the held-out taxa (`DEFAULT_OOD_TAXA`) so the OOD split always has members.
- `tiny_checkpoint` / `tiny_causal_checkpoint`: the `tiny_l2_d64` preset (MLM / causal,
  Performer-ReLU) trained for a few steps on `tiny_fasta` by a real `Trainer`; each returns the
  path of its `last.ckpt` (a genuine Lightning checkpoint: `training.checkpoint.load_model` reads
  it, and so does `ProteinLM.load_from_checkpoint`).

The functions behind them live in `tests/helpers.py`, which test modules import directly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from tests.helpers import train_tiny, write_tiny_fasta

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


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


@pytest.fixture(scope="session")
def tiny_fasta(tmp_path_factory) -> Path:
    """A ~312-record FASTA whose train, valid, test and ood splits are all non-empty."""
    return write_tiny_fasta(tmp_path_factory.mktemp("tiny_fasta") / "tiny.fasta")


@pytest.fixture(scope="session")
def tiny_cache_dir(tmp_path_factory) -> Path:
    """One preparation cache shared by every test that builds a `ProteinDataModule`."""
    return tmp_path_factory.mktemp("tiny_cache")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_fasta, tiny_cache_dir) -> Path:
    """Path of a real Lightning checkpoint of a tiny Performer-ReLU MLM model."""
    return train_tiny(tmp_path_factory.mktemp("tiny_mlm_run"), tiny_fasta, tiny_cache_dir, "mlm")


@pytest.fixture(scope="session")
def tiny_causal_checkpoint(tmp_path_factory, tiny_fasta, tiny_cache_dir) -> Path:
    """Path of a real Lightning checkpoint of a tiny Performer-ReLU causal model."""
    run_dir = tmp_path_factory.mktemp("tiny_causal_run")
    return train_tiny(run_dir, tiny_fasta, tiny_cache_dir, "causal")
