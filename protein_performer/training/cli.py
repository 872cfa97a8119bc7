"""`protein-performer train`: a typed jsonargparse CLI over YAML configs in `configs/`.

    protein-performer train --config configs/default.yaml [--trainer.max_steps 500 ...]

Sections: `model` (`PerformerConfig`, optionally starting from `model_preset`), `optim`
(`OptimConfig`), `trainer` (`TrainerConfig`) and `data` (the arguments of
`ProteinDataModule.__init__`, read from its signature, so the two layers cannot drift apart).
`data.objective` follows `model.objective`. Top-level flags are kebab-case (`--runs-dir`,
`--model-preset`, `--ckpt-path`, `--init-from`; the snake_case spellings still parse), groups
are dotted (`--trainer.max_steps`).

Order of a launch: every argument, input file and checkpoint is checked and the data prepared
first (`prepare_launch`); a problem there is one line on stderr naming the flag or file, exit
status 2, and nothing written under `runs/<name>/`. Only then is the resolved configuration
written to `runs/<name>/config.yaml` (feeding it back with `--config` repeats the run).

Flags: `--resume true` continues `runs/<name>/` from its intact checkpoint with the highest
recorded step (same step, optimizer, features, redraw generator, data position); a launch
without it into a directory that already holds checkpoints is refused. `--init-from CKPT`
loads the parameters of another run, typically of the other attention kind (paper §4.3),
evaluates at step 0 and fine-tunes; `--find-batch-size` runs Lightning's batch-size finder
first; `--wandb` adds a Weights & Biases logger (offline unless WANDB_MODE says otherwise).
"""

from __future__ import annotations

import inspect
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from jsonargparse import ActionConfigFile, ArgumentParser, Namespace

from protein_performer.model.config import PRESETS, PerformerConfig
from protein_performer.training.lit_module import OptimConfig
from protein_performer.training.run import TrainerConfig


def _datamodule_class() -> type:
    from protein_performer.data.datamodule import ProteinDataModule

    return ProteinDataModule


