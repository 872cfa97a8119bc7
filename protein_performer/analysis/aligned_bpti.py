"""BPT1_BOVIN's contacts from an aligned family model, over the residues on its columns.

The precursor (UniProt P00974) is placed on the model's columns (`analysis.placement`); a model
whose profile cannot place it is refused there, in one line. The residues of the mature 5PTI
chain that fall on a column are the ones scored: their Cβ contacts (8 Å, Cα for glycine) are
the truth, and two unsupervised predictors are read from the model at their columns:
- attention: the mean over layers and heads of APC(symmetrised attention) (Rao et al. 2021);
- the categorical Jacobian (Zhang et al. 2024), 20 forward passes per residue.
Precision is `analysis.precision.range_precision`, with sequence separations counted on the
mature chain (the residues on the columns form one run, checked).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from protein_performer.analysis.contacts import sym_apc, true_contacts
from protein_performer.analysis.jacobian import contact_map_from_model
from protein_performer.analysis.placement import Placement, place
from protein_performer.analysis.precision import range_precision
from protein_performer.analysis.structures import Bpti, load_bpti

BPTI_NAME = "BPT1_BOVIN (P00974)"


@dataclass(frozen=True)
class AlignedBpti:
    placement: Placement  # the precursor over the columns
    mature_residues: np.ndarray  # [P] 0-based mature-chain residues on a column
    columns: np.ndarray  # [P] their columns
    precision: dict[str, dict[str, dict[str, float]]]  # {method: {range: {P@L...}}}


def mature_on_columns(bpti: Bpti, placement: Placement) -> tuple[np.ndarray, np.ndarray]:
    """(mature residues with a column, their columns), the residues one contiguous run."""
    n = len(bpti.mature.sequence)
    columns_all = placement.residue_to_column[bpti.offset : bpti.offset + n]
    residues = np.flatnonzero(columns_all >= 0)
    if len(residues) < 2 or np.any(np.diff(residues) != 1):
        raise ValueError(f"{BPTI_NAME}: the residues on the columns are not one run")
    return residues, columns_all[residues]


@torch.no_grad()
def attention_contacts(model, tokens_L: np.ndarray, positions_P: np.ndarray) -> np.ndarray:
    """[P, P] mean over layers and heads of APC(symmetrised attention) at `positions_P`."""
    maps_NBHLL = model.attention_maps(torch.from_numpy(tokens_L[None])).double().numpy()
    maps_HLL = maps_NBHLL[:, 0].reshape(-1, *maps_NBHLL.shape[-2:])
    return sym_apc(maps_HLL[:, positions_P][:, :, positions_P]).mean(0)


def analyse_bpti(model, *, jacobian: bool = True, **placement_options) -> AlignedBpti:
    """Place BPT1_BOVIN on the model's columns and score its contacts (module docstring)."""
    bpti = load_bpti()
    placement = place(model, bpti.precursor, name=BPTI_NAME, **placement_options)
    residues, columns = mature_on_columns(bpti, placement)
    truth_PP = true_contacts(bpti.mature.coords_L3[residues])
    positions = columns + 1  # token 0 is <cls>
    model.eval()
    scores = {"attention-apc": attention_contacts(model, placement.tokens_L, positions)}
    if jacobian:
        scores["jacobian"] = contact_map_from_model(model, placement.tokens_L, positions)
    precision = {name: range_precision(s, truth_PP) for name, s in scores.items()}
    return AlignedBpti(placement, residues, columns, precision)
