import os

import pytest
import torch

from protein_performer.analysis.checkpoint_choice import (
    ENV_VAR,
    SHIPPED,
    NoCheckpointError,
    resolve_checkpoint,
)
from protein_performer.analysis.cli import main, run_name


def _touch(path, mtime, step=1):
    """A minimal Lightning-shaped checkpoint recording `step`, with the given mtime."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"pytorch-lightning_version": "2.6", "global_step": step}, path)
    os.utime(path, (mtime, mtime))
    return path


def test_newest_run_wins_and_prefers_best(tmp_path):
    _touch(tmp_path / "runs/old/checkpoints/best.ckpt", 1000)
    _touch(tmp_path / "runs/new/checkpoints/last.ckpt", 3000)
    best_new = _touch(tmp_path / "runs/new/checkpoints/best.ckpt", 2000)
    assert resolve_checkpoint(root=tmp_path) == best_new
    assert run_name(best_new) == "new-best"


def test_the_best_file_with_the_highest_step_wins_over_a_stale_best(tmp_path):
    """Lightning writes best-v1.ckpt when best.ckpt exists; names and mtimes say nothing."""
    run = tmp_path / "runs/r/checkpoints"
    _touch(run / "best.ckpt", 3000, step=100)
    newer = _touch(run / "best-v1.ckpt", 2000, step=400)
    _touch(run / "last.ckpt", 2500, step=500)
    assert resolve_checkpoint(root=tmp_path) == newer
    (run / "best-v2.ckpt").write_bytes(b"")  # a damaged file is skipped, not chosen
    with pytest.warns(UserWarning, match="best-v2.ckpt: empty file"):
        assert resolve_checkpoint(root=tmp_path) == newer


def test_shipped_fallback_then_clear_error(tmp_path, monkeypatch, capsys):
    with pytest.raises(NoCheckpointError, match="make train"):
        resolve_checkpoint(root=tmp_path)
    shipped = _touch(tmp_path / SHIPPED, 1000)
    assert resolve_checkpoint(root=tmp_path) == shipped
    explicit = _touch(tmp_path / "x.ckpt", 1000)
    monkeypatch.setenv(ENV_VAR, str(explicit))
    assert resolve_checkpoint(root=tmp_path, use_env=True) == explicit
    assert resolve_checkpoint(root=tmp_path) == shipped  # the env var only when asked
    with pytest.raises(NoCheckpointError, match="no such checkpoint"):
        resolve_checkpoint(tmp_path / "missing.ckpt")
    # the CLI turns "nothing to analyse" into exit code 2 and a how-to message
    monkeypatch.chdir(tmp_path / "runs" if (tmp_path / "runs").exists() else tmp_path)
    (tmp_path / SHIPPED).unlink()
    assert main([]) == 2
    assert "make train" in capsys.readouterr().err
