"""Checking a `protein-performer family` launch before anything is written, as `train` does
(`training.launch`): the typed configs, the run directory, the alignment, every evaluation
input (wild type on the columns, the scan and its coverage, the contacts), the model, the
profile HMM the checkpoints will carry and the Trainer.

`prepare_family_launch` raises `UserError` on the first problem, with a one-line message naming
the flag or file; nothing under `runs/<name>/` is touched until it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonargparse import Namespace

from protein_performer.analysis.family_evaluation import FamilyEvalConfig, FamilyEvaluation
from protein_performer.data.family import FamilyDataConfig, FamilyDataModule
from protein_performer.data.fasta import iter_fasta
from protein_performer.data.msa import MSAFormatError
from protein_performer.errors import UserError
from protein_performer.model.config import PerformerConfig
from protein_performer.training.launch import _trainer_flag, _typed, resume_checkpoint
from protein_performer.training.lit_module import OptimConfig
from protein_performer.training.run import TrainerConfig


@dataclass
class FamilyLaunch:
    """Everything a family run needs, built and checked before anything is written."""

    run_dir: Path
    module: Any
    datamodule: FamilyDataModule
    evaluation: FamilyEvaluation
    trainer: Any
    ckpt_path: str | None
    trainer_cfg: TrainerConfig
    eval_cfg: FamilyEvalConfig
    replace_run_dir: bool


def _plain(namespace: Namespace) -> dict[str, Any]:
    return {k: v for k, v in namespace.as_dict().items() if not k.startswith("__")}


def check_run_dir(cfg: Namespace, run_dir: Path) -> tuple[str | None, int | None, bool]:
    """(checkpoint to resume, its step, whether to replace the directory). A used run
    directory is refused unless `--resume true` or `--overwrite true` says what to do."""
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"--runs-dir/--name: {run_dir} is a file, not a run directory")
    if cfg.resume and cfg.overwrite:
        raise UserError("--resume true and --overwrite true: choose one")
    used = run_dir.is_dir() and any(run_dir.iterdir())
    if cfg.resume:
        path, step = resume_checkpoint(Namespace(ckpt_path=None, resume=True), run_dir)
        return path, step, False
    if used and not cfg.overwrite:
        raise UserError(
            f"{run_dir} exists already: continue it with --resume true, replace it with "
            f"--overwrite true, or choose another --name"
        )
    return None, None, used


def _unaligned_hint(path: str, error: MSAFormatError) -> str:
    """The alignment error, or a pointer to `protein-performer msa` when the file holds plain,
    unaligned sequences (no gap anywhere and rows of different lengths)."""
    lengths, gapped = set(), False
    try:
        for k, record in enumerate(iter_fasta(path)):
            gapped |= "-" in record.sequence or "." in record.sequence
            lengths.add(len(record.sequence))
            if k >= 200:
                break
    except (ValueError, OSError):
        return f"--data.msa {error}"
    if gapped or len(lengths) < 2:
        return f"--data.msa {error}"
    return (
        f"--data.msa {path}: unaligned sequences (no gaps, lengths {min(lengths)} to "
        f"{max(lengths)}), not an alignment; build one with `protein-performer msa --query "
        f"WT.fasta --db {path} --out family.a2m`"
    )


def read_family(data_cfg: FamilyDataConfig, objective: str) -> FamilyDataModule:
    datamodule = FamilyDataModule(data_cfg, objective=objective)
    try:
        datamodule.setup("fit")
    except MSAFormatError as error:
        raise UserError(_unaligned_hint(data_cfg.msa, error)) from error
    except (FileNotFoundError, ValueError) as error:
        raise UserError(f"--data.msa {error}") from error
    if not len(datamodule.items["train"]):
        raise UserError(f"--data.msa {data_cfg.msa}: no training rows")
    if not len(datamodule.items["valid"]) and not len(datamodule.items["test"]):
        raise UserError(
            f"--data.msa {data_cfg.msa}: {datamodule.msa.depth} rows leave none for "
            f"validation or test (data.valid_fraction, data.test_fraction)"
        )
    return datamodule


def prepare_family_launch(cfg: Namespace) -> FamilyLaunch:
    """Check every argument and input, build the model and the Trainer; raise `UserError` on
    the first problem. Writes nothing (the sequence-weight cache aside)."""
    import lightning as L
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    from protein_performer.analysis.family_evaluation import setup_evaluation
    from protein_performer.family.train import FamilyInfoCallback, family_info, fit_model_config
    from protein_performer.family.transfer import init_family_from
    from protein_performer.training.lit_module import ProteinLM
    from protein_performer.training.run import build_trainer

    run_dir = Path(cfg.runs_dir) / cfg.name
    model_cfg = _typed("model", PerformerConfig, _plain(cfg.model))
    optim_cfg = _typed("optim", OptimConfig, _plain(cfg.optim))
    trainer_cfg = _typed("trainer", TrainerConfig, _plain(cfg.trainer))
    data_cfg = _typed("data", FamilyDataConfig, _plain(cfg.data))
    eval_values = _plain(cfg.eval)
    if eval_values.get("methods") is not None:
        eval_values["methods"] = tuple(eval_values["methods"])
    eval_cfg = _typed("eval", FamilyEvalConfig, eval_values)
    inputs = [(cfg.init_from, "--init-from"), *[(r, "--reference") for r in cfg.reference]]
    for path, flag in inputs:
        if path is not None and not Path(path).exists():
            raise UserError(f"{flag} {path}: no such file")
    ckpt_path, resume_step, replace = check_run_dir(cfg, run_dir)
    datamodule = read_family(data_cfg, model_cfg.objective)
    try:
        evaluation = setup_evaluation(datamodule, eval_cfg)
    except (FileNotFoundError, ValueError) as error:
        raise UserError(str(error)) from error
    try:
        info = family_info(datamodule, cfg.seed)
    except ValueError as error:
        raise UserError(f"--data.msa {error}") from error
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    module = ProteinLM(fit_model_config(model_cfg, datamodule), optim_cfg)
    if cfg.init_from:
        try:
            n = init_family_from(cfg.init_from, module.model)
        except (FileNotFoundError, ValueError, KeyError) as error:
            raise UserError(f"--init-from {error}") from error
        print(f"--init-from {cfg.init_from}: {n} parameters transferred")
    try:
        trainer = build_trainer(
            trainer_cfg, run_dir, name=cfg.name, resume_step=resume_step,
            extra_callbacks=[FamilyInfoCallback(info)],
        )  # fmt: skip
    except (ValueError, MisconfigurationException) as error:
        message = " ".join(str(error).split())
        raise UserError(f"{_trainer_flag(message)}: {message}") from error
    return FamilyLaunch(
        run_dir, module, datamodule, evaluation, trainer, ckpt_path, trainer_cfg, eval_cfg,
        replace,
    )  # fmt: skip
