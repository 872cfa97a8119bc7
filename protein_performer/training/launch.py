"""Checking a training launch before anything is written: typed configs, the run directory, the
checkpoint to resume, `--init-from`, the Trainer settings and the data.

`prepare_launch` raises `errors.UserError` on the first problem, with a one-line message naming
the flag or file; `cli_support.run` prints it and exits with status 2. Nothing under
`runs/<name>/` is touched until it returns: the only thing it may write is the data cache (a
complete, verified preparation, see `data.prepare`).
"""

from __future__ import annotations

import fcntl
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonargparse import ArgumentParser, Namespace

from protein_performer.errors import UserError
from protein_performer.model.config import PerformerConfig
from protein_performer.training.lit_module import OptimConfig
from protein_performer.training.run import TrainerConfig


def datamodule_class() -> type:
    from protein_performer.data.datamodule import ProteinDataModule

    return ProteinDataModule


def _plain(namespace: Namespace | dict[str, Any]) -> dict[str, Any]:
    values = namespace.as_dict() if isinstance(namespace, Namespace) else dict(namespace)
    return {k: v for k, v in values.items() if not k.startswith("__")}


def _typed(group: str, cls: type, values: dict[str, Any]) -> Any:
    """`cls(**values)`, with its validation message naming the `group.field` it is about."""
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        message = str(error)
        if message.startswith(f"{group}."):
            raise UserError(message) from error
        named = next((f for f in values if message.startswith(f"{f} ")), None)
        raise UserError(f"{group}.{message}" if named else f"{group}: {message}") from error


def _trainer_flag(message: str) -> str:
    for word, flag in (
        ("recision", "trainer.precision"),
        ("accelerator", "trainer.accelerator"),
        ("gpu", "trainer.accelerator"),
        ("cuda", "trainer.accelerator"),
        ("strategy", "trainer.strategy"),
        ("devices", "trainer.devices"),
    ):
        if word in message:
            return flag
    return "trainer"


def resume_checkpoint(cfg: Namespace, run_dir: Path) -> tuple[str | None, int | None]:
    """`(path, global_step)` of the checkpoint this launch continues, or `(None, None)`.

    `--ckpt-path` must be an intact Lightning checkpoint. `--resume true` takes the intact
    checkpoint of `run_dir` with the highest recorded step (a damaged newer one is skipped with
    a warning). Without either, a run directory that already holds checkpoints is refused:
    training it from scratch would interleave two runs' checkpoints and logs.
    """
    from protein_performer.model.checkpoint_files import (
        CheckpointFileError,
        newest_checkpoint,
        read_step,
    )

    checkpoints = run_dir / "checkpoints"
    if cfg.ckpt_path is not None:
        path = Path(cfg.ckpt_path)
        if not path.is_file():
            raise UserError(f"--ckpt-path {path}: no such checkpoint file")
        try:
            return str(path), read_step(path)
        except CheckpointFileError as error:
            raise UserError(f"--ckpt-path {error}") from error
    if cfg.resume:
        with warnings.catch_warnings(record=True) as skipped:
            warnings.simplefilter("always")
            newest = newest_checkpoint(checkpoints)
        for warning in skipped:
            print(f"protein-performer train: warning: {warning.message}", file=sys.stderr)
        if newest is None:
            print(f"--resume: no intact checkpoint in {checkpoints} yet, starting from scratch")
            return None, None
        print(f"resuming from {newest.path} (step {newest.global_step})")
        return str(newest.path), newest.global_step
    existing = sorted(checkpoints.glob("*.ckpt")) if checkpoints.is_dir() else []
    if existing:
        raise UserError(
            f"{run_dir} already holds checkpoints ({', '.join(p.name for p in existing)}): "
            f"continue that run with --resume true, or start a new one with another --name"
        )
    return None, None


def _check_checkpoint_fits(path: str, model_cfg: PerformerConfig) -> None:
    from protein_performer.training.checkpoint import model_config_of, read_checkpoint

    try:
        saved = model_config_of(read_checkpoint(path), path)
    except (FileNotFoundError, ValueError) as error:
        raise UserError(f"--ckpt-path {error}") from error
    diffs = [
        f"model.{k}: {v!r} in the checkpoint vs {getattr(model_cfg, k)!r}"
        for k, v in saved.to_dict().items()
        if k != "dropout" and getattr(model_cfg, k) != v
    ]
    if diffs:
        raise UserError(f"{path}: cannot resume with another model ({'; '.join(diffs)})")


