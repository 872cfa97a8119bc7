"""Log-likelihood of whole sequences under a causal model, by batched full forward passes.

Shape legend: B batch, L length, V vocabulary.

A causal LM factorises p(x) = Π_t p(x_t | x_<t) over `<cls> x_1 … x_n <eos>`, so one forward
pass over the framed sequence gives every conditional at once (teacher forcing). The score of a
sequence sums log p over the n residues *and* the closing EOS (the model's belief that the
protein ends there), n + 1 predictions in all; perplexity is exp(−mean log p), the per-token
measure the training loop logs as `*/perplexity`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from protein_performer.data.padding import pad_tokens
from protein_performer.generation.decoder import check_causal
from protein_performer.model.performer import ProteinPerformer
from protein_performer.progress import progress_bar


@torch.no_grad()
def token_log_likelihoods(
    model: ProteinPerformer, tokens_BL: torch.Tensor, is_pad_BL: torch.Tensor
) -> torch.Tensor:
    """log p(tokens[:, t+1] | tokens[:, :t+1]) `[B, L-1]` (float64), 0 where the target is pad."""
    check_causal(model)
    device = model.token_embedding.weight.device
    tokens_BL, is_pad_BL = tokens_BL.to(device), is_pad_BL.to(device)
    logits_BLV = model(tokens_BL, is_pad_BL=is_pad_BL).logits_BLV[:, :-1]
    log_probs_BLV = torch.log_softmax(logits_BLV.double(), dim=-1)
    target_BL = tokens_BL[:, 1:]
    ll_BL = log_probs_BLV.gather(-1, target_BL.unsqueeze(-1)).squeeze(-1)
    return ll_BL.masked_fill(is_pad_BL[:, 1:], 0.0).cpu()


def sequence_log_likelihoods(
    model: ProteinPerformer,
    framed: Sequence[np.ndarray],
    *,
    batch_size: int = 32,
    progress: bool = False,
) -> np.ndarray:
    """Summed log-likelihood (nats) of each framed `<cls> … <eos>` id array, in input order.

    Sequences are batched in order of length so that little compute goes to padding; causal
    attention means padding on the right never changes the real positions.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = np.argsort([len(x) for x in framed], kind="stable")
    totals = np.zeros(len(framed), dtype=np.float64)
    bar = progress_bar(len(framed), "score", enabled=progress)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        tokens_BL, is_pad_BL = pad_tokens([framed[i] for i in rows])
        totals[rows] = token_log_likelihoods(model, tokens_BL, is_pad_BL).sum(dim=1).numpy()
        bar.update(len(rows))
    bar.close()
    return totals
