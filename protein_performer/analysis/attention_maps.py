"""L×L attention of every layer and head, over residues only.

The maps come from `ProteinPerformer.attention_maps`: the exact softmax matrix for exact
attention, and for FAVOR+ the row-stochastic matrix the layer really applies with the random
features frozen in its buffer (Choromanski et al. 2021, App. C.4 visualise the same thing).
The model sees `<cls> residues <eos>`; residue i (0-based) is token i + 1, and the special
rows and columns are dropped here, so every analysis indexes residues directly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from protein_performer.data.batch_converter import BatchConverter
from protein_performer.data.tokenizer import Alphabet


@dataclass(frozen=True)
class ResidueAttention:
    """Attention maps of one sequence."""

    sequence: str  # the residues analysed (cropped to the model's max_len if needed)
    maps_NHLL: np.ndarray  # float32 [layers, heads, L, L], specials removed
    residue_ids_L: np.ndarray  # token ids of the residues


def max_residues(model) -> int:
    """Longest sequence the model takes: its position table minus <cls> and <eos>."""
    return int(model.config.max_len) - 2


def encode_batch(
    sequences: Sequence[str], *, alphabet: Alphabet | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """`<cls> seq <eos>` token ids right-padded to the longest: (tokens_BL int64, is_pad_BL)."""
    converter = BatchConverter(alphabet or Alphabet(unknown="x"))
    return converter.pad_batch([(f"sequence {n}", s) for n, s in enumerate(sequences)])


@torch.no_grad()
def residue_attention_batch(model, sequences: Sequence[str]) -> list[ResidueAttention]:
    """Maps of several sequences in one forward pass (padding masked as keys, so each map is
    what the model computes for that sequence alone). Sequences longer than the model's
    `max_len` are cropped to their first `max_len - 2` residues."""
    model.eval()
    limit = max_residues(model)
    cropped = [s[:limit] for s in sequences]
    tokens_BL, is_pad_BL = encode_batch(cropped)
    maps_NBHLL = model.attention_maps(tokens_BL, is_pad_BL).float().cpu().numpy()
    out = []
    for b, seq in enumerate(cropped):
        n = len(seq)
        out.append(
            ResidueAttention(
                sequence=seq,
                maps_NHLL=np.ascontiguousarray(maps_NBHLL[:, b, :, 1 : n + 1, 1 : n + 1]),
                residue_ids_L=tokens_BL[b, 1 : n + 1].numpy().copy(),
            )
        )
    return out


def residue_attention(model, sequence: str) -> ResidueAttention:
    """Maps of one sequence: `[layers, heads, L, L]` over its residues."""
    return residue_attention_batch(model, [sequence])[0]


def iter_residue_attention(
    model, sequences: Sequence[str], *, token_budget: int = 1 << 20
) -> Iterator[ResidueAttention]:
    """Maps of many sequences, batched by similar length so that each batch holds about
    `token_budget` query-key pairs per head (memory grows with B·L², not B·L). Yields in
    length order, not input order."""
    limit = max_residues(model)
    order = sorted(range(len(sequences)), key=lambda i: min(len(sequences[i]), limit))
    start = 0
    while start < len(order):
        stop = start + 1
        # sorted ascending, so the last sequence of the batch sets its padded length
        while stop < len(order):
            padded = min(len(sequences[order[stop]]), limit) + 2
            if (stop - start + 1) * padded * padded > token_budget:
                break
            stop += 1
        yield from residue_attention_batch(model, [sequences[i] for i in order[start:stop]])
        start = stop
