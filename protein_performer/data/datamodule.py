"""`ProteinDataModule`: prepared UniProt splits as Lightning dataloaders.

`prepare_data()` (rank 0 only, per Lightning) builds or reuses the cached Arrow splits;
`setup(stage)` memory-maps them on every rank. All constructor arguments are plain typed values
so that LightningCLI/jsonargparse can set them from YAML or the command line.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from typing import Any, Literal

import lightning as L
import numpy as np
from datasets import Dataset, DatasetDict
from torch.utils.data import DataLoader

from protein_performer.constants import AMINO_ACID_IDS, EOS_ID, VOCAB_SIZE
from protein_performer.data.batching import (
    CausalCollator,
    EpochBatchSampler,
    FixedBatchSampler,
    MLMCollator,
    TokenBudgetBatchSampler,
)
from protein_performer.data.prepare import (
    PrepareConfig,
    PrepareResult,
    parse_accessions,
    parse_taxa,
    prepare,
)
from protein_performer.data.sequences import ConcatChunkDataset, SingleSequenceDataset

log = logging.getLogger(__name__)
_TEST_SPLITS = ("test", "ood")
# The preparation defaults are PrepareConfig's; the DataModule only spells them as flat, plain
# values (lists as comma-separated text) for LightningCLI.
_PREPARE = PrepareConfig()


class EmptySplitError(ValueError):
    """A split that training needs has no rows."""


def _check_positive(**values: int | None) -> None:
    for name, value in values.items():
        if value is not None and value < 1:
            raise ValueError(f"data.{name} must be >= 1, got {value}")


class ResumableLoader(DataLoader):
    """A DataLoader whose position within the epoch is saved in checkpoints.

    Lightning stores `state_dict()` of every training loader that has one and hands it back
    through `load_state_dict` on resume; the batch sampler then starts that epoch at the batch
    where the checkpoint was taken, so a resumed run sees exactly the batches an uninterrupted
    run would have (the order is a function of seed and epoch, see `EpochBatchSampler`).
    Lightning does not prefetch from sized loaders, so batches handed out = batches trained on.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._position = 0

    def __iter__(self) -> Iterator[Any]:
        sampler: EpochBatchSampler = self.batch_sampler
        skip = sampler._skip
        self._position = skip[1] if skip is not None and skip[0] == sampler.epoch else 0
        for batch in super().__iter__():
            self._position += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": int(self.batch_sampler.epoch), "position": self._position}

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        self.batch_sampler.skip(int(state_dict["epoch"]), int(state_dict["position"]))


