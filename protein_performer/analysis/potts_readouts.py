"""What a fitted Potts model (`analysis.potts`) is read for: variant effects and contacts.

- Variant effects: the EVmutation statistical energy ΔE = E(mutant) − E(wild type) (Hopf et al.
  2017), over the wild type's aligned row; higher is more plausible, like every other score of
  `analysis.variant_scores`. Multi-mutants include the couplings between their own mutations.
- Contacts: the Frobenius norm of each J_ij in the zero-sum gauge, with the gap state left out,
  then the average product correction (Ekeberg et al. 2013, plmDCA's "APC-corrected FN" score).
"""

from __future__ import annotations

import numpy as np

from protein_performer.analysis.contacts import apc
from protein_performer.analysis.dms import Variant
from protein_performer.analysis.potts import GAP_STATE, PottsModel, token_states
from protein_performer.analysis.variant_scores import ScoringFrame, score_by_status
from protein_performer.constants import ALIGNED_VOCAB


def potts_scores(model: PottsModel, frame: ScoringFrame, variants: list[Variant]) -> np.ndarray:
    """[N] ΔE per variant; `frame` places residues on columns (token index = column + 1, as in
    `variant_scores.aligned_frame`); NaN for variants outside the columns, 0 if synonymous."""
    columns_L = frame.tokens_L[1:-1]
    if len(columns_L) != model.n_columns:
        raise ValueError(
            f"the wild type's frame has {len(columns_L)} columns, the Potts model "
            f"{model.n_columns}"
        )
    wild_C = token_states(columns_L)

    def score(batch: list[Variant]) -> list[float]:
        rows_BC = np.repeat(wild_C[None], len(batch), 0)
        for b, variant in enumerate(batch):
            for m in variant.mutations:
                column = frame.position_of[m.position] - 1
                rows_BC[b, column] = token_states(np.array([ALIGNED_VOCAB[m.mutant]]))[0]
        wild_energy = model.energies(wild_C[None])[0]
        return list(model.energies(rows_BC) - wild_energy)

    return score_by_status(frame, variants, score)


def zero_sum_gauge(J_CqCq: np.ndarray) -> np.ndarray:
    """J_ij(a, b) − mean_a − mean_b + mean_ab for every block: the gauge in which the couplings
    carry no part that a field could (Ekeberg et al. 2013)."""
    return (
        J_CqCq
        - J_CqCq.mean(1, keepdims=True)
        - J_CqCq.mean(3, keepdims=True)
        + J_CqCq.mean((1, 3), keepdims=True)
    )


def potts_contacts(model: PottsModel, exclude_state: int | None = GAP_STATE) -> np.ndarray:
    """[C, C] APC-corrected Frobenius norms of the zero-sum-gauge couplings, excluding
    `exclude_state` (the gap) from the norm (the diagonal holds no coupling: its norm is 0)."""
    gauged = zero_sum_gauge(model.J_CqCq)
    keep = [s for s in range(model.n_states) if s != exclude_state]
    blocks = gauged[:, keep][:, :, :, keep]
    fn_CC = np.sqrt((blocks**2).sum((1, 3)))
    np.fill_diagonal(fn_CC, 0.0)
    return apc(fn_CC)
