"""`protein-performer train`: a typed jsonargparse CLI over YAML configs in `configs/`.

    protein-performer train --config configs/default.yaml [--trainer.max_steps 500 ...]

Sections: `model` (`PerformerConfig`, optionally starting from `model_preset`), `optim`
(`OptimConfig`), `trainer` (`TrainerConfig`) and `data` (the arguments of
`ProteinDataModule.__init__`, read from its signature, so the two layers cannot drift apart).
`data.objective` follows `model.objective`. The resolved configuration is written to
`runs/<name>/config.yaml` before training starts; feeding it back with `--config` repeats the run.

Flags: `--resume` continues `runs/<name>/checkpoints/last.ckpt` (same step, optimizer, features,
redraw generator); `--init-from CKPT` loads the parameters of another run, typically of the other
attention kind (paper §4.3), evaluates at step 0 and fine-tunes; `--find-batch-size` runs
Lightning's batch-size finder first; `--wandb` adds a Weights & Biases logger (offline unless
WANDB_MODE says otherwise).
"""

from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path
from typing import Any

from jsonargparse import ActionConfigFile, ArgumentParser, Namespace

from protein_performer.model.config import PRESETS, PerformerConfig
from protein_performer.training.lit_module import OptimConfig
from protein_performer.training.run import TrainerConfig


def _datamodule_class() -> type:
    from protein_performer.data.datamodule import ProteinDataModule

    return ProteinDataModule


def build_parser(preset_name: str | None = None) -> ArgumentParser:
    """The `train` parser; with `preset_name`, the `model.*` defaults come from that preset."""
    parser = ArgumentParser(prog="protein-performer train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", action=ActionConfigFile, help="YAML config (configs/*.yaml)")
    parser.add_argument("--name", type=str, default="default", help="run name: runs/<name>/")
    parser.add_argument("--runs_dir", type=str, default="runs", help="parent of run directories")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed_everything (init, data, dropout)"
    )
    parser.add_argument(
        "--model_preset",
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
    parser.add_argument("--resume", type=bool, default=False, help="continue from last.ckpt")
    parser.add_argument("--ckpt_path", type=str | None, default=None, help="resume from this file")
    parser.add_argument(
        "--init-from", "--init_from", dest="init_from", type=str | None, default=None,
        help="load parameters from a checkpoint of the same shape (any attention kind)",
    )  # fmt: skip
    parser.add_argument(
        "--find-batch-size", "--find_batch_size", dest="find_batch_size", type=bool,
        default=False, help="run Lightning's batch-size finder before training",
    )  # fmt: skip
    parser.add_argument("--wandb", type=bool, default=False, help="also log to Weights & Biases")
    parser.add_argument("--wandb_project", type=str, default="protein-performer")
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


def run(parser: ArgumentParser, cfg: Namespace) -> int:
    import lightning as L
    from lightning.pytorch.utilities import rank_zero_only

    from protein_performer.training.checkpoint import init_from
    from protein_performer.training.lit_module import ProteinLM
    from protein_performer.training.run import build_trainer, train

    run_dir = Path(cfg.runs_dir) / cfg.name
    model_cfg = PerformerConfig(**_plain(cfg.model))
    optim_cfg = OptimConfig(**_plain(cfg.optim))
    trainer_cfg = TrainerConfig(**_plain(cfg.trainer))
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    if rank_zero_only.rank == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
        parser.save(cfg, run_dir / "config.yaml", overwrite=True, skip_none=False)
    datamodule = _datamodule_class()(**_plain(cfg.data))
    data_len = getattr(datamodule, "max_len", None)
    if isinstance(data_len, int) and data_len > model_cfg.max_len:
        parser.error(f"data.max_len={data_len} exceeds model.max_len={model_cfg.max_len}")
    module = ProteinLM(model_cfg, optim_cfg)
    if cfg.init_from:
        report = init_from(cfg.init_from, module.model)
        print(
            f"--init-from {cfg.init_from}: {len(report.parameters)} parameters transferred; "
            f"projections copied {len(report.buffers_copied)}, "
            f"kept fresh {len(report.buffers_kept)}"
        )
    # Token-budget batches come from our own rank-sharding batch sampler.
    token_batches = getattr(datamodule, "tokens_per_batch", None) is not None
    trainer = build_trainer(
        trainer_cfg,
        run_dir,
        name=cfg.name,
        wandb=cfg.wandb,
        wandb_project=cfg.wandb_project,
        shards_batches=token_batches,
    )
    if cfg.find_batch_size:
        from lightning.pytorch.tuner import Tuner

        if token_batches:
            parser.error("--find-batch-size scales data.batch_size; unset data.tokens_per_batch")

        # At most 2^8 times the configured batch: on a CPU nothing raises OOM, so an unbounded
        # doubling would only stop at the dataset size, long after memory ran out.
        size = Tuner(trainer).scale_batch_size(
            module, datamodule=datamodule, mode="power", max_trials=8
        )
        print(f"batch-size finder: using batch_size={size}")
    ckpt_path = cfg.ckpt_path
    last = run_dir / "checkpoints" / "last.ckpt"
    if cfg.resume and ckpt_path is None:
        if last.is_file():
            ckpt_path = str(last)
            print(f"resuming from {last}")
        else:
            print(f"--resume: no {last} yet, starting from scratch")
    train(
        module,
        datamodule,
        trainer,
        run_dir,
        ckpt_path=ckpt_path,
        evaluate_first=bool(cfg.init_from),
        evaluate_best=trainer_cfg.evaluate_best,
        extra_json={"name": cfg.name, "model": model_cfg.to_dict()},
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("WANDB_MODE", "offline")
    parser, cfg = parse(argv)
    return run(parser, cfg)


if __name__ == "__main__":
    sys.exit(main())