class _OneLineErrors(ArgumentParser):
    """jsonargparse's parser with its usage errors on one line (`prog: error: ...`), like every
    other user error of the CLI, instead of usage + tip + a message wrapped over lines."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        print(f"{self.prog}: error: {' '.join(message.split())}", file=sys.stderr)
        raise SystemExit(2)


def build_parser(preset_name: str | None = None) -> ArgumentParser:
    """The `train` parser; with `preset_name`, the `model.*` defaults come from that preset."""
    parser = _OneLineErrors(prog="protein-performer train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", action=ActionConfigFile, help="YAML config (configs/*.yaml)")
    parser.add_argument("--name", type=str, default="default", help="run name: runs/<name>/")
    parser.add_argument(
        "--runs-dir", "--runs_dir", dest="runs_dir", type=str, default="runs",
        help="parent of run directories",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=0, help="seed_everything (init, data, dropout)"
    )
    parser.add_argument(
        "--model-preset",
        "--model_preset",
        dest="model_preset",
        type=str | None,
        default=None,
        help=f"start model.* from a preset ({', '.join(sorted(PRESETS))}); model.* overrides",
    )
    parser.add_class_arguments(PerformerConfig, "model", instantiate=False)
    parser.add_class_arguments(OptimConfig, "optim", instantiate=False)
    parser.add_class_arguments(TrainerConfig, "trainer", instantiate=False)
    datamodule_cls = _datamodule_class()
    parser.add_class_arguments(datamodule_cls, "data", instantiate=False)
    if "objective" in inspect.signature(datamodule_cls).parameters:
        parser.link_arguments("model.objective", "data.objective")
    parser.add_argument(
        "--resume", type=bool, default=False,
        help="continue runs/<name>/: the intact checkpoint with the highest recorded step",
    )  # fmt: skip
    parser.add_argument(
        "--ckpt-path", "--ckpt_path", dest="ckpt_path", type=str | None, default=None,
        help="resume from this Lightning checkpoint file",
    )  # fmt: skip
    parser.add_argument(
        "--init-from", "--init_from", dest="init_from", type=str | None, default=None,
        help="load parameters from a checkpoint of the same shape (any attention kind)",
    )  # fmt: skip
    parser.add_argument(
        "--find-batch-size", "--find_batch_size", dest="find_batch_size", type=bool,
        default=False, help="run Lightning's batch-size finder before training",
    )  # fmt: skip
    parser.add_argument("--wandb", type=bool, default=False, help="also log to Weights & Biases")
    parser.add_argument(
        "--wandb-project", "--wandb_project", dest="wandb_project", type=str,
        default="protein-performer",
    )  # fmt: skip
    if preset_name is not None:
        if preset_name not in PRESETS:
            parser.error(f"model_preset {preset_name!r} is not one of {sorted(PRESETS)}")
        parser.set_defaults({f"model.{k}": v for k, v in PRESETS[preset_name].to_dict().items()})
    return parser


def parse(argv: list[str]) -> tuple[ArgumentParser, Namespace]:
    """Parse twice: once to learn `model_preset`, then with the preset as `model.*` defaults so
    anything written in the YAML or on the command line still wins over it."""
    first = build_parser().parse_args(argv)
    parser = build_parser(first.model_preset)
    return parser, parser.parse_args(argv)


def _plain(namespace: Namespace | dict[str, Any]) -> dict[str, Any]:
    values = namespace.as_dict() if isinstance(namespace, Namespace) else dict(namespace)
    return {k: v for k, v in values.items() if not k.startswith("__")}


class UserError(Exception):
    """A problem with the command line, the config or an input file: reported in one line."""


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
    datamodule = _typed("data", _datamodule_class(), _plain(cfg.data))
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


def run(parser: ArgumentParser, cfg: Namespace) -> int:
    from lightning.pytorch.utilities import rank_zero_only

    from protein_performer.data.datamodule import EmptySplitError
    from protein_performer.training.run import train

    try:
        launch = prepare_launch(parser, cfg)
        try:
            launch.datamodule.setup("fit")
        except (EmptySplitError, OSError, ValueError) as error:
            raise UserError(f"data: {error}") from error
    except UserError as error:
        print(f"protein-performer train: error: {error}", file=sys.stderr)
        return 2
    run_dir, trainer = launch.run_dir, launch.trainer
    if rank_zero_only.rank == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
        parser.save(cfg, run_dir / "config.yaml", overwrite=True, skip_none=False)
    if cfg.find_batch_size:
        from lightning.pytorch.tuner import Tuner

        # At most 2^8 times the configured batch: on a CPU nothing raises OOM, so an unbounded
        # doubling would only stop at the dataset size, long after memory ran out.
        size = Tuner(trainer).scale_batch_size(
            launch.module, datamodule=launch.datamodule, mode="power", max_trials=8
        )
        print(f"batch-size finder: using batch_size={size}")
    train(
        launch.module,
        launch.datamodule,
        trainer,
        run_dir,
        ckpt_path=launch.ckpt_path,
        evaluate_first=bool(cfg.init_from),
        evaluate_best=launch.trainer_cfg.evaluate_best,
        extra_json={"name": cfg.name, "model": launch.model_cfg.to_dict()},
    )
    return 0


def _quiet_lightning() -> None:
    """Drop Lightning noise no user can act on: an advertising tip, a deprecation inside
    Lightning's own pytree helper, and the non-empty checkpoint directory notice of a resume."""
    import logging

    class _NoTip(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "litlogger" not in str(record.getMessage())

    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero"):
        logging.getLogger(name).addFilter(_NoTip())
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
    # Only reachable with --resume (a fresh launch into a used directory is refused).
    warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("WANDB_MODE", "offline")
    _quiet_lightning()
    parser, cfg = parse(argv)
    return run(parser, cfg)


if __name__ == "__main__":
    sys.exit(main())
