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
from pathlib import Path

from jsonargparse import ArgumentParser, Namespace

from protein_performer import command_line
from protein_performer.errors import UserError
from protein_performer.model.config import PerformerConfig
from protein_performer.training.config_parser import ConfigParser, add_run_arguments, use_preset
from protein_performer.training.launch import (
    RunDirLock,
    datamodule_class,
    prepare_launch,
)
from protein_performer.training.lit_module import OptimConfig
from protein_performer.training.run import TrainerConfig

PROG = "protein-performer train"


def build_parser(preset_name: str | None = None) -> ArgumentParser:
    """The `train` parser; with `preset_name`, the `model.*` defaults come from that preset."""
    parser = ConfigParser(prog=PROG, description=__doc__.split("\n\n")[0])
    add_run_arguments(parser, default_name="default", config_help="YAML config (configs/*.yaml)",
                      default_preset=None)  # fmt: skip
    parser.add_class_arguments(PerformerConfig, "model", instantiate=False)
    parser.add_class_arguments(OptimConfig, "optim", instantiate=False)
    parser.add_class_arguments(TrainerConfig, "trainer", instantiate=False)
    datamodule_cls = datamodule_class()
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
    use_preset(parser, preset_name)
    return parser


def parse(argv: list[str]) -> tuple[ArgumentParser, Namespace]:
    """Parse twice: once to learn `model_preset`, then with the preset as `model.*` defaults so
    anything written in the YAML or on the command line still wins over it."""
    first = build_parser().parse_args(argv)
    parser = build_parser(first.model_preset)
    return parser, parser.parse_args(argv)


def run(parser: ArgumentParser, cfg: Namespace) -> int:
    lock = RunDirLock(Path(cfg.runs_dir) / cfg.name).acquire()
    try:
        return _run_locked(parser, cfg)
    finally:
        lock.release()


def _run_locked(parser: ArgumentParser, cfg: Namespace) -> int:
    from lightning.pytorch.utilities import rank_zero_only

    from protein_performer.data.datamodule import EmptySplitError
    from protein_performer.training.run import train

    launch = prepare_launch(parser, cfg)
    try:
        launch.datamodule.setup("fit")
    except (EmptySplitError, OSError, ValueError) as error:
        raise UserError(f"data: {error}") from error
    command_line.inputs_checked()  # warnings and start-up lines waited until here
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


def quiet_lightning() -> None:
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
    quiet_lightning()
    parser, cfg = parse(argv)
    return command_line.run(PROG, lambda: run(parser, cfg))


if __name__ == "__main__":
    sys.exit(main())
