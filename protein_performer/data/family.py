"""`FamilyDataModule`: one protein family's alignment (`data.family_alignment`) as Lightning
dataloaders. Training rows are drawn with replacement in proportion to their sequence weights
(uniformly with `weights=False`); valid and test rows are read in order, with fixed MLM masks.
"""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, WeightedRandomSampler

from protein_performer.constants import AMINO_ACID_IDS, GAP_ID
from protein_performer.data.batching import CausalCollator, MLMCollator
from protein_performer.data.family_alignment import (
    SPLITS,
    FamilyAlignment,
    FamilyDataConfig,
    FamilyItems,
    View,
    held_out_rows,
    row_tokens,
    split_of,
)
from protein_performer.data.msa import MSA

__all__ = ["SPLITS", "FamilyAlignment", "FamilyDataConfig", "FamilyDataModule", "FamilyItems",
           "View", "held_out_rows", "row_tokens", "split_of"]  # fmt: skip


class FamilyDataModule(L.LightningDataModule):
    """Train / valid / test loaders over a `FamilyAlignment`, built in `setup`."""

    test_split_names: tuple[str, ...] = ("test",)

    def __init__(self, config: FamilyDataConfig, objective: str = "mlm") -> None:
        super().__init__()
        self.config = config
        self.objective = objective
        self.alignment: FamilyAlignment | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.alignment is None:
            self.alignment = FamilyAlignment(self.config)

    # The alignment's data, read through the DataModule as well (evaluation takes either).
    @property
    def msa(self) -> MSA | None:
        return None if self.alignment is None else self.alignment.msa

    @property
    def weights_N(self) -> np.ndarray | None:
        return None if self.alignment is None else self.alignment.weights_N

    @property
    def split_N(self) -> np.ndarray | None:
        return None if self.alignment is None else self.alignment.split_N

    @property
    def items(self) -> dict[str, FamilyItems]:
        return {} if self.alignment is None else self.alignment.items

    @property
    def neff(self) -> float:
        return self.alignment.neff

    def rows(self, split: str) -> np.ndarray:
        return self.alignment.rows(split)

    def unigram_counts(self, include_eos: bool = False) -> np.ndarray:
        return self.alignment.unigram_counts(include_eos)

    @property
    def batch_rows(self) -> int:
        """Rows per batch of every loader: `FamilyDataConfig.batch_rows` of the longest
        training item."""
        return self.config.batch_rows(max((len(t) for t in self.items["train"].tokens), default=1))

    def _collator(self, *, train: bool):
        if self.objective == "causal":
            return CausalCollator()
        maskable = AMINO_ACID_IDS + ((GAP_ID,) if self.config.view == "aligned" else ())
        return MLMCollator(
            mask_prob=self.config.mask_prob,
            seed=None if train else self.config.seed,
            maskable_ids=maskable,
        )

    def train_dataloader(self) -> DataLoader:
        draw_N = self.alignment.draw_weights("train")
        generator = torch.Generator().manual_seed(self.config.seed)
        sampler = WeightedRandomSampler(
            torch.from_numpy(draw_N), len(draw_N), replacement=True, generator=generator
        )
        return DataLoader(
            self.items["train"],
            batch_size=self.batch_rows,
            sampler=sampler,
            collate_fn=self._collator(train=True),
            num_workers=self.config.num_workers,
        )

    def _eval_loader(self, split: str) -> DataLoader:
        return DataLoader(
            self.items[split],
            batch_size=self.batch_rows,
            collate_fn=self._collator(train=False),
            num_workers=self.config.num_workers,
        )

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader("valid")

    def test_dataloader(self) -> list[DataLoader]:
        return [self._eval_loader("test")]
