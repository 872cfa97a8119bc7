"""The site-independent baseline: a position-specific scoring matrix of weighted column
frequencies (the "independent model" of Hopf et al. 2017, EVmutation; PSSM in Meier et al.
2021's comparison).

f_c(a) = (Σ_n w_n [x_nc = a] + λ) / (Σ_n w_n + λ q), over the q = 21 symbols of a column
(the 20 standard amino acids and the gap); rows' other letters (X, B, …) count for nothing. A
variant scores Σ log f_c(mt) − log f_c(wt) over its mutated columns.
"""

from __future__ import annotations

import numpy as np

from protein_performer.analysis.dms import Variant
from protein_performer.analysis.variant_scores import ScoringFrame, score_by_status
from protein_performer.constants import ALIGNED_VOCAB, ALIGNED_VOCAB_SIZE, GAP_ID, STANDARD_IDS

PSSM_SYMBOLS: tuple[int, ...] = (*STANDARD_IDS, GAP_ID)


def column_log_frequencies(
    tokens_NC: np.ndarray, weights_N: np.ndarray, pseudocount: float = 1.0
) -> np.ndarray:
    """[C, V] log f_c(token) over the aligned vocabulary; -inf for tokens outside the q
    symbols."""
    if pseudocount < 0:
        raise ValueError(f"pseudocount must be >= 0, got {pseudocount}")
    n_rows, n_cols = tokens_NC.shape
    counts_CV = np.zeros((n_cols, ALIGNED_VOCAB_SIZE))
    for c in range(n_cols):
        counts_CV[c] = np.bincount(
            tokens_NC[:, c].astype(np.int64), weights=weights_N, minlength=ALIGNED_VOCAB_SIZE
        )
    symbols = list(PSSM_SYMBOLS)
    counts_Cq = counts_CV[:, symbols] + pseudocount
    out = np.full((n_cols, ALIGNED_VOCAB_SIZE), -np.inf)
    out[:, symbols] = np.log(counts_Cq / counts_Cq.sum(1, keepdims=True))
    return out


def pssm_scores(
    log_freq_CV: np.ndarray, frame: ScoringFrame, variants: list[Variant]
) -> np.ndarray:
    """Variant log-odds under the column frequencies; `frame` places residues on columns
    (token index = column + 1, as in `variant_scores.aligned_frame`)."""

    def score(batch: list[Variant]) -> list[float]:
        return [
            float(
                sum(
                    log_freq_CV[frame.position_of[m.position] - 1, ALIGNED_VOCAB[m.mutant]]
                    - log_freq_CV[frame.position_of[m.position] - 1, ALIGNED_VOCAB[m.wild_type]]
                    for m in v.mutations
                )
            )
            for v in batch
        ]

    return score_by_status(frame, variants, score)
