"""Model FLOPs per trained token, for MFU (Chowdhery et al. 2022, "PaLM", Appendix B).

A training step costs three forward passes (forward, and backward twice the forward), so
FLOPs per token = 3 × (2 × multiply-adds of one token's forward). Counted per token and layer:

- projections q, k, v, out: 4·C² multiply-adds; feed-forward: 2·C·F; LM head: C·V (once);
- attention: what the kind's spec counts (`AttentionKindSpec.attention_macs_per_token`; exact:
  QKᵀ and AV, 2·L·C, half when causal; FAVOR: feature and attention GEMMs, linear in L).

Elementwise work (exp, softmax, norms) is not counted, as is usual for MFU.
"""

from __future__ import annotations

from protein_performer.model.attention_kinds import get_kind
from protein_performer.model.config import PerformerConfig
from protein_performer.model.kernels import DEFAULT_CHUNK_SIZE


def attention_macs_per_token(
    config: PerformerConfig, length: int, chunk: int = DEFAULT_CHUNK_SIZE
) -> float:
    return get_kind(config.attention).attention_macs_per_token(config, length, chunk)


def training_flops_per_token(config: PerformerConfig, length: int) -> float:
    """3 × 2 × (dense + attention multiply-adds) per token of a batch of length `length`."""
    c, f, v = config.d_model, config.d_ff, config.vocab_size
    per_layer = 4 * c * c + 2 * c * f + attention_macs_per_token(config, length)
    return 6.0 * (config.n_layers * per_layer + c * v)
