"""`"exact"`: softmax attention through `scaled_dot_product_attention`, the Transformer
baseline. No projection buffer; decoding keeps a key/value cache (O(t) per token).
"""

from __future__ import annotations

from protein_performer.model import kernels
from protein_performer.model import recurrent as rnn
from protein_performer.model.attention_kinds.base import AttentionKindSpec


class ExactSoftmax(AttentionKindSpec):
    name = "exact"
    decoder = "kv-cache"
    label = "exact-sdpa"  # what runs: torch's scaled_dot_product_attention

    def attention_macs_per_token(self, config, length: int, chunk: int) -> float:
        # QKᵀ and AV: 2·L·C, half of that when causal (as PaLM counts, Chowdhery et al. 2022).
        return (1.0 if config.causal else 2.0) * length * config.d_model

    def attend(self, layer, q_BHLD, k_BHLD, v_BHLD, is_pad_BL):
        return kernels.exact_attention(
            q_BHLD,
            k_BHLD,
            v_BHLD,
            causal=layer.causal,
            is_pad_BL=is_pad_BL,
            dropout_p=layer.dropout if layer.training else 0.0,
        )

    def attention_matrix(self, layer, q_BHLD, k_BHLD, is_pad_BL):
        return kernels.softmax_attention_matrix(
            q_BHLD, k_BHLD, causal=layer.causal, is_pad_BL=is_pad_BL
        )

    def init_state(self, layer, batch: int, *, capacity: int, dtype, device) -> rnn.KVCache:
        return rnn.init_kv_cache(
            batch, layer.n_heads, layer.head_dim, capacity=capacity, dtype=dtype, device=device
        )

    def step(self, layer, state, q_BH1D, k_BH1D, v_BH1D):
        return rnn.exact_step(state, q_BH1D[:, :, 0], k_BH1D[:, :, 0], v_BH1D[:, :, 0])
