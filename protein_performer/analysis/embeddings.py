"""Per-residue and per-sequence embeddings from any layer of a `ProteinPerformer`.

Layer numbering follows `PerformerOutput.hidden_states` (as in Hugging Face ESM): layer 0 is
the embedding output, layer i the output of block i, and the last layer (also `-1`) the
final-normalised representation the LM head reads. Special tokens and padding are dropped, so
row i of a per-token embedding is residue i; the mean is over residues only, as in fair-esm's
`extract.py --include mean`.

An aligned family model reads a sequence placed on its columns (`analysis.placement`):
`embed_placements` keeps one row per column (gap columns included, so rows line up across
homologs) and averages over the columns that hold a residue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from protein_performer.analysis.attention_maps import encode_batch, max_residues
from protein_performer.analysis.placement import Placement
from protein_performer.data.column_order import in_reading_order
from protein_performer.data.inputs import check_sequences, warn_crops
from protein_performer.data.tokenizer import UnknownPolicy
from protein_performer.progress import progress_bar

Pooling = Literal["mean", "per-token"]


@dataclass(frozen=True)
class Embedding:
    """Embedding of one sequence at one layer."""

    sequence: str  # residues embedded (cropped to the model's max_len if needed)
    layer: int  # non-negative index into hidden_states
    mean_C: np.ndarray  # [C] mean over residues
    per_token_LC: np.ndarray | None  # [L, C], only when per-token output was asked for


def resolve_layer(layer: int, n_layers: int) -> int:
    """Non-negative hidden-state index; valid layers are -(n+1) .. n for a model of n blocks."""
    n_states = n_layers + 1
    if not -n_states <= layer < n_states:
        raise ValueError(
            f"layer {layer} out of range for a model with {n_layers} blocks "
            f"(valid: {-n_states} .. {n_states - 1})"
        )
    return layer % n_states


def _check_options(pooling: Pooling, batch_size: int) -> None:
    """The options both embedders take, checked before any forward pass."""
    if pooling not in ("mean", "per-token"):
        raise ValueError(f"pooling must be 'mean' or 'per-token', got {pooling!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")


@torch.no_grad()
def embed_sequences(
    model,
    sequences: Sequence[str],
    *,
    layer: int = -1,
    pooling: Pooling = "mean",
    batch_size: int = 8,
    unknown: UnknownPolicy = "error",
    progress: bool = False,
) -> list[Embedding]:
    """Embeddings of `sequences`, in input order. `pooling="per-token"` also keeps [L, C].

    Letters outside the alphabet are an error unless `unknown="x"`; sequences longer than the
    model are cropped with a `CropWarning` (see `data.inputs`)."""
    _check_options(pooling, batch_size)
    model.eval()
    index = resolve_layer(layer, model.config.n_layers)
    checked = check_sequences(sequences, max_residues=max_residues(model), unknown=unknown)
    warn_crops(checked)
    sequences = checked.sequences
    out: list[Embedding] = []
    bar = progress_bar(len(sequences), "embed", enabled=progress)
    for start in range(0, len(sequences), batch_size):
        chunk = list(sequences[start : start + batch_size])
        tokens_BL, is_pad_BL = encode_batch(chunk)
        states = model(tokens_BL, is_pad_BL, output_hidden_states=True).hidden_states
        hidden_BLC = states[index].float().cpu().numpy()
        for b, seq in enumerate(chunk):
            residues_LC = hidden_BLC[b, 1 : len(seq) + 1]
            out.append(
                Embedding(
                    sequence=seq,
                    layer=index,
                    mean_C=residues_LC.mean(axis=0),
                    per_token_LC=residues_LC.copy() if pooling == "per-token" else None,
                )
            )
        bar.update(len(chunk))
    bar.close()
    return out


@torch.no_grad()
def embed_placements(
    model,
    placements: Sequence[Placement],
    *,
    layer: int = -1,
    pooling: Pooling = "mean",
    batch_size: int = 8,
    progress: bool = False,
) -> list[Embedding]:
    """Embeddings of sequences placed on an aligned model's columns: `per_token_LC` has one
    row per column, `mean_C` is the mean over the columns holding a residue."""
    _check_options(pooling, batch_size)
    model.eval()
    index = resolve_layer(layer, model.config.n_layers)
    out: list[Embedding] = []
    bar = progress_bar(len(placements), "embed", enabled=progress)
    for start in range(0, len(placements), batch_size):
        chunk = list(placements[start : start + batch_size])
        tokens_BL = torch.from_numpy(np.stack([p.tokens_L for p in chunk]))
        hidden_BLC = model(tokens_BL, output_hidden_states=True).hidden_states[index]
        hidden_BLC = hidden_BLC.float().cpu().numpy()
        for b, placement in enumerate(chunk):
            columns_PC = in_reading_order(hidden_BLC[b, 1:-1].T, placement.direction).T
            occupied = np.array(list(placement.aligned_row)) != "-"
            out.append(
                Embedding(
                    sequence=placement.aligned_row,
                    layer=index,
                    mean_C=columns_PC[occupied].mean(axis=0),
                    per_token_LC=columns_PC.copy() if pooling == "per-token" else None,
                )
            )
        bar.update(len(chunk))
    bar.close()
    return out
