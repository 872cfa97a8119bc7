"""Train a family model on Lightning's engine: the same `ProteinLM`, Trainer, callbacks and
checkpoints as a general model, fed by `FamilyDataModule`."""

from __future__ import annotations

from pathlib import Path

import lightning as L

from protein_performer.data.family import FamilyDataConfig, FamilyDataModule
from protein_performer.family.transfer import init_family_from
from protein_performer.model.config import PerformerConfig
from protein_performer.training.lit_module import OptimConfig, ProteinLM
from protein_performer.training.run import TrainerConfig, build_trainer, train


def fit_model_config(model: PerformerConfig, datamodule: FamilyDataModule) -> PerformerConfig:
    """`model` with the vocabulary of the data's view and a position table that fits it."""
    longest = max(len(t) for items in datamodule.items.values() for t in items.tokens)
    max_len = longest if datamodule.config.view == "aligned" else max(longest, model.max_len)
    return model.replace(vocab_size=datamodule.config.vocab_size, max_len=max_len)


def check_splits(datamodule: FamilyDataModule) -> None:
    """Refuse, before training, rows that leave nothing to train on or nothing to evaluate."""
    sizes = {split: len(items) for split, items in datamodule.items.items()}
    if not sizes.get("train") or not (sizes.get("valid") or sizes.get("test")):
        raise ValueError(
            f"{datamodule.config.msa}: {datamodule.msa.depth} rows split into "
            + ", ".join(f"{k} {v}" for k, v in sizes.items())
            + "; training needs train rows and valid or test rows (a deeper alignment, or "
            "larger --data.valid_fraction / --data.test_fraction)"
        )


def train_family(
    model: PerformerConfig,
    optim: OptimConfig,
    trainer_cfg: TrainerConfig,
    data: FamilyDataConfig,
    run_dir: Path,
    *,
    seed: int = 0,
    init_from: str | None = None,
) -> tuple[ProteinLM, FamilyDataModule]:
    """Fit, evaluate valid/test against the weighted unigram baseline, write `metrics.json`;
    returns the module holding the weights chosen for evaluation (best valid loss) and the data."""
    L.seed_everything(seed, workers=True, verbose=False)
    datamodule = FamilyDataModule(data, objective=model.objective)
    datamodule.setup("fit")
    check_splits(datamodule)
    module = ProteinLM(fit_model_config(model, datamodule), optim)
    if init_from:
        n = init_family_from(init_from, module.model)
        print(f"--init-from {init_from}: {n} parameters transferred")
    trainer = build_trainer(trainer_cfg, run_dir, name=run_dir.name)
    train(module, datamodule, trainer, run_dir, evaluate_best=trainer_cfg.evaluate_best,
          extra_json={"neff": datamodule.neff, "rows": datamodule.msa.depth})  # fmt: skip
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    if trainer_cfg.evaluate_best and best and Path(best).is_file():
        from protein_performer.model.io import load_model

        module.model = load_model(best)
    module.model.eval()
    return module, datamodule
