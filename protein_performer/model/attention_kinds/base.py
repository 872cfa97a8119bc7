"""`AttentionKindSpec`: the interface every attention kind implements, and the shared FAVOR
behaviour of kinds that are defined by a feature map φ (Choromanski et al. 2021, §2.1:
Att(Q, K, V) ≈ D⁻¹ φ(Q) (φ(K)ᵀ V), linear in L).

A spec holds no state; it acts on the `SelfAttention` layer passed in (its projection buffer,
head sizes, causal flag). Shape legend: B batch, H heads, L length, D head dim, M features.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from protein_performer.model import kernels
from protein_performer.model import recurrent as rnn

if TYPE_CHECKING:  # the layer holds a spec (the seam): the spec only names the layer's type
    from protein_performer.model.attention import SelfAttention


class AttentionKindSpec:
    """One attention kind. Subclasses set `name` and `decoder` and implement the methods."""

    def __init__(self) -> None:
        self.label = self.label or self.name

    name: str = ""
    # How a causal layer of this kind decodes one token at a time (recorded in outputs).
    decoder: str = ""
    # Name of its implementation in benchmark tables (default: the kind's name).
    label: str = ""
    # Whether the layer keeps a persistent `projection_MD` buffer (saved in checkpoints).
    has_projection_buffer: bool = False
    # A FAVOR kind (features φ, attention linear in L) rather than the exact L×L softmax: the
    # GPU checks hold FAVOR kinds to the float64 reference path by path (fp32, bf16 GEMMs).
    is_favor: bool = False
    # Whether `bf16_gemm=True` changes anything: the kind has GEMMs it may run in bf16.
    supports_bf16_gemm: bool = False
    # Whether the kind estimates softmax attention (so it is compared with the exact kind).
    estimates_softmax: bool = False
    # performer-pytorch's implementation of the same kernel in the benchmark tables, if any.
    peer: str = ""

    def attention_macs_per_token(self, config, length: int, chunk: int) -> float:
        """Multiply-adds of one token's attention in one layer of `config` (a
        `PerformerConfig`) at sequence length `length` (causal FAVOR: chunks of `chunk`), for
        MFU; elementwise work is not counted."""
        raise NotImplementedError

    def uses_projection(self, layer: SelfAttention) -> bool:
        """Whether `projection_MD` holds a random draw (False: empty or absent)."""
        return False

    def draw_projection(
        self, layer: SelfAttention, generator: torch.Generator | None
    ) -> torch.Tensor:
        """A fresh `[M, D]` projection (`[0, D]` when the kind uses none)."""
        if not self.uses_projection(layer):
            return torch.zeros(0, layer.head_dim)
        return kernels.draw_projection(
            layer.n_features,
            layer.head_dim,
            orthogonal=layer.orthogonal,
            row_norms=layer.row_norms,
            generator=generator,
        ).float()

    def feature_map(self, layer: SelfAttention, x_BHLD: torch.Tensor, is_query: bool):
        raise RuntimeError(
            f"attention kind {self.name!r} has no feature map (only the FAVOR kinds)"
        )

    def attend(self, layer, q_BHLD, k_BHLD, v_BHLD, is_pad_BL) -> torch.Tensor:
        raise NotImplementedError

    def attention_matrix(self, layer, q_BHLD, k_BHLD, is_pad_BL) -> torch.Tensor:
        raise NotImplementedError

    def init_state(self, layer, batch: int, *, capacity: int, dtype, device) -> rnn.LayerState:
        raise NotImplementedError

    def step(self, layer, state, q_BH1D, k_BH1D, v_BH1D) -> tuple[torch.Tensor, rnn.LayerState]:
        """One causal token: the output `[B, H, D]` and the state including the token."""
        raise NotImplementedError

    def extra_repr(self, layer: SelfAttention) -> str:
        return ""


class FeatureMapKind(AttentionKindSpec):
    """A FAVOR kind: everything follows from `feature_map`. The layer keeps `projection_MD`;
    decoding carries the running sums (S, z) of `model.recurrent.FavorState`."""

    decoder = "favor-state"
    has_projection_buffer = True
    is_favor = True
    supports_bf16_gemm = True

    def attention_macs_per_token(self, config, length: int, chunk: int) -> float:
        # Features of q and k: 2·M·C; bidirectional: the two attention GEMMs 2·H·M·(D+1) (the
        # ones column carries the normaliser); causal: chunk state and inter-chunk read
        # 2·H·M·(D+1) plus the masked c×c block c·H·(M+D+1), computed whole, so counted whole.
        c, h, d, m = config.d_model, config.n_heads, config.head_dim, config.n_features
        gemms = 2 * m * c + 2 * h * m * (d + 1)
        if not config.causal:
            return gemms
        return gemms + kernels.chunk_length(length, chunk, m, d + 1) * h * (m + d + 1)

    def attend(self, layer, q_BHLD, k_BHLD, v_BHLD, is_pad_BL) -> torch.Tensor:
        phi_q_BHLM = self.feature_map(layer, q_BHLD, is_query=True)
        phi_k_BHLM = self.feature_map(layer, k_BHLD, is_query=False)
        # bf16 activations mean bf16 autocast (or a bf16 model): only then may GEMMs drop to it.
        low = layer.bf16_gemm and v_BHLD.dtype == torch.bfloat16
        gemm_dtype = torch.bfloat16 if low else None
        if layer.causal:
            # `layer.chunk_size` is the longest chunk; short sequences run shorter, balanced ones.
            chunk = kernels.chunk_length(
                q_BHLD.shape[2], layer.chunk_size, phi_q_BHLM.shape[-1], v_BHLD.shape[-1] + 1
            )
            out_BHLD = kernels.causal_linear_attention(
                phi_q_BHLM, phi_k_BHLM, v_BHLD, is_pad_BL, chunk, gemm_dtype=gemm_dtype
            )
        else:
            out_BHLD = kernels.linear_attention(
                phi_q_BHLM, phi_k_BHLM, v_BHLD, is_pad_BL, gemm_dtype=gemm_dtype
            )
        return out_BHLD.to(v_BHLD.dtype)

    def attention_matrix(self, layer, q_BHLD, k_BHLD, is_pad_BL) -> torch.Tensor:
        return kernels.favor_attention_matrix(
            self.feature_map(layer, q_BHLD, is_query=True),
            self.feature_map(layer, k_BHLD, is_query=False),
            causal=layer.causal,
            is_pad_BL=is_pad_BL,
        )

    def init_state(self, layer, batch: int, *, capacity: int, dtype, device) -> rnn.FavorState:
        # The feature count (and compute dtype) is whatever the map produces for this layer.
        probe = self.feature_map(
            layer,
            torch.zeros(1, layer.n_heads, 1, layer.head_dim, dtype=dtype, device=device),
            True,
        )
        return rnn.init_favor_state(
            batch, layer.n_heads, probe.shape[-1], layer.head_dim, dtype=probe.dtype, device=device
        )

    def step(self, layer, state, q_BH1D, k_BH1D, v_BH1D):
        phi_q_BHM = self.feature_map(layer, q_BH1D, is_query=True)[:, :, 0]
        phi_k_BHM = self.feature_map(layer, k_BH1D, is_query=False)[:, :, 0]
        return rnn.favor_step(state, phi_q_BHM, phi_k_BHM, v_BH1D[:, :, 0])

    def extra_repr(self, layer: SelfAttention) -> str:
        return f", n_features={layer.n_features}"
