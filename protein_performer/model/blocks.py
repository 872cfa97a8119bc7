"""One pre-LayerNorm Transformer/Performer block: `x + attn(ln1(x))`, then `x + ff(ln2(x))`.

Pre-LN (Xiong et al. 2020, "On Layer Normalization in the Transformer Architecture") trains deep
stacks such as the paper's 36-layer protein model without a long warm-up, and it is what ESM-1b
and GPT-2 use. The submodule names are public API: the recurrent decoder in
`protein_performer.generation` runs a block one token at a time through
`ln1 → attention (project_qkv / feature_map) → attention.out_proj → dropout → ln2 → ff → dropout`.

Shapes: B batch, L length, C model width, F feed-forward width.
"""

from __future__ import annotations

import torch
from torch import nn

from protein_performer.model.attention import SelfAttention
from protein_performer.model.config import PerformerConfig


class FeedForward(nn.Module):
    """Position-wise `fc_out(GELU(fc_in(x)))`, C → F → C (Vaswani et al. 2017; GELU as in BERT)."""

    def __init__(self, d_model: int, d_ff: int) -> None:
        super().__init__()
        self.fc_in = nn.Linear(d_model, d_ff)
        self.activation = nn.GELU()
        self.fc_out = nn.Linear(d_ff, d_model)

    def forward(self, x_BLC: torch.Tensor) -> torch.Tensor:
        return self.fc_out(self.activation(self.fc_in(x_BLC)))


class Block(nn.Module):
    """Pre-LN residual block. Attributes: `ln1`, `attention` (SelfAttention), `ln2`, `ff`,
    `dropout` (applied to both residual branches before the addition).

    With `position_qk`, attention takes its queries and keys from `ln_qk` of the position
    embeddings instead of the residual stream (factored attention; `PerformerConfig`'s
    `position_attention_layers`): `x + attn(ln1(x), qk=ln_qk(pos))`.
    """

    def __init__(self, config: PerformerConfig, position_qk: bool = False) -> None:
        super().__init__()
        self.position_qk = position_qk
        if position_qk:
            self.ln_qk = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.ln1 = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.attention = SelfAttention(
            config.d_model,
            config.n_heads,
            kind=config.attention,
            causal=config.causal,
            n_features=config.n_features,
            bf16_gemm=config.favor_bf16_gemm,
        )
        self.ln2 = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.ff = FeedForward(config.d_model, config.d_ff)
        # Residual dropout only: FAVOR never forms the attention matrix, so there is nothing to
        # drop inside attention, and doing the same for "exact" keeps the kinds interchangeable.
        self.dropout = nn.Dropout(config.dropout)

    def qk_source(self, positions_1LC: torch.Tensor | None) -> torch.Tensor | None:
        """What queries and keys are projected from, if not `ln1(x)`: `ln_qk(positions)`."""
        if not self.position_qk:
            return None
        if positions_1LC is None:
            raise ValueError("a position-attention block needs the position embeddings")
        return self.ln_qk(positions_1LC)

    def forward(
        self,
        x_BLC: torch.Tensor,
        is_pad_BL: torch.Tensor | None = None,
        positions_1LC: torch.Tensor | None = None,
    ) -> torch.Tensor:
        qk_BLC = self.qk_source(positions_1LC)
        x_BLC = x_BLC + self.dropout(self.attention(self.ln1(x_BLC), is_pad_BL, qk_BLC))
        return x_BLC + self.dropout(self.ff(self.ln2(x_BLC)))
