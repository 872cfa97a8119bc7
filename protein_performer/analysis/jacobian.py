"""Contacts from the categorical Jacobian of a language model (Zhang, Wayment-Steele, Brixi,
Wang, Kern & Ovchinnikov 2024, PNAS, "Protein language models learn evolutionary statistics of
interacting sequence motifs").

For a sequence x, substitute each of the 20 amino acids a at each position i and record how
the logits at every position j move: J[i, a, j, b] = f(x with xᵢ = a)[j, b] − f(x)[j, b].
J is double-centred (the mean over a and over b removed, so that neither a shift of every
substitution at i nor of every output logit at j counts as coupling), reduced to one number per
pair by the Frobenius norm over (a, b), symmetrised and corrected by APC (Dunn et al. 2008).
It needs only forward passes, so it works for any checkpoint, masked or causal, general or
family. A causal model's logits at token t are the distribution of token t + 1, so the logits
read for position j are those of token j − 1 (`predicting_tokens`); they react only to i < j,
and symmetrisation gives the pair its one-sided signal.

Shapes: P scored positions, A = 20 substitutions, L tokens, V vocabulary.
"""

from __future__ import annotations

import numpy as np
import torch

from protein_performer.analysis.contacts import apc
from protein_performer.constants import STANDARD_IDS


def predicting_tokens(model, positions_P: np.ndarray) -> np.ndarray:
    """[P] the tokens whose logits are the model's distribution of the tokens `positions_P`:
    the same tokens for a masked model, the one before each for a causal model."""
    positions_P = np.asarray(positions_P, dtype=np.int64)
    if not model.config.causal:
        return positions_P
    if positions_P.size and positions_P.min() < 1:
        raise ValueError("a causal model has no distribution for token 0 (nothing precedes it)")
    return positions_P - 1


@torch.no_grad()
def categorical_jacobian(
    model, tokens_L: np.ndarray, positions_P: np.ndarray, batch_size: int = 256
) -> np.ndarray:
    """[P, A, P, A] changes of the model's distributions of the tokens `positions_P` (its logits
    at `predicting_tokens`) when each of those tokens is substituted by each of the 20 amino
    acids."""
    model.eval()
    tokens_L = np.asarray(tokens_L, dtype=np.int64)
    positions_P = np.asarray(positions_P, dtype=np.int64)
    read_P = predicting_tokens(model, positions_P)
    aa = np.asarray(STANDARD_IDS, dtype=np.int64)
    n_pos, n_aa = len(positions_P), len(aa)
    inputs = np.repeat(tokens_L[None], n_pos * n_aa + 1, 0)  # row 0: the unchanged sequence
    rows = 1 + np.arange(n_pos * n_aa)
    inputs[rows, np.repeat(positions_P, n_aa)] = np.tile(aa, n_pos)
    logits = []
    for start in range(0, len(inputs), batch_size):
        batch = torch.from_numpy(inputs[start : start + batch_size])
        logits_BLV = model(batch).logits_BLV.double()
        logits.append(logits_BLV[:, read_P][:, :, aa].numpy())
    logits_BPA = np.concatenate(logits).astype(np.float64)
    delta = logits_BPA[1:] - logits_BPA[:1]
    return delta.reshape(n_pos, n_aa, n_pos, n_aa)


def double_centre(jac_PAPA: np.ndarray) -> np.ndarray:
    """Remove the means over the substituted and the read-out amino acid."""
    out = jac_PAPA - jac_PAPA.mean(1, keepdims=True)
    return out - out.mean(3, keepdims=True)


def jacobian_contacts(jac_PAPA: np.ndarray) -> np.ndarray:
    """[P, P] contact scores: APC(symmetrise(‖double-centred J[i, :, j, :]‖_F)), diagonal 0."""
    norm_PP = np.sqrt((double_centre(jac_PAPA) ** 2).sum((1, 3)))
    np.fill_diagonal(norm_PP, 0.0)
    return apc(norm_PP + norm_PP.T)


def contact_map_from_model(model, tokens_L: np.ndarray, positions_P: np.ndarray) -> np.ndarray:
    """`jacobian_contacts` of `categorical_jacobian`."""
    return jacobian_contacts(categorical_jacobian(model, tokens_L, positions_P))