class RunDirLock:
    """An exclusive `flock(2)` on `<runs_dir>/.lock-<name>`, held for the whole run, so that
    two launches can never write one run directory (their checkpoints and `metrics.csv` would
    interleave). The lock file sits beside the run directory, not inside it, so a refused
    launch leaves `runs/<name>/` untouched; the kernel drops the lock when its holder dies,
    however it dies. Lightning's extra DDP ranks (RANK/LOCAL_RANK > 0) run under rank 0's
    lock and take none.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir.parent / f".lock-{run_dir.name}"
        self.run_dir = run_dir
        self._fd: int | None = None

    def acquire(self) -> RunDirLock:
        if any(os.environ.get(k, "0") not in ("", "0") for k in ("RANK", "LOCAL_RANK")):
            return self
        try:
            self.run_dir.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise UserError(f"--runs-dir {self.run_dir.parent}: cannot lock ({error})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise UserError(
                f"{self.run_dir} is in use by another launch (pid {holder}); wait for it, or "
                f"choose another --name"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


@dataclass
class Launch:
    """Everything a training run needs, built and checked before anything is written."""

    run_dir: Path
    module: Any
    datamodule: Any
    trainer: Any
    ckpt_path: str | None
    model_cfg: PerformerConfig
    trainer_cfg: TrainerConfig


def prepare_launch(parser: ArgumentParser, cfg: Namespace) -> Launch:
    """Check every argument, input file and checkpoint, prepare the data, build the Trainer;
    raise `UserError` (or a data-layer error) on the first problem. Writes only the data cache."""
    import lightning as L
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    from protein_performer.data.fasta import FastaFormatError
    from protein_performer.data.prepare import PreparedDataError
    from protein_performer.training.checkpoint import init_from
    from protein_performer.training.lit_module import ProteinLM
    from protein_performer.training.run import build_trainer

    run_dir = Path(cfg.runs_dir) / cfg.name
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"--runs-dir/--name: {run_dir} is a file, not a run directory")
    model_cfg = _typed("model", PerformerConfig, _plain(cfg.model))
    optim_cfg = _typed("optim", OptimConfig, _plain(cfg.optim))
    trainer_cfg = _typed("trainer", TrainerConfig, _plain(cfg.trainer))
    datamodule = _typed("data", datamodule_class(), _plain(cfg.data))
    data_len = getattr(datamodule, "max_len", None)
    if isinstance(data_len, int) and data_len > model_cfg.max_len:
        raise UserError(f"data.max_len={data_len} exceeds model.max_len={model_cfg.max_len}")
    token_batches = getattr(datamodule, "tokens_per_batch", None) is not None
    if cfg.find_batch_size and token_batches:
        raise UserError("--find-batch-size scales data.batch_size; unset data.tokens_per_batch")
    ckpt_path, resume_step = resume_checkpoint(cfg, run_dir)
    if ckpt_path is not None:
        _check_checkpoint_fits(ckpt_path, model_cfg)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    module = ProteinLM(model_cfg, optim_cfg)
    if cfg.init_from:
        try:
            report = init_from(cfg.init_from, module.model)
        except (FileNotFoundError, ValueError, KeyError) as error:
            raise UserError(f"--init-from {error}") from error
        print(
            f"--init-from {cfg.init_from}: {len(report.parameters)} parameters transferred; "
            f"projections copied {len(report.buffers_copied)}, "
            f"kept fresh {len(report.buffers_kept)}"
        )
    try:
        trainer = build_trainer(
            trainer_cfg,
            run_dir,
            name=cfg.name,
            wandb=cfg.wandb,
            wandb_project=cfg.wandb_project,
            shards_batches=getattr(datamodule, "shards_batches_per_rank", token_batches),
            resume_step=resume_step,
        )
    except (ValueError, MisconfigurationException) as error:
        message = " ".join(str(error).split())
        raise UserError(f"{_trainer_flag(message)}: {message}") from error
    if trainer.is_global_zero:
        try:
            datamodule.prepare_data()
        except (FastaFormatError, PreparedDataError, OSError, ValueError) as error:
            raise UserError(f"data: {error}") from error
    return Launch(run_dir, module, datamodule, trainer, ckpt_path, model_cfg, trainer_cfg)
