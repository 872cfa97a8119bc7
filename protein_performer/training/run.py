"""One training run on Lightning's engine: Trainer, callbacks, loggers, fit, final evaluation.

`training.train_cli` turns YAML + command line into the typed configs below and calls `train`;
tests call `build_trainer` / `train` directly.

Run directory `runs/<name>/`:
    config.yaml               the resolved configuration (written by the CLI once every
                              argument, file and checkpoint has been checked)
    checkpoints/last.ckpt     every `checkpoint_every_n_steps` steps: what `--resume` continues
    checkpoints/best.ckpt     lowest `valid/loss` so far
    logs/version_<k>/         CSV logs; a resumed run continues the newest version's file
    metrics.json              final metrics per split against the unigram baseline

Resuming (`--resume`, or `ckpt_path=`) restores what Lightning checkpoints: global step, epoch,
optimizer moments, LR schedule, model weights with the FAVOR projection buffers, the
`FeatureRedraw` generator, and the training loader's position in its epoch (`ResumableLoader`):
the batches after a resume are the ones an uninterrupted run would have drawn. Checkpoints are
replaced atomically (`AtomicCheckpointIO`), and `--resume` takes the intact checkpoint with the
highest recorded step (`model.checkpoint_files`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import (
    Callback,
    LearningRateMonitor,
    ModelCheckpoint,
    TQDMProgressBar,
)
from lightning.pytorch.loggers import Logger
from lightning.pytorch.utilities import rank_zero_only

from protein_performer.training.callbacks import FeatureRedraw, StepProgressBar
from protein_performer.training.lit_module import ProteinLM
from protein_performer.training.metrics import SplitMetrics
from protein_performer.training.resume_io import (
    AtomicCheckpointIO,
    ContinuedCSVLogger,
    latest_log_version,
    remove_stale_temporaries,
)
from protein_performer.training.sharding import strategy_for
from protein_performer.training.summary import format_table, write_metrics_json


@dataclass(frozen=True)
class TrainerConfig:
    """What Lightning's Trainer and our callbacks need; every field can be set from YAML."""

    # Optimizer steps to train for (the run's length; warm-up and decay are relative to it).
    max_steps: int = 10_000
    # Optional wall-clock guard "DD:HH:MM:SS": stop early (and still evaluate) when reached.
    max_time: str | None = None
    # Run validation every this many training batches.
    val_check_interval: int = 500
    # Batches per validation / test pass (int) or fraction of the loader (float).
    limit_val_batches: int | float = 1.0
    limit_test_batches: int | float = 1.0
    # Logging period in steps for the CSV / W&B loggers.
    log_every_n_steps: int = 50
    # "cpu", "gpu", "auto"...; devices per node; "auto", "ddp", "ddp_spawn", "fsdp" (GPU),
    # "fsdp2" (sharded, CPU or GPU; training.sharding)...
    accelerator: str = "auto"
    devices: int | str = "auto"
    num_nodes: int = 1
    strategy: str = "auto"
    # "32-true", "bf16-mixed" (GPUs with bf16), "16-mixed"...
    precision: str = "32-true"
    # Sum gradients over this many batches per optimizer step (larger effective batch).
    accumulate_grad_batches: int = 1
    # Clip the global gradient norm (paper: 0.5); None disables clipping.
    gradient_clip_val: float | None = 0.5
    # FAVOR feature redraw period in optimizer steps; 0 keeps features fixed.
    redraw_every_n_steps: int = 1000
    # Seed of the redraw generator (its state is checkpointed).
    redraw_seed: int = 0
    # Write checkpoints/last.ckpt every this many optimizer steps.
    checkpoint_every_n_steps: int = 500
    # Validation batches run before training to catch bugs early.
    num_sanity_val_steps: int = 0
    # Debug: run 1 (or n) train/val/test batches and nothing else.
    fast_dev_run: bool | int = False
    # Show a progress bar at all; Rich if `rich_progress`, else Lightning's plain tqdm bar.
    enable_progress_bar: bool = True
    rich_progress: bool = True
    # Select the best checkpoint (lowest valid/loss) for the final evaluation, else the last.
    evaluate_best: bool = True
    # torch intra-op threads for the run (`torch.set_num_threads`); None keeps torch's default
    # (one per core). On a 2-core CPU shared with other jobs, 1 is faster: idle threads wait
    # on each other at every op (`protein-performer bench family`, docs/FAMILIES.md).
    num_threads: int | None = None

    def __post_init__(self) -> None:
        # Checked before anything is written: Lightning would fail later (ZeroDivisionError for
        # val_check_interval=0) or, worse, silently switch periodic checkpoints off.
        for name in (
            "max_steps",
            "val_check_interval",
            "log_every_n_steps",
            "num_nodes",
            "accumulate_grad_batches",
            "checkpoint_every_n_steps",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"trainer.{name} must be an integer >= 1, got {value!r}")
        for name in ("redraw_every_n_steps", "num_sanity_val_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"trainer.{name} must be >= 0, got {getattr(self, name)}")
        for name in ("limit_val_batches", "limit_test_batches"):
            value = getattr(self, name)
            if value <= 0 or (isinstance(value, float) and value > 1):
                raise ValueError(
                    f"trainer.{name} must be a batch count >= 1 or a fraction in (0, 1], "
                    f"got {value!r}"
                )
        if self.num_threads is not None and (
            isinstance(self.num_threads, bool) or not isinstance(self.num_threads, int)
            or self.num_threads < 1
        ):  # fmt: skip
            raise ValueError(f"trainer.num_threads must be an integer >= 1 or null, got "
                             f"{self.num_threads!r}")  # fmt: skip
        if self.gradient_clip_val is not None and self.gradient_clip_val <= 0:
            raise ValueError(
                f"trainer.gradient_clip_val must be > 0 or null, got {self.gradient_clip_val}"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def callbacks_for(cfg: TrainerConfig, run_dir: Path) -> list[Callback]:
    checkpoints = run_dir / "checkpoints"
    callbacks: list[Callback] = [
        FeatureRedraw(every_n_steps=cfg.redraw_every_n_steps, seed=cfg.redraw_seed),
        # No version counter: a file that exists is overwritten (atomically), never joined by a
        # `best-v1.ckpt` / `last-v1.ckpt` that a later resume would have to tell apart.
        ModelCheckpoint(
            dirpath=checkpoints,
            filename="best",
            monitor="valid/loss",
            mode="min",
            save_top_k=1,
            auto_insert_metric_name=False,
            enable_version_counter=False,
        ),
        ModelCheckpoint(
            dirpath=checkpoints,
            save_top_k=0,
            save_last=True,
            every_n_train_steps=cfg.checkpoint_every_n_steps,
            enable_version_counter=False,
        ),
        LearningRateMonitor(logging_interval="step"),
    ]
    if cfg.enable_progress_bar:
        callbacks.append(StepProgressBar() if cfg.rich_progress else TQDMProgressBar())
    return callbacks


def loggers_for(
    run_dir: Path, name: str, wandb: bool, wandb_project: str, resume_step: int | None = None
) -> list[Logger]:
    """CSV (and optionally W&B) loggers; with `resume_step`, the CSV log continues the newest
    `logs/version_<k>/metrics.csv` instead of starting `version_<k+1>`."""
    version = latest_log_version(run_dir / "logs") if resume_step is not None else None
    loggers: list[Logger] = [
        ContinuedCSVLogger(
            save_dir=run_dir,
            name="logs",
            version=version,
            resume_step=resume_step if version is not None else None,
        )
    ]
    if wandb:
        from lightning.pytorch.loggers import WandbLogger

        # WANDB_MODE (e.g. "disabled" in tests, "online" to sync) wins over the offline default.
        offline = os.environ.get("WANDB_MODE", "offline") == "offline"
        loggers.append(
            WandbLogger(project=wandb_project, name=name, save_dir=str(run_dir), offline=offline)
        )
    return loggers


def build_trainer(
    cfg: TrainerConfig,
    run_dir: Path,
    *,
    name: str = "run",
    wandb: bool = False,
    wandb_project: str = "protein-performer",
    extra_callbacks: list[Callback] | None = None,
    shards_batches: bool = False,
    resume_step: int | None = None,
) -> L.Trainer:
    """A Trainer wired with our callbacks and loggers, writing under `run_dir`.

    `shards_batches`: the DataModule's batch samplers already give each DDP rank its own batches
    (`ProteinDataModule.shards_batches_per_rank`, `EpochBatchSampler`), so Lightning must not
    wrap them in a DistributedSampler.
    `resume_step`: the step of the checkpoint this run resumes, so the CSV log continues.
    Checkpoints are written by `AtomicCheckpointIO` (temporary file beside the target).
    """
    remove_stale_temporaries(run_dir / "checkpoints")
    if cfg.num_threads is not None:
        # The run owns its process (the `train` and `family` commands): evaluation after
        # training keeps the same count.
        torch.set_num_threads(cfg.num_threads)
    return L.Trainer(
        max_steps=cfg.max_steps,
        max_time=cfg.max_time,
        max_epochs=-1,
        val_check_interval=cfg.val_check_interval,
        check_val_every_n_epoch=None,
        # 1.0 is Lightning's default; passing it explicitly only earns an info line per run.
        limit_val_batches=None if cfg.limit_val_batches == 1.0 else cfg.limit_val_batches,
        limit_test_batches=None if cfg.limit_test_batches == 1.0 else cfg.limit_test_batches,
        log_every_n_steps=cfg.log_every_n_steps,
        accelerator=cfg.accelerator,
        devices=cfg.devices,
        num_nodes=cfg.num_nodes,
        strategy=strategy_for(cfg.strategy),
        precision=cfg.precision,
        accumulate_grad_batches=cfg.accumulate_grad_batches,
        gradient_clip_val=cfg.gradient_clip_val,
        num_sanity_val_steps=cfg.num_sanity_val_steps,
        fast_dev_run=cfg.fast_dev_run,
        callbacks=callbacks_for(cfg, run_dir) + list(extra_callbacks or []),
        logger=loggers_for(run_dir, name, wandb, wandb_project, resume_step),
        plugins=[AtomicCheckpointIO()],
        default_root_dir=run_dir,
        enable_progress_bar=cfg.enable_progress_bar,
        enable_model_summary=cfg.enable_progress_bar,
        use_distributed_sampler=not shards_batches,
    )


def final_evaluation(
    trainer: L.Trainer, module: ProteinLM, datamodule: L.LightningDataModule, use_best: bool
) -> dict[str, SplitMetrics]:
    """Validate and test the chosen weights; returns metrics per split (train: last window)."""
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    ckpt_path = best if use_best and best and Path(best).is_file() else None
    module.split_results.clear()
    trainer.validate(module, datamodule=datamodule, ckpt_path=ckpt_path, verbose=False)
    if getattr(datamodule, "test_split_names", ("test",)):  # empty test/ood are skipped
        trainer.test(module, datamodule=datamodule, ckpt_path=ckpt_path, verbose=False)
    results: dict[str, SplitMetrics] = {}
    if module.last_train_metrics is not None:
        results["train"] = module.last_train_metrics
    results.update(module.split_results)
    if not any(name != "train" for name in results):
        raise RuntimeError(
            "final evaluation produced no metrics for any held-out split; nothing to report"
        )
    return results


def train(
    module: ProteinLM,
    datamodule: L.LightningDataModule,
    trainer: L.Trainer,
    run_dir: Path,
    *,
    ckpt_path: str | None = None,
    evaluate_first: bool = False,
    evaluate_best: bool = True,
    extra_json: dict[str, Any] | None = None,
) -> dict[str, SplitMetrics]:
    """Fit, evaluate every split, print the table, write `metrics.json`; returns the metrics."""
    if evaluate_first:
        # Paper §4.3: the accuracy right after swapping the attention kind, before fine-tuning.
        trainer.validate(module, datamodule=datamodule, verbose=False)
        if "valid" in module.split_results:
            _print(f"step-0 evaluation after --init-from:\n{format_table(module.split_results)}")
    trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
    if trainer.fast_dev_run:
        return {}
    results = final_evaluation(trainer, module, datamodule, evaluate_best)
    extra = {"global_step": trainer.global_step, **(extra_json or {})}
    if trainer.checkpoint_callback is not None and trainer.checkpoint_callback.best_model_path:
        extra["checkpoint"] = trainer.checkpoint_callback.best_model_path
    _report(results, run_dir, extra)
    return results


@rank_zero_only
def _print(text: str) -> None:
    print(text, flush=True)


@rank_zero_only
def _report(results: dict[str, SplitMetrics], run_dir: Path, extra: dict[str, Any]) -> None:
    path = write_metrics_json(run_dir / "metrics.json", results, extra)
    _print(
        f"\nFinal metrics vs the unigram baseline (paper Table 2 layout):\n"
        f"{format_table(results)}\n(written to {path})"
    )