class ProteinDataModule(L.LightningDataModule):
    """Train/valid/test/ood loaders over a FASTA file, in single or concatenated mode.

    Args:
        fasta: input FASTA (.fasta/.fa/.gz).
        cache_dir: where prepared splits are cached, under a content+options fingerprint.
        mode: "single" (one cropped protein per item) or "concat" (fixed-length chunks of the
            `<eos>`-joined stream; `max_len` is then the chunk length, e.g. 8192).
        objective: "mlm" (15 % BERT masking) or "causal" (next-token labels).
        max_len: longest item in tokens, `<cls>`/`<eos>` included.
        batch_size: items per batch, unless `tokens_per_batch` is set.
        tokens_per_batch: if set, length-bucketed batches of at most this many padded tokens.
        num_workers: DataLoader worker processes.
        seed: seeds the evaluation masks and the bucketing order.
        valid_fraction / test_fraction: share of split keys hashed to valid / test.
        ood_taxa: comma-separated OX/TaxID values held out whole as the "ood" split.
        ood_accessions: accessions/cluster ids to hold out: comma-separated, or a file path.
        unknown: "error" on an invalid residue, or "x" to map it to X.
        eval_max_sequences: cap valid/test/ood to their first N proteins (a fixed, effectively
            random subset, since splits are stored in sequence-digest order).
        train_max_sequences: same cap for train (quick CPU runs).
        mask_prob: MLM selection probability.
    """

    # Our batch samplers give each DDP rank its own batches (`EpochBatchSampler`): the trainer
    # must be built with use_distributed_sampler=False so Lightning does not wrap them again.
    shards_batches_per_rank = True

    def __init__(
        self,
        fasta: str = _PREPARE.fasta,
        cache_dir: str = _PREPARE.cache_dir,
        mode: Literal["single", "concat"] = "single",
        objective: Literal["mlm", "causal"] = "mlm",
        max_len: int = 1024,
        batch_size: int = 8,
        tokens_per_batch: int | None = None,
        num_workers: int = 0,
        seed: int = 0,
        valid_fraction: float = _PREPARE.valid_fraction,
        test_fraction: float = _PREPARE.test_fraction,
        ood_taxa: str = ",".join(str(taxon) for taxon in _PREPARE.ood_taxa),
        ood_accessions: str | None = ",".join(_PREPARE.ood_accessions) or None,
        unknown: Literal["error", "x"] = _PREPARE.unknown,
        eval_max_sequences: int | None = None,
        train_max_sequences: int | None = None,
        mask_prob: float = 0.15,
    ) -> None:
        super().__init__()
        _check_positive(
            batch_size=batch_size,
            max_len=max_len,
            tokens_per_batch=tokens_per_batch,
            eval_max_sequences=eval_max_sequences,
            train_max_sequences=train_max_sequences,
        )
        if num_workers < 0:
            raise ValueError(f"data.num_workers must be >= 0, got {num_workers}")
        if not 0 < mask_prob <= 1:
            raise ValueError(f"data.mask_prob must be in (0, 1], got {mask_prob}")
        if mode not in ("single", "concat"):
            raise ValueError(f"mode must be 'single' or 'concat', got {mode!r}")
        if objective not in ("mlm", "causal"):
            raise ValueError(f"objective must be 'mlm' or 'causal', got {objective!r}")
        self.save_hyperparameters()
        self.mode, self.objective = mode, objective
        self.max_len, self.batch_size = max_len, batch_size
        self.tokens_per_batch = tokens_per_batch
        self.num_workers, self.seed, self.mask_prob = num_workers, seed, mask_prob
        self.eval_max_sequences = eval_max_sequences
        self.train_max_sequences = train_max_sequences
        self.prepare_config = PrepareConfig(
            fasta=fasta,
            cache_dir=cache_dir,
            valid_fraction=valid_fraction,
            test_fraction=test_fraction,
            ood_taxa=parse_taxa(ood_taxa),
            ood_accessions=parse_accessions(ood_accessions),
            unknown=unknown,
        )
        self.prepared: PrepareResult | None = None
        self.splits: DatasetDict | None = None
        self.datasets: dict[str, SingleSequenceDataset | ConcatChunkDataset] = {}

    def prepare_data(self) -> None:
        result = prepare(self.prepare_config, log=log.info)
        log.info("prepared data: %s (%s)", result.path, "built" if result.built else "cached")

    def setup(self, stage: str | None = None) -> None:
        if self.splits is not None:
            return
        self.prepared = prepare(self.prepare_config, log=log.info)
        self.splits = self.prepared.load()
        # Training cannot run without these two; evaluation skips other empty splits.
        empty = [name for name in ("train", "valid") if self.splits[name].num_rows == 0]
        if empty:
            raise EmptySplitError(
                f"{self.prepare_config.fasta}: the {' and '.join(empty)} split(s) came out empty "
                f"({self.prepared.meta['records_read']:,} records read); use a larger input or "
                f"change data.valid_fraction / data.test_fraction"
            )
        for name, split in self.splits.items():
            cap = self.train_max_sequences if name == "train" else self.eval_max_sequences
            self.datasets[name] = self._make_dataset(_head(split, cap), train=name == "train")

    def _make_dataset(self, split: Dataset, *, train: bool):
        if self.mode == "concat":
            return ConcatChunkDataset(split, self.max_len)
        return SingleSequenceDataset(split, self.max_len, random_crop=train)

    def _collator(self, *, train: bool):
        if self.objective == "causal":
            return CausalCollator()
        return MLMCollator(mask_prob=self.mask_prob, seed=None if train else self.seed)

    def _loader(self, name: str, *, train: bool) -> DataLoader:
        if name not in self.datasets:
            raise RuntimeError("call setup() before asking for dataloaders")
        dataset = self.datasets[name]
        common = {
            "collate_fn": self._collator(train=train),
            "num_workers": self.num_workers,
            "persistent_workers": self.num_workers > 0,
        }
        sampler: EpochBatchSampler
        if self.tokens_per_batch is not None:
            sampler = TokenBudgetBatchSampler(
                dataset.item_lengths(), self.tokens_per_batch, shuffle=train, seed=self.seed
            )
        else:
            sampler = FixedBatchSampler(
                len(dataset), self.batch_size, shuffle=train, seed=self.seed
            )
        return ResumableLoader(dataset, batch_sampler=sampler, **common)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("valid", train=False)

    @property
    def test_split_names(self) -> tuple[str, ...]:
        """The evaluation splits `test_dataloader` returns, in order: test and ood, less any
        that came out empty (a warning says so)."""
        if self.splits is None:
            return _TEST_SPLITS
        names = tuple(n for n in _TEST_SPLITS if self.splits[n].num_rows > 0)
        for name in sorted(set(_TEST_SPLITS) - set(names)):
            warnings.warn(f"split {name!r} is empty: not evaluated", UserWarning, stacklevel=2)
        return names

    def test_dataloader(self) -> list[DataLoader]:
        return [self._loader(name, train=False) for name in self.test_split_names]

    def unigram_counts(self, include_eos: bool = False) -> np.ndarray:
        """Token counts of the training split, float64 [VOCAB_SIZE], for the unigram baseline.

        Amino acids are counted over the whole training split at preparation time. With
        `include_eos`, one `<eos>` per training protein is added: causal labels predict the end
        of each protein, and a baseline without it would pay a near-zero probability there.
        Other specials stay 0.
        """
        if self.prepared is None or self.splits is None:
            raise RuntimeError("call setup() before unigram_counts()")
        counts = np.asarray(self.prepared.meta["stats"]["train"]["token_counts"], np.float64)
        out = np.zeros(VOCAB_SIZE, dtype=np.float64)
        out[list(AMINO_ACID_IDS)] = counts[list(AMINO_ACID_IDS)]
        if include_eos:
            out[EOS_ID] = self.splits["train"].num_rows
        return out


def _head(split: Dataset, cap: int | None) -> Dataset:
    # A contiguous range keeps the Arrow table memory-mapped (no indices mapping).
    return split if cap is None or cap >= split.num_rows else split.select(range(cap))
