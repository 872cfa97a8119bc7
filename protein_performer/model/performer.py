"""`ProteinPerformer`: token + position embeddings → pre-LN blocks → final LayerNorm → LM head.

Design choices (each one the same for all three attention kinds, so weights transfer):

- **Learned absolute positions** (`position_embedding`, one row per position up to
  `config.max_len`), as in BERT and ESM-1b. They need nothing from the attention kernel, so they
  work unchanged for FAVOR (whose linear form cannot take a relative bias) and for token-by-token
  decoding, where position t simply reads row t. The price is a hard `max_len`.
- **Tied LM head** (`config.tie_embeddings=True`): `lm_head.weight` *is*
  `token_embedding.weight`, plus its own bias, as in ESM and BERT; with 30 tokens the saving is
  tiny but input and output residue spaces stay one. Set it False for a separate matrix.
- Pre-LayerNorm blocks with a GELU feed-forward (see `blocks.py`) and a final LayerNorm
  `final_norm` before the head.

Public submodules, for the recurrent decoder and the analyses: `token_embedding`,
`position_embedding`, `embed_dropout`, `blocks` (each with `ln1`, `attention`, `ln2`, `ff`,
`dropout`), `final_norm`, `lm_head` (an `nn.Linear(C, V)` whose weight may be tied).

Shapes: B batch, L length, C model width, V vocabulary, H heads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from protein_performer.constants import PAD_ID
from protein_performer.model.blocks import Block
from protein_performer.model.config import PerformerConfig


@dataclass(frozen=True)
class PerformerOutput:
    """Result of `ProteinPerformer.forward`.

    `hidden_states`, when asked for, has `n_layers + 1` entries as in Hugging Face ESM: entry i
    is the input of block i, and the last entry is the final-normalised output (= `hidden_BLC`).
    """

    logits_BLV: torch.Tensor
    hidden_BLC: torch.Tensor
    hidden_states: tuple[torch.Tensor, ...] | None = None


class ProteinPerformer(nn.Module):
    """A protein language model with Performer (FAVOR+) or exact attention.

    Choromanski et al., "Rethinking Attention with Performers", ICLR 2021 (arXiv 2009.14794):
    the model is a standard Transformer whose attention is swapped for FAVOR+; everything else,
    including the parameters, is shared with the exact baseline (§4.3 backward compatibility).
    """

    def __init__(self, config: PerformerConfig) -> None:
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.d_model, padding_idx=PAD_ID)
        self.position_embedding = nn.Embedding(config.max_len, config.d_model)
        self.embed_dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(
            Block(config, position_qk=n < config.position_attention_layers)
            for n in range(config.n_layers)
        )
        self.final_norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=True)
        self.reset_parameters()
        if config.tie_embeddings:
            # Same Parameter object: one tensor in the optimiser, two names in the state dict.
            self.lm_head.weight = self.token_embedding.weight

    def reset_parameters(self) -> None:
        """Normal(0, init_std) weights and zero biases (BERT); residual output projections get
        std / sqrt(2 n_layers) so the residual stream's variance does not grow with depth (GPT-2).
        Projection buffers of the attention layers are left alone."""
        std = self.config.init_std
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=std)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, std=std)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        with torch.no_grad():
            self.token_embedding.weight[PAD_ID].zero_()
        residual_std = std / math.sqrt(2 * self.config.n_layers)
        for block in self.blocks:
            nn.init.normal_(block.attention.out_proj.weight, std=residual_std)
            nn.init.normal_(block.ff.fc_out.weight, std=residual_std)

    def positions(self, length: int, offset: int = 0) -> torch.Tensor:
        """Position embeddings `[1, L, C]` of rows `offset … offset + length - 1`."""
        if offset + length > self.config.max_len:
            raise ValueError(
                f"sequence of {offset + length} tokens exceeds max_len={self.config.max_len} "
                f"of this model (learned positions); crop or use a longer preset"
            )
        weight = self.position_embedding.weight
        positions_L = torch.arange(offset, offset + length, device=weight.device)
        return self.position_embedding(positions_L)[None]

    def embed(self, tokens_BL: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """Token + position embeddings (before dropout); position t reads row `offset + t`."""
        return self.token_embedding(tokens_BL) + self.positions(tokens_BL.shape[1], offset)

    @staticmethod
    def _pad_mask(tokens_BL: torch.Tensor, is_pad_BL: torch.Tensor | None) -> torch.Tensor | None:
        # None means "padding is wherever the token is <pad>"; a mask with no True is dropped so
        # the kernels take their unmasked path.
        if is_pad_BL is None:
            is_pad_BL = tokens_BL == PAD_ID
        if is_pad_BL.shape != tokens_BL.shape:
            raise ValueError(
                f"is_pad_BL shape {tuple(is_pad_BL.shape)} != tokens_BL {tuple(tokens_BL.shape)}"
            )
        return is_pad_BL.bool() if bool(is_pad_BL.any()) else None

    def forward(
        self,
        tokens_BL: torch.Tensor,
        is_pad_BL: torch.Tensor | None = None,
        output_hidden_states: bool = False,
    ) -> PerformerOutput:
        """Logits over the vocabulary at every position.

        `is_pad_BL` (True at padding) defaults to `tokens_BL == PAD_ID`. Padded keys are masked
        out in every layer, so logits at real positions do not depend on the padding.
        """
        is_pad_BL = self._pad_mask(tokens_BL, is_pad_BL)
        positions_1LC = self.positions(tokens_BL.shape[1])
        x_BLC = self.embed_dropout(self.token_embedding(tokens_BL) + positions_1LC)
        states: list[torch.Tensor] = []
        for block in self.blocks:
            if output_hidden_states:
                states.append(x_BLC)
            x_BLC = block(x_BLC, is_pad_BL, positions_1LC)
        hidden_BLC = self.final_norm(x_BLC)
        if output_hidden_states:
            states.append(hidden_BLC)
        return PerformerOutput(
            logits_BLV=self.lm_head(hidden_BLC),
            hidden_BLC=hidden_BLC,
            hidden_states=tuple(states) if output_hidden_states else None,
        )

    def attention_maps(
        self, tokens_BL: torch.Tensor, is_pad_BL: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The row-stochastic L×L matrix each layer applies, `[n_layers, B, H, L, L]`.

        Each layer's matrix is computed from that layer's real input (`ln1` of the residual
        stream), with the FAVOR features currently in its buffer. Call `model.eval()` first for
        deterministic maps; gradients flow unless the caller disables them.
        """
        is_pad_BL = self._pad_mask(tokens_BL, is_pad_BL)
        positions_1LC = self.positions(tokens_BL.shape[1])
        x_BLC = self.embed_dropout(self.token_embedding(tokens_BL) + positions_1LC)
        maps = []
        for block in self.blocks:
            qk_BLC = block.qk_source(positions_1LC)
            maps.append(block.attention.attention_matrix(block.ln1(x_BLC), is_pad_BL, qk_BLC))
            x_BLC = block(x_BLC, is_pad_BL, positions_1LC)
        return torch.stack(maps)

    @torch.no_grad()
    def redraw_features(self, generator: torch.Generator | None = None) -> None:
        """Draw fresh FAVOR projections in every layer (a no-op for exact attention layers).

        Called by `training.callbacks.FeatureRedraw`, never from `forward`."""
        for block in self.blocks:
            block.attention.redraw_features(generator)

    def save_pretrained(self, directory: str | Path) -> Path:
        """Hugging Face layout: `config.json` + `model.safetensors` (see `model.io`)."""
        from protein_performer.model import io

        return io.save_pretrained(self, directory)

    @classmethod
    def from_pretrained(
        cls, directory: str | Path, map_location: str | torch.device = "cpu"
    ) -> ProteinPerformer:
        """The model `save_pretrained` wrote into `directory`, in eval mode."""
        from protein_performer.model import io

        return io.from_pretrained(directory, map_location)

    def num_parameters(self) -> int:
        """Distinct trainable parameters (a tied weight counts once)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
