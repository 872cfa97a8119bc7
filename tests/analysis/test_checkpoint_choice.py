"""No silent choices: without --checkpoint the commands use the shipped model and say so; a
newer run under ./runs is never picked behind the user's back."""

import os

import pytest

from protein_performer import cli_support
from protein_performer.analysis.analyze_cli import run_name
from protein_performer.analysis.checkpoint_choice import (
    ENV_VAR,
    NoCheckpointError,
    resolve_checkpoint,
)
from protein_performer.paths import SHIPPED_CHECKPOINT


def _touch(path, mtime):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    os.utime(path, (mtime, mtime))
    return path


def test_a_newer_run_is_not_picked_behind_the_users_back(tmp_path, monkeypatch, capsys):
    _touch(tmp_path / "runs/new/checkpoints/best.ckpt", 3000)
    monkeypatch.chdir(tmp_path)
    assert resolve_checkpoint() == SHIPPED_CHECKPOINT
    assert cli_support.checkpoint_path(None, "prog") == SHIPPED_CHECKPOINT
    assert "no --checkpoint given; using the shipped" in capsys.readouterr().err
    assert run_name(tmp_path / "runs/new/checkpoints/best.ckpt") == "new-best"
    assert run_name(SHIPPED_CHECKPOINT) == "protein_performer_default"


def test_env_var_only_when_asked_and_missing_paths_are_errors(tmp_path, monkeypatch):
    explicit = _touch(tmp_path / "x.ckpt", 1000)
    monkeypatch.setenv(ENV_VAR, str(explicit))
    assert resolve_checkpoint(use_env=True) == explicit
    assert resolve_checkpoint() == SHIPPED_CHECKPOINT
    with pytest.raises(NoCheckpointError, match="no such checkpoint"):
        resolve_checkpoint(tmp_path / "missing.ckpt")
