"""Contacts from position-attention layers: factored attention read as a Potts model's couplings.

A block whose queries and keys come from the position embeddings alone
(`PerformerConfig.position_attention_layers`) applies the same map A_h `[L, L]` to every
sequence. With the head's value-to-output matrix W_h = W_O^h W_V^h, position i receives
Σ_j A_h[i, j] W_h v(x_j): a coupling of positions i and j of strength A_h[i, j] and residue
dependence W_h, which is factored attention (Bhattacharya et al. 2020, "Single layers of
attention suffice to predict protein contacts"). As for a Potts model's couplings (Ekeberg et
al. 2013), the contact score of a pair is the size of its coupling, Σ_h ‖W_h‖_F A_h[i, j],
symmetrised and APC-corrected.

In a causal model the output at token t predicts token t + 1, so row t of the map couples token
t + 1 with the keys s ≤ t; the read-out moves each row down by one token.

Shapes: N position layers, H heads, L tokens, P scored positions.
"""

from __future__ import annotations

import numpy as np
import torch

from protein_performer.analysis.contacts import sym_apc


def position_layers(model) -> tuple[int, ...]:
    """Indices of the blocks with position-only queries and keys (none for most models)."""
    return tuple(n for n, block in enumerate(model.blocks) if getattr(block, "position_qk", False))


def head_weights(block) -> torch.Tensor:
    """[H] ‖W_O^h W_V^h‖_F of each head of one block: how much a unit of attention moves."""
    attention = block.attention
    d = attention.head_dim
    weights = []
    for h in range(attention.n_heads):
        w_out_CD = attention.out_proj.weight[:, h * d : (h + 1) * d]
        w_value_DC = attention.v_proj.weight[h * d : (h + 1) * d]
        weights.append(torch.linalg.matrix_norm(w_out_CD @ w_value_DC))
    return torch.stack(weights)


@torch.no_grad()
def coupling_scores(model, length: int) -> np.ndarray:
    """[L, L] Σ over position layers and heads of ‖W_h‖_F A_h, rows aligned with the token they
    predict (shifted by one for a causal model), before symmetrisation; zeros if the model has
    no position layer."""
    positions_1LC = model.positions(length)
    total_LL = torch.zeros(length, length, dtype=torch.float64)
    for n in position_layers(model):
        block = model.blocks[n]
        maps_HLL = block.attention.attention_matrix(
            positions_1LC, None, block.qk_source(positions_1LC)
        )[0]
        weighted_LL = torch.einsum("h,hij->ij", head_weights(block).double(), maps_HLL.double())
        total_LL += weighted_LL.cpu()
    if model.config.causal:
        shifted_LL = torch.zeros_like(total_LL)
        shifted_LL[1:] = total_LL[:-1]
        total_LL = shifted_LL
    return total_LL.numpy()


def position_attention_contacts(model, length: int, positions_P: np.ndarray) -> np.ndarray:
    """[P, P] contact scores of the tokens `positions_P` from the model's position layers:
    the couplings cut to those tokens, then symmetrised and APC-corrected."""
    if not position_layers(model):
        raise ValueError(
            "this model has no position-attention layer (position_attention_layers=0)"
        )
    scores_LL = coupling_scores(model, length)
    return sym_apc(scores_LL[np.ix_(positions_P, positions_P)])
