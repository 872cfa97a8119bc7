"""The two sequence modes of the Performer protein experiments (Choromanski et al. 2021, Sec. 4.4).

- **Single** (`SingleSequenceDataset`): one item per protein, framed `<cls> r1 ... rn <eos>` and
  cropped to `max_len`. The crop window is drawn at random in training (from torch's global RNG,
  which the DataLoader seeds per worker and per epoch) and starts at 0 in evaluation, so an
  evaluation set is the same tokens on every run. The window is taken over the *framed*
  sequence, so `<cls>`/`<eos>` appear only when the window really reaches the protein's ends: a
  causal model is never taught that a protein stops where the crop does.
- **Concatenated** (`ConcatChunkDataset`): the split becomes one stream
  `r1 ... <eos> r1 ... <eos> ...`, cut into non-overlapping chunks of exactly `max_len` tokens
  (only the last chunk may be shorter). Chunking is lossless: joining the chunks gives back the
  stream, and splitting it at `<eos>` gives back every protein.

Items are `{"tokens": int8 array, "index": int}`; the collators in `batching` pad and mask them.
Both datasets keep only the Hugging Face `Dataset` (memory-mapped, pickled by file reference) and
re-open its Arrow column lazily, so DataLoader workers never copy the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import torch
from datasets import Dataset

from protein_performer.constants import CLS_ID, EOS_ID


class _ArrowTokens:
    """Lazy access to row `i` of a split's `tokens` column as a zero-copy int8 array."""

    def __init__(self, split: Dataset) -> None:
        if split._indices is not None:  # a non-contiguous .select(): materialise once
            split = split.flatten_indices()
        self.split = split
        self._column: pa.ChunkedArray | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"split": self.split, "_column": None}

    def __len__(self) -> int:
        return self.split.num_rows

    def row(self, i: int) -> np.ndarray:
        if self._column is None:
            self._column = self.split.data.table.column("tokens")
        return self._column[i].values.to_numpy(zero_copy_only=False)

    def lengths(self) -> np.ndarray:
        return self.split.data.table.column("length").to_numpy().astype(np.int64)


class SingleSequenceDataset(torch.utils.data.Dataset):
    """One framed, cropped protein per item."""

    def __init__(self, split: Dataset, max_len: int, *, random_crop: bool) -> None:
        if max_len < 1:
            raise ValueError(f"max_len must be positive, got {max_len}")
        self.tokens = _ArrowTokens(split)
        self.max_len = max_len
        self.random_crop = random_crop

    def __len__(self) -> int:
        return len(self.tokens)

    def item_lengths(self) -> np.ndarray:
        """Token count of every item (after framing and cropping), for length bucketing."""
        return np.minimum(self.tokens.lengths() + 2, self.max_len)

    def __getitem__(self, index: int) -> dict[str, Any]:
        residues = self.tokens.row(index)
        framed = np.empty(len(residues) + 2, dtype=np.int8)
        framed[0], framed[1:-1], framed[-1] = CLS_ID, residues, EOS_ID
        excess = len(framed) - self.max_len
        start = 0
        if excess > 0 and self.random_crop:
            start = int(torch.randint(excess + 1, ()).item())
        return {"tokens": framed[start : start + self.max_len], "index": index}


def chunk_starts(lengths: np.ndarray, chunk_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each chunk of the `r... <eos> r... <eos>` stream begins.

    Returns `(seq_index, offset)` per chunk: the protein the chunk starts in and the offset into
    that protein's `len + 1` tokens (its residues then its `<eos>`). Computed in blocks of the
    length column, so memory is proportional to the number of chunks, not of proteins.
    """
    seq_parts, off_parts = [], []
    base_seq, base_pos, next_chunk = 0, 0, 0
    block = 1 << 20
    for lo in range(0, len(lengths), block):
        spans = np.asarray(lengths[lo : lo + block], dtype=np.int64) + 1
        ends = base_pos + np.cumsum(spans)  # stream position just past each protein's <eos>
        total = int(ends[-1])
        n_chunks = -(-total // chunk_len) - next_chunk  # chunks starting in this block
        bounds = (next_chunk + np.arange(n_chunks, dtype=np.int64)) * chunk_len
        where = np.searchsorted(ends, bounds, side="right")
        starts = ends[where] - spans[where]
        seq_parts.append(base_seq + where)
        off_parts.append(bounds - starts)
        base_seq, base_pos, next_chunk = base_seq + len(spans), total, next_chunk + n_chunks
    if not seq_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(seq_parts), np.concatenate(off_parts)


class ConcatChunkDataset(torch.utils.data.Dataset):
    """Fixed-length chunks of the concatenated, `<eos>`-separated split."""

    def __init__(self, split: Dataset, chunk_len: int) -> None:
        if chunk_len < 1:
            raise ValueError(f"chunk_len must be positive, got {chunk_len}")
        self.tokens = _ArrowTokens(split)
        self.chunk_len = chunk_len
        self.chunk_seq, self.chunk_offset = chunk_starts(self.tokens.lengths(), chunk_len)

    def __len__(self) -> int:
        return len(self.chunk_seq)

    def item_lengths(self) -> np.ndarray:
        lengths = np.full(len(self), self.chunk_len, dtype=np.int64)
        if len(self):
            total = int((self.tokens.lengths() + 1).sum())
            lengths[-1] = total - (len(self) - 1) * self.chunk_len
        return lengths

    def __getitem__(self, index: int) -> dict[str, Any]:
        seq, offset = int(self.chunk_seq[index]), int(self.chunk_offset[index])
        out = np.empty(self.chunk_len, dtype=np.int8)
        filled = 0
        while filled < self.chunk_len and seq < len(self.tokens):
            residues = self.tokens.row(seq)
            take = min(len(residues) - offset, self.chunk_len - filled)
            if take > 0:
                out[filled : filled + take] = residues[offset : offset + take]
                filled += take
            if filled < self.chunk_len:  # room left: this protein's <eos> fits
                out[filled] = EOS_ID
                filled += 1
            seq, offset = seq + 1, 0
        return {"tokens": out[:filled], "index": index}
