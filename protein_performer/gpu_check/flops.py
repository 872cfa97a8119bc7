"""Model FLOPs per trained token, for MFU (Chowdhery et al. 2022, "PaLM", Appendix B).

A training step costs three forward passes (forward, and backward twice the forward), so
FLOPs per token = 3 × (2 × multiply-adds of one token's forward). Counted per token and layer:

- projections q, k, v, out: 4·C² multiply-adds; feed-forward: 2·C·F; LM head: C·V (once);
- exact attention: QKᵀ and AV, 2·L·C (half of that when causal, as PaLM counts);
- FAVOR, bidirectional: the feature GEMMs of q and k, 2·M·C, plus the two attention GEMMs,
  2·H·M·(D+1) (the ones column carries the normaliser);
- FAVOR, causal (chunks of c): features 2·M·C, chunk state and inter-chunk read 2·H·M·(D+1),
  the masked c×c block c·H·(M+D+1) (computed whole, so counted whole).

Elementwise work (exp, softmax, norms) is not counted, as is usual for MFU.
"""

from __future__ import annotations

from protein_performer.model.config import PerformerConfig
from protein_performer.model.kernels import DEFAULT_CHUNK_SIZE


def attention_macs_per_token(
    config: PerformerConfig, length: int, chunk: int = DEFAULT_CHUNK_SIZE
) -> float:
    c, h, d, m = config.d_model, config.n_heads, config.head_dim, config.n_features
    if config.attention == "exact":
        return (1.0 if config.causal else 2.0) * length * c
    features = 2 * m * c
    if not config.causal:
        return features + 2 * h * m * (d + 1)
    block = min(chunk, length)
    return features + 2 * h * m * (d + 1) + block * h * (m + d + 1)


def training_flops_per_token(config: PerformerConfig, length: int) -> float:
    """3 × 2 × (dense + attention multiply-adds) per token of a batch of length `length`."""
    c, f, v = config.d_model, config.d_ff, config.vocab_size
    per_layer = 4 * c * c + 2 * c * f + attention_macs_per_token(config, length)
    return 6.0 * (config.n_layers * per_layer + c * v)
