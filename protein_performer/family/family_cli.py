"""`protein-performer family`: train a model on one family's alignment, then check it against
what evaluation inputs are given: a deep mutational scan, a column contact map or a structure.

    protein-performer family --data.msa family.a2m                       # the family recipe
    protein-performer family --data.msa family.sto --eval.scan scan.csv --eval.wild_type wt.fasta
    protein-performer family --config configs/family.yaml                # `make family` (PDZ)

The defaults are the family recipe (`RECIPE`: a 4-layer, 64-wide causal Performer with FAVOR+
softmax features over the aligned columns, its first layer a position-attention layer whose map
reads as contacts, weighted rows, dropout 0.2, 1,500 steps of at most 128 rows and 10,752 tokens),
chosen by the ablation in docs/FAMILIES.md.
Sections: `model` (`PerformerConfig`, from `model_preset`), `optim`, `trainer` as for
`protein-performer train`; `data` (`FamilyDataConfig`: alignment, view, weights,
filters) and `eval` (`FamilyEvalConfig`: scan, wild type, its row, contact map or structure).
Every input is checked before the first step, and a used run directory is refused unless
`--resume true` or `--overwrite true`. Outputs go to `runs/<name>/`: checkpoints (carrying the
alignment's profile HMM), `metrics.json`, and `family/` with `evaluation.json`, `report.md`
and, where asked for, `scores.tsv` and figures. `--reference CKPT` scores another checkpoint on
the same variants, in the same table.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from jsonargparse import ArgumentParser, Namespace

from protein_performer import command_line
from protein_performer.analysis.family_evaluation import FamilyEvalConfig
from protein_performer.data.family import FamilyDataConfig
from protein_performer.model.attention_kinds import FAVOR_PLUS_KIND
from protein_performer.model.config import PerformerConfig
from protein_performer.training.config_parser import ConfigParser, add_run_arguments, use_preset
from protein_performer.training.lit_module import OptimConfig
from protein_performer.training.run import TrainerConfig
from protein_performer.training.train_cli import quiet_lightning

# The family recipe (docs/FAMILIES.md, `make family-bench`): the defaults of this command, over
# those of `train` (which are the paper's general model).
RECIPE_PRESET = "family_l4_d64"
RECIPE: dict[str, object] = {
    "model.attention": FAVOR_PLUS_KIND,
    "model.objective": "causal",
    "model.dropout": 0.2,
    "model.position_attention_layers": 1,
    "optim.lr": 3.0e-3,
    "optim.warmup_steps": 30,
    "optim.decay": "linear",
    "optim.weight_decay": 0.1,
    "trainer.max_steps": 1500,
    "trainer.val_check_interval": 100,
    "trainer.checkpoint_every_n_steps": 100,
    "trainer.log_every_n_steps": 20,
    "trainer.devices": 1,
    "trainer.redraw_every_n_steps": 0,
}


def build_parser(preset_name: str | None = None) -> ArgumentParser:
    parser = ConfigParser(prog="protein-performer family", description=__doc__.split("\n\n")[0])
    add_run_arguments(parser, default_name="family",
                      config_help="YAML config (configs/family*.yaml)",
                      default_preset=RECIPE_PRESET)  # fmt: skip
    parser.add_class_arguments(PerformerConfig, "model", instantiate=False)
    parser.add_class_arguments(OptimConfig, "optim", instantiate=False)
    parser.add_class_arguments(TrainerConfig, "trainer", instantiate=False)
    parser.add_class_arguments(FamilyDataConfig, "data", instantiate=False)
    parser.add_class_arguments(FamilyEvalConfig, "eval", instantiate=False)
    parser.add_argument(
        "--init-from", "--init_from", dest="init_from", type=str | None, default=None,
        help="fine-tune from a checkpoint (e.g. the shipped general model)",
    )  # fmt: skip
    parser.add_argument(
        "--reference", type=str, nargs="*", default=[],
        help="other checkpoints to score on the same variants",
    )  # fmt: skip
    parser.add_argument(
        "--resume", type=bool, default=False,
        help="continue runs/<name>/ from its newest intact checkpoint",
    )  # fmt: skip
    parser.add_argument(
        "--overwrite", type=bool, default=False,
        help="replace runs/<name>/ if it exists (only once every input has been checked)",
    )  # fmt: skip
    use_preset(parser, preset_name)
    parser.set_defaults(RECIPE)
    return parser


def parse(argv: list[str]) -> tuple[ArgumentParser, Namespace]:
    first = build_parser().parse_args(argv)
    parser = build_parser(first.model_preset)
    return parser, parser.parse_args(argv)


def run(parser: ArgumentParser, cfg: Namespace) -> int:
    from protein_performer.family.launch import prepare_family_launch
    from protein_performer.family.pipeline import evaluate_and_report
    from protein_performer.family.train import train_family

    launch = prepare_family_launch(cfg)
    run_dir = launch.run_dir
    if launch.replace_run_dir:
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    parser.save(cfg, run_dir / "config.yaml", overwrite=True, skip_none=False)
    start = time.perf_counter()
    module = train_family(
        launch.module, launch.datamodule, launch.trainer, run_dir, ckpt_path=launch.ckpt_path,
        evaluate_best=launch.trainer_cfg.evaluate_best,
    )  # fmt: skip
    train_s = time.perf_counter() - start
    print(f"trained in {train_s / 60:.1f} min; evaluating", flush=True)
    best = run_dir / "checkpoints" / "best.ckpt"
    extra = {
        "train_seconds": round(train_s, 1),
        **({"checkpoint": str(best)} if best.is_file() else {}),
    }
    evaluate_and_report(
        module.model, launch.datamodule, launch.eval_cfg, run_dir / "family", name=cfg.name,
        references=list(cfg.reference), extra=extra, evaluation=launch.evaluation,
    )  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("WANDB_MODE", "offline")
    quiet_lightning()
    parser, cfg = parse(argv)
    return command_line.run("protein-performer family", lambda: _locked(parser, cfg))


def _locked(parser: ArgumentParser, cfg: Namespace) -> int:
    from protein_performer.training.launch import RunDirLock

    lock = RunDirLock(Path(cfg.runs_dir) / cfg.name).acquire()
    try:
        return run(parser, cfg)
    finally:
        lock.release()


if __name__ == "__main__":
    sys.exit(main())
