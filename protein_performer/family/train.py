"""Train a family model on Lightning's engine: the same `ProteinLM`, Trainer, callbacks and
checkpoints as a general model, fed by `FamilyDataModule`; every checkpoint also records what
it was trained on (`FamilyInfo`: view, columns, alignment and its profile HMM)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Callback

from protein_performer.data.family import FamilyDataModule
from protein_performer.data.msa_mapping import build_profile, profile_text
from protein_performer.model.config import PerformerConfig
from protein_performer.model.family_info import CHECKPOINT_KEY, FamilyInfo
from protein_performer.training.lit_module import ProteinLM
from protein_performer.training.run import train


def fit_model_config(model: PerformerConfig, datamodule: FamilyDataModule) -> PerformerConfig:
    """`model` with the vocabulary of the data's view and a position table that fits it."""
    longest = max(len(t) for items in datamodule.items.values() for t in items.tokens)
    max_len = longest if datamodule.config.view == "aligned" else max(longest, model.max_len)
    return model.replace(vocab_size=datamodule.config.vocab_size, max_len=max_len)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def family_info(datamodule: FamilyDataModule, seed: int = 0) -> FamilyInfo:
    """The view, the columns the model reads (after any column filter), the alignment file and
    the profile HMM of those columns (`build_profile`, every column a match state)."""
    msa = datamodule.msa
    return FamilyInfo(
        view=datamodule.config.view,
        n_columns=msa.width,
        alignment=Path(datamodule.config.msa).name,
        alignment_sha256=file_sha256(datamodule.config.msa),
        hmm=profile_text(build_profile(msa, seed)),
        holdout=tuple(datamodule.config.holdout),
        direction=datamodule.config.direction,
    )


class FamilyInfoCallback(Callback):
    """Writes `checkpoint["family"]` into every checkpoint Lightning saves (best and last)."""

    def __init__(self, info: FamilyInfo) -> None:
        self.info = info

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        checkpoint[CHECKPOINT_KEY] = self.info.to_dict()


def train_family(
    module: ProteinLM,
    datamodule: FamilyDataModule,
    trainer: L.Trainer,
    run_dir: Path,
    *,
    ckpt_path: str | None = None,
    evaluate_best: bool = True,
) -> ProteinLM:
    """Fit, evaluate valid/test against the weighted unigram baseline, write `metrics.json`;
    returns the module holding the weights chosen for evaluation (best valid loss)."""
    train(module, datamodule, trainer, run_dir, ckpt_path=ckpt_path, evaluate_best=evaluate_best,
          extra_json={"neff": datamodule.neff, "rows": datamodule.msa.depth})  # fmt: skip
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    if evaluate_best and best and Path(best).is_file():
        from protein_performer.model.io import load_model

        module.model = load_model(best)
    module.model.eval()
    return module
