"""BPT1_BOVIN through the eyes of one model, scored against the 5PTI structure.

The same protein is read differently by the two kinds of model:
- a **general** model reads the 100-residue P00974 precursor, and the mature chain's residues
  (5PTI chain A, precursor residues 36–93) are cut out of its maps;
- an **aligned family** model reads BPT1_BOVIN placed on its alignment's match columns (one
  token per column, `-` where BPTI has no residue), so only the residues on the columns have a
  position.

Both are scored on the same residues, those a family model's columns cover (`residues_P`), so
that a side-by-side table compares like with like. Contacts are Cβ–Cβ (Cα for glycine) closer
than 8 Å in 5PTI, by range (Rao et al. 2021). Read-outs:
- attention maps of every layer and head, each scored by itself (per-head precision), and their
  APC-corrected mean (Rao et al. 2021, unsupervised);
- the categorical Jacobian (Zhang et al. 2024), which needs only forward passes.

Shapes: N layers, H heads, P scored residues, L tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from protein_performer.analysis.contact_precision import range_precision
from protein_performer.analysis.contacts import apc_mean, range_mask, sym_apc, true_contacts
from protein_performer.analysis.jacobian import contact_map_from_model
from protein_performer.analysis.placement import Placement
from protein_performer.analysis.position_attention import (
    position_attention_contacts,
    position_layers,
)
from protein_performer.analysis.structures import Bpti
from protein_performer.data.column_order import token_positions
from protein_performer.data.tokenizer import Alphabet

BPTI_NAME = "BPT1_BOVIN (P00974)"


@dataclass(frozen=True)
class BptiReading:
    """The tokens a model reads for BPT1_BOVIN and which 5PTI residue each scored token is."""

    tokens_L: np.ndarray  # int64 [L], <cls> … <eos>
    positions_P: np.ndarray  # int64 [P], token index of each scored residue
    residues_P: np.ndarray  # int64 [P], 0-based residue of the mature 5PTI chain
    how: str  # "precursor" or the placement (e.g. "hmmalign onto 53 columns")


@dataclass(frozen=True)
class BptiContacts:
    """Contact read-outs of one model on BPT1_BOVIN, over the residues `residues_P`."""

    name: str
    reading: BptiReading
    contacts_PP: np.ndarray  # bool, 5PTI Cβ 8 Å
    maps_NHPP: np.ndarray  # float32 attention of every layer and head, scored residues only
    scores: dict[str, np.ndarray]  # read-out -> [P, P] contact scores
    precision: dict[str, dict[str, dict[str, float]]]  # read-out -> range -> P@L, ..., random
    head_precision_NH: np.ndarray  # long-range P@L/5 of each head's sym+APC map alone

    @property
    def best_head(self) -> tuple[int, int]:
        """(layer, head), 0-based, of the head with the highest long-range P@L/5."""
        n, h = np.unravel_index(np.nanargmax(self.head_precision_NH), self.head_precision_NH.shape)
        return int(n), int(h)


def general_reading(bpti: Bpti, residues_P: np.ndarray) -> BptiReading:
    """The precursor, `<cls> P00974 <eos>`; mature residue i is token offset + i + 1."""
    tokens_L = Alphabet(unknown="x").encode(bpti.precursor).astype(np.int64)
    return BptiReading(tokens_L, bpti.offset + 1 + residues_P, residues_P, "precursor")


def aligned_reading(bpti: Bpti, placement: Placement) -> BptiReading:
    """The precursor placed on an aligned model's columns (`analysis.placement.place`); the
    mature-chain residues on a column are scored, and they must form one run, so that
    sequence separations on the columns are those of the chain."""
    n = len(bpti.mature.sequence)
    columns_all = placement.residue_to_column[bpti.offset : bpti.offset + n]
    residues_P = np.flatnonzero(columns_all >= 0)
    if len(residues_P) < 2 or np.any(np.diff(residues_P) != 1):
        raise ValueError(f"{BPTI_NAME}: the residues on the model's columns are not one run")
    how = f"{placement.method} onto its {placement.n_columns} columns"
    positions_P = token_positions(columns_all[residues_P], placement.n_columns,
                                  placement.direction)  # fmt: skip
    return BptiReading(placement.tokens_L, positions_P, residues_P, how)


def head_precision(maps_NHPP: np.ndarray, contacts_PP: np.ndarray) -> np.ndarray:
    """[N, H] long-range P@L/5 of each head's symmetrised, APC-corrected map."""
    n_layers, n_heads = maps_NHPP.shape[:2]
    out = np.zeros((n_layers, n_heads))
    for n in range(n_layers):
        for h in range(n_heads):
            out[n, h] = range_precision(sym_apc(maps_NHPP[n, h]), contacts_PP)["long"]["P@L/5"]
    return out


@torch.no_grad()
def bpti_contacts(
    model, name: str, bpti: Bpti, reading: BptiReading, *, jacobian: bool = True
) -> BptiContacts:
    """Every contact read-out of `model` on `reading`, scored against 5PTI."""
    model.eval()
    contacts_LL = true_contacts(bpti.mature.coords_L3)
    residues = reading.residues_P
    contacts_PP = contacts_LL[np.ix_(residues, residues)]
    tokens_BL = torch.from_numpy(reading.tokens_L[None])
    maps_NHLL = model.attention_maps(tokens_BL).float().numpy()[:, 0]
    pos = reading.positions_P
    maps_NHPP = np.ascontiguousarray(maps_NHLL[:, :, pos][:, :, :, pos])
    # APC is applied over the whole map the model produced, then the residues are cut out.
    scores = {"attention_apc_mean": apc_mean(maps_NHLL)[np.ix_(pos, pos)]}
    if position_layers(model):
        scores["position_attention"] = position_attention_contacts(
            model, len(reading.tokens_L), pos
        )
    if jacobian:
        scores["categorical_jacobian"] = contact_map_from_model(model, reading.tokens_L, pos)
    precision = {k: range_precision(v, contacts_PP) for k, v in scores.items()}
    return BptiContacts(
        name=name,
        reading=reading,
        contacts_PP=contacts_PP,
        maps_NHPP=maps_NHPP,
        scores=scores,
        precision=precision,
        head_precision_NH=head_precision(maps_NHPP, contacts_PP),
    )


def random_long_range(contacts_PP: np.ndarray) -> float:
    """Long-range contact density: the precision of a random ranking."""
    mask = range_mask(len(contacts_PP), "long")
    return float(contacts_PP[mask].mean())
