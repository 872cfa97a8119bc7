"""`protein-performer family`: train a model on one family's alignment, then check it against a
deep mutational scan and the family's contact map (`make family`).

    protein-performer family --config configs/family.yaml [--trainer.max_steps 200 ...]
    protein-performer family --config configs/family.yaml --init-from checkpoints/x.ckpt

Sections: `model` (`PerformerConfig`, from `model_preset`), `optim`, `trainer` as for
`protein-performer train`; `data` (`FamilyDataConfig`: alignment, view, weights, filters) and
`eval` (`FamilyEvalConfig`: scan, score column, wild type, its row, contact map). Outputs go to
`runs/<name>/`: checkpoints, `metrics.json`, and `family/` with `scores.tsv`, `evaluation.json`,
`report.md` and figures. `--reference CKPT` scores another checkpoint (e.g. the shipped general
model) on the same variants, in the same table.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from jsonargparse import ActionConfigFile, ArgumentParser, Namespace

from protein_performer import cli_support as cs
from protein_performer.data.family import FamilyDataConfig
from protein_performer.family.evaluate import FamilyEvalConfig
from protein_performer.model.config import PRESETS, PerformerConfig
from protein_performer.training.cli import quiet_lightning
from protein_performer.training.lit_module import OptimConfig
from protein_performer.training.run import TrainerConfig


def build_parser(preset_name: str | None = None) -> ArgumentParser:
    parser = ArgumentParser(prog="protein-performer family", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--config", action=ActionConfigFile, help="YAML config (configs/family*.yaml)"
    )
    parser.add_argument("--name", type=str, default="family", help="run name: runs/<name>/")
    parser.add_argument("--runs-dir", type=str, default="runs", help="parent of run directories")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed_everything (init, data, dropout)"
    )
    parser.add_argument(
        "--model-preset", "--model_preset", dest="model_preset", type=str | None, default=None,
        help=f"start model.* from a preset ({', '.join(sorted(PRESETS))}); model.* overrides",
    )  # fmt: skip
    parser.add_class_arguments(PerformerConfig, "model", instantiate=False)
    parser.add_class_arguments(OptimConfig, "optim", instantiate=False)
    parser.add_class_arguments(TrainerConfig, "trainer", instantiate=False)
    parser.add_class_arguments(FamilyDataConfig, "data", instantiate=False)
    parser.add_class_arguments(FamilyEvalConfig, "eval", instantiate=False)
    parser.add_argument(
        "--init-from", type=str | None, default=None,
        help="fine-tune from a checkpoint (e.g. the shipped general model)",
    )  # fmt: skip
    parser.add_argument(
        "--reference", type=str, nargs="*", default=[],
        help="other checkpoints to score on the same variants",
    )  # fmt: skip
    if preset_name is not None:
        if preset_name not in PRESETS:
            parser.error(f"--model-preset {preset_name!r} is not one of {sorted(PRESETS)}")
        parser.set_defaults({f"model.{k}": v for k, v in PRESETS[preset_name].to_dict().items()})
    return parser


def parse(argv: list[str]) -> tuple[ArgumentParser, Namespace]:
    first = build_parser().parse_args(argv)
    parser = build_parser(first.model_preset)
    return parser, parser.parse_args(argv)


def _plain(namespace: Namespace) -> dict:
    return {k: v for k, v in namespace.as_dict().items() if not k.startswith("__")}


def configs(cfg: Namespace):
    eval_values = _plain(cfg.eval)
    if eval_values.get("methods") is not None:
        eval_values["methods"] = tuple(eval_values["methods"])
    return (
        PerformerConfig(**_plain(cfg.model)),
        OptimConfig(**_plain(cfg.optim)),
        TrainerConfig(**_plain(cfg.trainer)),
        FamilyDataConfig(**_plain(cfg.data)),
        FamilyEvalConfig(**eval_values),
    )


def run(parser: ArgumentParser, cfg: Namespace) -> int:
    from protein_performer.family.pipeline import evaluate_and_report
    from protein_performer.family.train import train_family

    model_cfg, optim_cfg, trainer_cfg, data_cfg, eval_cfg = configs(cfg)
    for path, flag in ((data_cfg.msa, "--data.msa"), (eval_cfg.scan, "--eval.scan"),
                       (eval_cfg.wild_type, "--eval.wild_type"), *[(r, "--reference")
                       for r in cfg.reference]):  # fmt: skip
        if not Path(path).is_file():
            parser.error(f"{flag} {path}: no such file")
    run_dir = Path(cfg.runs_dir) / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)
    parser.save(cfg, run_dir / "config.yaml", overwrite=True, skip_none=False)
    start = time.perf_counter()
    module, datamodule = train_family(
        model_cfg, optim_cfg, trainer_cfg, data_cfg, run_dir, seed=cfg.seed,
        init_from=cfg.init_from,
    )  # fmt: skip
    train_s = time.perf_counter() - start
    print(f"trained in {train_s / 60:.1f} min; evaluating on {eval_cfg.scan}", flush=True)
    best = run_dir / "checkpoints" / "best.ckpt"
    extra = {
        "train_seconds": round(train_s, 1),
        **({"checkpoint": str(best)} if best.is_file() else {}),
    }
    evaluate_and_report(
        module.model, datamodule, eval_cfg, run_dir / "family", name=cfg.name,
        references=list(cfg.reference), extra=extra,
    )  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("WANDB_MODE", "offline")
    quiet_lightning()
    parser, cfg = parse(argv)
    return cs.run("protein-performer family", lambda: _locked(parser, cfg))


def _locked(parser: ArgumentParser, cfg: Namespace) -> int:
    from protein_performer.training.launch import RunDirLock

    lock = RunDirLock(Path(cfg.runs_dir) / cfg.name).acquire()
    try:
        return run(parser, cfg)
    finally:
        lock.release()


if __name__ == "__main__":
    sys.exit(main())
