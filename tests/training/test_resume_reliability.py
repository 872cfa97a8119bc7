"""Resume takes the right checkpoint, checkpoints are written atomically, a resumed run sees the
batches an uninterrupted one would, continues its CSV, and shows real step totals."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import lightning as L
import pytest
import torch

from protein_performer.data.datamodule import ProteinDataModule
from protein_performer.model.checkpoint_files import newest_checkpoint
from protein_performer.model.config import preset
from protein_performer.training.callbacks import StepProgressBar
from protein_performer.training.lit_module import OptimConfig, ProteinLM
from protein_performer.training.resume_io import AtomicCheckpointIO, remove_stale_temporaries
from protein_performer.training.run import TrainerConfig, build_trainer
from protein_performer.training.train_cli import main as train_main
from tests.helpers import KillAt, train_tiny

ROOT = Path(__file__).resolve().parents[2]


def _cli_args(fasta, cache, runs, *extra):
    return [
        "--config", str(ROOT / "configs" / "tiny.yaml"), f"--data.fasta={fasta}",
        f"--data.cache_dir={cache}", f"--runs-dir={runs}", "--name=r", "--data.max_len=64",
        "--data.eval_max_sequences=16", "--trainer.redraw_every_n_steps=2",
        "--trainer.enable_progress_bar=false", "--trainer.val_check_interval=50", *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def two_checkpoints(tmp_path_factory, tiny_fasta, tiny_cache_dir):
    """Real checkpoints of one setup at steps 4 and 6."""
    base = tmp_path_factory.mktemp("two_ckpts")
    at4 = train_tiny(base / "a", tiny_fasta, tiny_cache_dir, max_steps=4)
    at6 = train_tiny(base / "b", tiny_fasta, tiny_cache_dir, max_steps=6)
    return at4, at6


def _run_dir_with(tmp_path, files: dict[str, Path]) -> Path:
    checkpoints = tmp_path / "runs" / "r" / "checkpoints"
    checkpoints.mkdir(parents=True)
    for name, source in files.items():
        shutil.copy(source, checkpoints / name)
    return checkpoints


def test_resume_takes_the_highest_step_not_last_ckpt(
    tmp_path, two_checkpoints, tiny_fasta, tiny_cache_dir, capsys
):
    at4, at6 = two_checkpoints
    checkpoints = _run_dir_with(tmp_path, {"last-v1.ckpt": at6, "last.ckpt": at4})
    os.utime(checkpoints / "last-v1.ckpt", (1, 1))  # older file, newer progress
    argv = _cli_args(tiny_fasta, tiny_cache_dir, tmp_path / "runs", "--resume=true")
    assert train_main(argv + ["--trainer.max_steps=7"]) == 0
    out = capsys.readouterr().out
    assert f"resuming from {checkpoints / 'last-v1.ckpt'} (step 6)" in out


@pytest.mark.parametrize("damage", ["truncated", "empty"])
def test_a_damaged_newest_checkpoint_falls_back_with_a_warning(
    damage, tmp_path, two_checkpoints, tiny_fasta, tiny_cache_dir, capsys
):
    at4, at6 = two_checkpoints
    checkpoints = _run_dir_with(tmp_path, {"last.ckpt": at4, "last-v1.ckpt": at6})
    bad = checkpoints / "last-v1.ckpt"
    bad.write_bytes(b"" if damage == "empty" else bad.read_bytes()[: bad.stat().st_size // 2])
    argv = _cli_args(tiny_fasta, tiny_cache_dir, tmp_path / "runs", "--resume=true")
    assert train_main(argv + ["--trainer.max_steps=5"]) == 0
    captured = capsys.readouterr()
    assert f"resuming from {checkpoints / 'last.ckpt'} (step 4)" in captured.out
    assert f"warning: skipping {bad}" in captured.err


def test_launch_into_a_used_run_directory_is_refused(
    tmp_path, two_checkpoints, tiny_fasta, tiny_cache_dir, capsys
):
    checkpoints = _run_dir_with(tmp_path, {"last.ckpt": two_checkpoints[0]})
    before = sorted(p.name for p in checkpoints.parent.rglob("*"))
    argv = _cli_args(tiny_fasta, tiny_cache_dir, tmp_path / "runs", "--trainer.max_steps=2")
    assert train_main(argv) == 2
    assert "--resume true" in capsys.readouterr().err
    assert sorted(p.name for p in checkpoints.parent.rglob("*")) == before


def test_checkpoint_writes_are_atomic_and_stay_out_of_tmpdir(tmp_path, monkeypatch):
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    monkeypatch.setattr("tempfile.tempdir", str(tmpdir))
    target = tmp_path / "ckpt" / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"global_step": 1}, target)
    assert torch.load(target, weights_only=True)["global_step"] == 1
    assert list(tmpdir.iterdir()) == []

    def killed(obj, fh):
        fh.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"global_step": 2}, target)
    monkeypatch.undo()
    assert torch.load(target, weights_only=True)["global_step"] == 1  # old file intact
    assert sorted(p.name for p in target.parent.iterdir()) == ["last.ckpt"]
    stale = target.parent / ".last.ckpt.tmp-999999"  # a hard kill's leftover
    stale.write_bytes(b"x")
    assert remove_stale_temporaries(target.parent) == [stale] and not stale.exists()


class Record(L.Callback):
    """The item lengths of every training batch by global step: which proteins, in which order
    (masks and crop windows are fresh random draws after a resume; the order is not)."""

    def __init__(self) -> None:
        self.by_step: dict[int, tuple[int, ...]] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.by_step[trainer.global_step] = tuple((~batch["is_pad"]).sum(1).tolist())


def _fit(run_dir, fasta, cache, *, max_steps, kill_at=None, ckpt_path=None, bar=False):
    L.seed_everything(0, verbose=False)
    datamodule = ProteinDataModule(
        fasta=str(fasta), cache_dir=str(cache), max_len=64, batch_size=8, eval_max_sequences=16
    )
    module = ProteinLM(preset("tiny_l2_d64"), OptimConfig(warmup_steps=2))
    cfg = TrainerConfig(
        max_steps=max_steps, val_check_interval=50, checkpoint_every_n_steps=4,
        log_every_n_steps=1, accelerator="cpu", devices=1, enable_progress_bar=bar,
    )  # fmt: skip
    record = Record()
    extra = [record] + ([KillAt(kill_at)] if kill_at is not None else [])
    resume_step = newest_checkpoint(run_dir / "checkpoints").global_step if ckpt_path else None
    trainer = build_trainer(cfg, run_dir, extra_callbacks=extra, resume_step=resume_step)
    if kill_at is None:
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
    else:
        with pytest.raises(RuntimeError, match="killed"):
            trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
    return trainer, record


def test_mid_epoch_resume_sees_the_same_batches_and_continues_the_csv(
    tmp_path, tiny_fasta, tiny_cache_dir
):
    _, straight = _fit(tmp_path / "straight", tiny_fasta, tiny_cache_dir, max_steps=8)
    run = tmp_path / "killed"
    _fit(run, tiny_fasta, tiny_cache_dir, max_steps=8, kill_at=6)  # last.ckpt at step 4
    last = run / "checkpoints" / "last.ckpt"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer, resumed = _fit(run, tiny_fasta, tiny_cache_dir, max_steps=8, ckpt_path=last)
    assert trainer.global_step == 8
    assert not [w for w in caught if "not resumable" in str(w.message)]
    assert {s: resumed.by_step[s] for s in range(4, 8)} == {
        s: straight.by_step[s] for s in range(4, 8)
    }
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["last.ckpt"]
    logs = sorted((run / "logs").glob("version_*/metrics.csv"))
    assert len(logs) == 1, logs
    header = logs[0].read_text().splitlines()[0].split(",")
    step_col = header.index("step")
    steps = sorted(
        {int(line.split(",")[step_col]) for line in logs[0].read_text().splitlines()[1:]}
    )
    assert steps == list(range(8)), steps  # one curve: steps 0-3 from the first launch


def test_progress_bar_counts_steps_of_the_whole_run(tmp_path, tiny_fasta, tiny_cache_dir):
    trainer, _ = _fit(tmp_path / "bar", tiny_fasta, tiny_cache_dir, max_steps=3, bar=True)
    bar = next(c for c in trainer.callbacks if isinstance(c, StepProgressBar))
    task = bar.train_progress_bar
    assert (task.completed, task.total) == (3, 3)
    assert "/-" not in str(task.description)


@pytest.mark.parametrize(
    "field", ["checkpoint_every_n_steps", "val_check_interval", "max_steps", "log_every_n_steps"]
)
def test_trainer_config_refuses_zero_periods(field):
    """0 used to disable periodic checkpoints silently, or divide by zero inside Lightning."""
    with pytest.raises(ValueError, match=f"trainer.{field} must be an integer >= 1"):
        TrainerConfig(**{field: 0})


def test_final_table_without_held_out_rows_is_an_error():
    from types import SimpleNamespace

    from protein_performer.training.run import final_evaluation

    trainer = SimpleNamespace(
        checkpoint_callback=None, validate=lambda *a, **k: None, test=lambda *a, **k: None
    )
    module = SimpleNamespace(split_results={}, last_train_metrics=object())
    with pytest.raises(RuntimeError, match="no metrics for any held-out split"):
        final_evaluation(trainer, module, SimpleNamespace(test_split_names=()), use_best=False)


def test_training_output_has_no_lightning_noise(
    tmp_path, tiny_fasta, tiny_cache_dir, capfd, caplog
):
    argv = _cli_args(tiny_fasta, tiny_cache_dir, tmp_path / "runs", "--trainer.fast_dev_run=true")
    caplog.set_level("INFO")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert train_main(argv) == 0
    out, err = capfd.readouterr()
    shown = out + err + "\n".join(r.getMessage() for r in caplog.records)
    assert "GPU available" in shown  # Lightning's own lines are still there
    for noise in ("litlogger", "limit_val_batches=1.0", "limit_test_batches=1.0"):
        assert noise not in shown
    assert not [w for w in caught if "LeafSpec" in str(w.message)]
