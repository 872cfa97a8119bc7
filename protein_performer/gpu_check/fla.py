"""flash-linear-attention's causal chunk kernel fed with our FAVOR features (optional).

Yang et al., "Gated Linear Attention Transformers with Hardware-Efficient Training" (ICML 2024)
and the `fla` library: Triton kernels for chunked causal linear attention. `chunk_linear_attn`
multiplies q by `scale`, 1/sqrt(K) by default; FAVOR features already carry their own scaling
(x / D^(1/4) inside φ), so the scale is set to 1. Its own normalisation is turned off and our
fp32 normaliser Σ_{j≤i} φ(q_i)·φ(k_j) is used, as in the bf16-GEMM path, so the two differ only
in how the numerator is computed.
"""

from __future__ import annotations

import inspect

import torch

from protein_performer.model.attention import SelfAttention
from protein_performer.model.kernels.linear_attention import divide


def fla_attend(layer: SelfAttention):
    """`(q, k, v) -> out` `[B, H, L, D]` for a causal FAVOR layer through fla (bf16 kernel)."""
    from fla.ops.linear_attn import chunk_linear_attn

    params = inspect.signature(chunk_linear_attn).parameters
    # Older fla releases took [B, H, T, K] by default (head_first=True); newer ones take
    # [B, T, H, K] and dropped the flag. Always hand over [B, T, H, K].
    extra = {"head_first": False} if "head_first" in params else {}

    def attend(q_BHLD: torch.Tensor, k_BHLD: torch.Tensor, v_BHLD: torch.Tensor) -> torch.Tensor:
        phi_q_BHLM = layer.feature_map(q_BHLD, is_query=True)
        phi_k_BHLM = layer.feature_map(k_BHLD, is_query=False)
        prefix_BHLM = phi_k_BHLM.cumsum(dim=-2)
        den_BHL1 = torch.matmul(phi_q_BHLM.unsqueeze(-2), prefix_BHLM.unsqueeze(-1))[..., 0]

        def to_bthk(x: torch.Tensor) -> torch.Tensor:
            return x.transpose(1, 2).to(torch.bfloat16).contiguous()

        result = chunk_linear_attn(
            to_bthk(phi_q_BHLM), to_bthk(phi_k_BHLM), to_bthk(v_BHLD),
            scale=1.0, normalize=False, **extra,
        )  # fmt: skip
        out_BLHD = result[0] if isinstance(result, tuple) else result  # (o, final_state)
        return divide(out_BLHD.transpose(1, 2), den_BHL1).to(v_BHLD.dtype)

    return attend
