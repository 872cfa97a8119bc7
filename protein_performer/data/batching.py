"""Collators (MLM and causal) and token-budget length bucketing.

A batch is a dict of three tensors (docs/ARCHITECTURE.md):
    tokens  [B, L] int64  model input, already masked for MLM
    labels  [B, L] int64  target at predicted positions, -100 elsewhere
    is_pad  [B, L] bool   True at padding
Batches are padded to their own longest item, not to `max_len` (`data.padding.pad_tokens`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from protein_performer.constants import AMINO_ACID_IDS, MASK_ID, STANDARD_IDS
from protein_performer.data.padding import pad_tokens
from protein_performer.data.rank_balance import balance_across_ranks

IGNORE_INDEX = -100  # torch.nn.functional.cross_entropy's default ignore_index
_AMINO_ACID_IDS = np.asarray(AMINO_ACID_IDS, dtype=np.int64)
_STANDARD_IDS = np.asarray(STANDARD_IDS, dtype=np.int64)


def mlm_mask(
    tokens_L: np.ndarray,
    rng: np.random.Generator,
    *,
    mask_prob: float = 0.15,
    mask_frac: float = 0.8,
    random_frac: float = 0.1,
    maskable_ids: np.ndarray = _AMINO_ACID_IDS,
) -> tuple[np.ndarray, np.ndarray]:
    """BERT masking (Devlin et al. 2019, Sec. 3.1), as used for protein LMs (Rives et al. 2021).

    Each amino-acid position (never <cls>, <eos>, <pad>; `maskable_ids` says which tokens
    count, e.g. gaps too in an aligned family) is selected with probability
    `mask_prob`. A selected position becomes <mask> with probability `mask_frac`, a uniformly
    drawn standard amino acid with probability `random_frac` (which may equal the original, as
    in BERT), and is left unchanged otherwise. Returns `(inputs_L, labels_L)`, labels holding the
    original token at selected positions and `IGNORE_INDEX` elsewhere.
    """
    tokens_L = np.asarray(tokens_L, dtype=np.int64)
    maskable = np.isin(tokens_L, maskable_ids)
    selected = maskable & (rng.random(tokens_L.shape) < mask_prob)
    labels = np.where(selected, tokens_L, IGNORE_INDEX)
    action = rng.random(tokens_L.shape)
    to_mask = selected & (action < mask_frac)
    to_random = selected & (action >= mask_frac) & (action < mask_frac + random_frac)
    inputs = tokens_L.copy()
    inputs[to_mask] = MASK_ID
    inputs[to_random] = rng.choice(_STANDARD_IDS, size=int(to_random.sum()))
    return inputs, labels


class MLMCollator:
    """Pad, then mask each item with `mlm_mask`.

    With `seed=None` (training) each batch draws a fresh numpy seed from torch's global RNG,
    which Lightning's `seed_everything` and the DataLoader's per-worker seeding make
    reproducible. With a `seed` (evaluation) item `i` is always masked the same way, whatever
    the batch it lands in or the worker that builds it, so validation losses are comparable
    across epochs.
    """

    def __init__(
        self,
        *,
        mask_prob: float = 0.15,
        mask_frac: float = 0.8,
        random_frac: float = 0.1,
        seed: int | None = None,
        maskable_ids: tuple[int, ...] = AMINO_ACID_IDS,
    ) -> None:
        if not (0 < mask_prob <= 1 and 0 <= mask_frac and 0 <= random_frac):
            raise ValueError("need 0 < mask_prob <= 1 and non-negative fractions")
        if mask_frac + random_frac > 1:
            raise ValueError("mask_frac + random_frac must not exceed 1")
        self.kwargs = {
            "mask_prob": mask_prob,
            "mask_frac": mask_frac,
            "random_frac": random_frac,
            "maskable_ids": np.asarray(maskable_ids, dtype=np.int64),
        }
        self.seed = seed

    def __call__(self, items: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        if self.seed is None:
            batch_seed = int(torch.randint(2**62, ()).item())
            rngs = [np.random.default_rng([batch_seed, b]) for b in range(len(items))]
        else:
            rngs = [np.random.default_rng([self.seed, int(item["index"])]) for item in items]
        masked = [
            mlm_mask(item["tokens"], rng, **self.kwargs)
            for item, rng in zip(items, rngs, strict=True)
        ]
        tokens, is_pad = pad_tokens([inputs for inputs, _ in masked])
        labels, _ = pad_tokens([labels for _, labels in masked])
        labels[is_pad] = IGNORE_INDEX
        return {"tokens": tokens, "labels": labels, "is_pad": is_pad}


class CausalCollator:
    """Pad; `labels[:, t] = tokens[:, t + 1]`, with `IGNORE_INDEX` at padding and at the end."""

    def __call__(self, items: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        tokens, is_pad = pad_tokens([item["tokens"] for item in items])
        labels = torch.full_like(tokens, IGNORE_INDEX)
        labels[:, :-1] = tokens[:, 1:]
        labels[:, :-1][is_pad[:, 1:]] = IGNORE_INDEX
        return {"tokens": tokens, "labels": labels, "is_pad": is_pad}


class _EpochForwarder:
    """Lightning calls `set_epoch` on `loader.sampler` and `loader.batch_sampler.sampler`, never
    on the batch sampler itself; exposing this as `.sampler` routes the call to it."""

    def __init__(self, owner: EpochBatchSampler) -> None:
        self.owner = owner

    def set_epoch(self, epoch: int) -> None:
        self.owner.set_epoch(epoch)


class EpochBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Batches that are a pure function of `(seed, epoch)`, sharded over DDP ranks, resumable
    mid-epoch.

    Subclasses say how one epoch's items become batches (`_epoch_batches`). Determinism is what
    makes a resumed run see the same data order as an uninterrupted one: `skip(epoch, n)` makes
    the next pass over `epoch` start at its `n`-th batch (the DataLoader records `n` in the
    checkpoint). Under DDP each rank takes every `world_size`-th batch of a list balanced so
    that every rank gets as many batches (`data.rank_balance`: no item dropped or repeated);
    use it with `Trainer(use_distributed_sampler=False)` so Lightning does not wrap it again.
    """

    def __init__(
        self,
        *,
        shuffle: bool,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        self.shuffle, self.seed = shuffle, seed
        dist_ready = torch.distributed.is_available() and torch.distributed.is_initialized()
        if rank is None:
            rank = torch.distributed.get_rank() if dist_ready else 0
        if world_size is None:
            world_size = torch.distributed.get_world_size() if dist_ready else 1
        self.rank, self.world_size = rank, world_size
        self.epoch = 0
        self.sampler = _EpochForwarder(self)
        self._cache: tuple[int, list[list[int]]] | None = None
        self._skip: tuple[int, int] | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def skip(self, epoch: int, n_batches: int) -> None:
        """Start the next pass over `epoch` at batch `n_batches` (ignored for other epochs)."""
        self._skip = (epoch, n_batches)

    def _epoch_batches(self, rng: np.random.Generator) -> list[list[int]]:
        raise NotImplementedError

    def _batches(self) -> list[list[int]]:
        if self._cache is not None and self._cache[0] == self.epoch:
            return self._cache[1]
        batches = self._epoch_batches(np.random.default_rng([self.seed, self.epoch]))
        # Every rank must run the same number of steps (training and evaluation alike), or
        # DDP / FSDP waits forever; balanced by splitting batches, never by dropping items.
        batches = balance_across_ranks(batches, self.world_size)[self.rank :: self.world_size]
        self._cache = (self.epoch, batches)
        return batches

    def __len__(self) -> int:
        return len(self._batches())

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._batches()
        start = 0
        if self._skip is not None and self._skip[0] == self.epoch:
            start = self._skip[1]
        self._skip = None
        yield from batches[start:]


class FixedBatchSampler(EpochBatchSampler):
    """`batch_size` items per batch (the last one may be shorter), shuffled per epoch in
    training; the order is `default_rng([seed, epoch])`'s, not torch's global RNG's."""

    def __init__(self, n_items: int, batch_size: int, *, shuffle: bool, **kwargs: Any) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        super().__init__(shuffle=shuffle, **kwargs)
        self.n_items, self.batch_size = n_items, batch_size

    def _epoch_batches(self, rng: np.random.Generator) -> list[list[int]]:
        order = rng.permutation(self.n_items) if self.shuffle else np.arange(self.n_items)
        return [
            order[i : i + self.batch_size].tolist() for i in range(0, len(order), self.batch_size)
        ]


class TokenBudgetBatchSampler(EpochBatchSampler):
    """Batches of similar-length items holding at most `tokens_per_batch` padded tokens.

    Items are shuffled (in training), cut into pools of `pool_size`, sorted by length within a
    pool, packed greedily so that `batch_size x longest <= tokens_per_batch`, and the batches are
    shuffled again: little padding, yet no fixed length order across an epoch.
    """

    def __init__(
        self,
        lengths: np.ndarray,
        tokens_per_batch: int,
        *,
        shuffle: bool,
        pool_size: int = 1 << 14,
        **kwargs: Any,
    ) -> None:
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if len(self.lengths) and tokens_per_batch < int(self.lengths.max()):
            raise ValueError(
                f"tokens_per_batch={tokens_per_batch} is smaller than the longest item "
                f"({int(self.lengths.max())} tokens); raise it or lower max_len"
            )
        super().__init__(shuffle=shuffle, **kwargs)
        self.tokens_per_batch, self.pool_size = tokens_per_batch, pool_size

    def _epoch_batches(self, rng: np.random.Generator) -> list[list[int]]:
        n = len(self.lengths)
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        batches: list[list[int]] = []
        for lo in range(0, len(order), self.pool_size):
            pool = order[lo : lo + self.pool_size]
            pool = pool[np.argsort(self.lengths[pool], kind="stable")]
            batch: list[int] = []
            longest = 0
            for i in pool.tolist():
                candidate = max(longest, int(self.lengths[i]))
                if batch and candidate * (len(batch) + 1) > self.tokens_per_batch:
                    batches.append(batch)
                    batch, candidate = [], int(self.lengths[i])
                batch.append(i)
                longest = candidate
            if batch:
                batches.append(batch)
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches
