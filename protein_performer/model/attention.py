"""Multi-head self-attention: a thin module around the pure kernels in `model.kernels`.

Shape legend: B batch, H heads, L length, D head dim, C model width (= H·D), M random features.

One class serves every attention kind so weights transfer between them (Choromanski et al.
2021, §4.1 "backwards compatibility": a Transformer's weights can be fine-tuned as a
Performer). What differs between kinds lives in `model.attention_kinds` (one module per kind:
`favor_relu`, `favor_softmax`, `exact`); this module only delegates to `self.spec`.

State: parameters `q_proj`, `k_proj`, `v_proj`, `out_proj` (identical for every kind) and, for
the FAVOR kinds, the persistent buffer `projection_MD` (saved in checkpoints; `[M, D]`, or
`[0, D]` for the projection-free ReLU map). `"exact"` registers no buffer, so a caller moving
weights between kinds loads parameters only (filter out `*.projection_MD`). Features change only
through `redraw_features(generator)`, never inside `forward`.

Factored attention (queries and keys from the positions alone, `qk_BLC` of batch 1) without
padding applies one map to every sequence: `forward` builds that `[H, L, L]` map once with
`attention_matrix` (the same features the kernels use) and applies it to all the values as one
GEMM per head, O(H·L²·(M + B·D)) instead of the kernel's O(B·H·L·M·D). Up to
`SHARED_MAP_MAX_LENGTH`; the result equals the kernel's up to rounding.
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from protein_performer.model import kernels
from protein_performer.model.attention_kinds import KINDS, AttentionKind, get_kind

__all__ = ["KINDS", "SHARED_MAP_MAX_LENGTH", "AttentionKind", "SelfAttention"]

# The longest L at which a shared factored-attention map is built ([H, L, L] floats: 16 MiB for
# H = 4 at L = 1024). Applying it costs L·D multiply-adds per position and head, against the
# causal kernel's 2·M·(D+1) + C·(M+D+1) (C the chunk length) for every sequence; measured
# faster for the causal family models at L = 84 and 202 (docs/FAMILIES.md, "Speed of the
# family loop").
SHARED_MAP_MAX_LENGTH = 1024


class SelfAttention(nn.Module):
    """Self-attention with FAVOR+ (softmax or ReLU features) or exact softmax.

    Args:
        d_model: model width C; must be divisible by `n_heads`.
        n_heads: number of heads H (head dim D = C / H).
        kind: a registered kind (`model.attention_kinds.KINDS`).
        causal: strictly causal (position i sees keys j ≤ i) if True.
        n_features: random features M per head (paper default 256).
        orthogonal: block-orthogonal projection rows (§2.4) instead of iid Gaussian.
        relu_projection: for "favor-relu", project onto M random directions first; False gives the
            deterministic ReLU(x) map.
        dropout: attention-probability dropout in training, "exact" only (FAVOR never forms the
            attention matrix, so there is nothing to drop; it is ignored there).
        chunk_size: the longest chunk of the causal FAVOR kernel; `kernels.chunk_length` may use
            shorter, balanced chunks (speed/memory trade-off only).
        row_norms: "chi" (unbiased, default) or "sqrt-d" row norms of the orthogonal projection.
        bf16_gemm: for the FAVOR kinds with bf16 activations (bf16 autocast), run the two
            attention GEMMs in bf16 with fp32 accumulation; features (the exponent) and the
            normaliser stay fp32. False keeps every FAVOR op in fp32 (the safe default).
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        *,
        kind: AttentionKind,
        causal: bool,
        n_features: int = 256,
        orthogonal: bool = True,
        relu_projection: bool = True,
        dropout: float = 0.0,
        chunk_size: int = kernels.DEFAULT_CHUNK_SIZE,
        row_norms: kernels.random_matrices.RowNorms = "chi",
        bf16_gemm: bool = False,
    ) -> None:
        super().__init__()
        self.spec = get_kind(kind)
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
        if n_features <= 0 or chunk_size <= 0:
            raise ValueError(
                f"n_features and chunk_size must be positive ({n_features}, {chunk_size})"
            )
        self.d_model, self.n_heads, self.head_dim = d_model, n_heads, d_model // n_heads
        self.kind, self.causal = kind, causal
        self.n_features, self.orthogonal, self.row_norms = n_features, orthogonal, row_norms
        self.relu_projection, self.dropout, self.chunk_size = relu_projection, dropout, chunk_size
        self.bf16_gemm = bf16_gemm
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        if self.spec.has_projection_buffer:
            projection_MD = self.spec.draw_projection(self, None)
            self.register_buffer("projection_MD", projection_MD, persistent=True)

    @property
    def uses_projection(self) -> bool:
        return self.spec.has_projection_buffer and self.spec.uses_projection(self)

    @torch.no_grad()
    def redraw_features(self, generator: torch.Generator | None = None) -> None:
        """Draw a fresh projection into `projection_MD` (no-op for kinds without one). A seeded
        CPU generator gives the same draw on every device."""
        if self.uses_projection:
            self.projection_MD.copy_(self.spec.draw_projection(self, generator))

    def project_qkv(
        self, x_BLC: torch.Tensor, qk_BLC: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Input projections split into heads: three `[B, H, L, D]` tensors. Queries and keys
        are projected from `qk_BLC` where given (factored attention: positions only; it may
        broadcast over the batch), values always from `x_BLC`."""
        source_BLC = x_BLC if qk_BLC is None else qk_BLC.expand_as(x_BLC)
        return (*self.project_qk(source_BLC), self._split(self.v_proj(x_BLC)))

    def project_qk(self, source_BLC: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Queries and keys `[B, H, L, D]` projected from `source_BLC` (batch as given)."""
        return self._split(self.q_proj(source_BLC)), self._split(self.k_proj(source_BLC))

    def _split(self, x_BLC: torch.Tensor) -> torch.Tensor:
        return rearrange(x_BLC, "b l (h d) -> b h l d", h=self.n_heads)

    def feature_map(self, x_BHLD: torch.Tensor, is_query: bool) -> torch.Tensor:
        """φ(x) `[B, H, L, M]` (float32 under autocast). Key features depend on that key alone, so
        a decoder can accumulate S = Σ φ(k) vᵀ and z = Σ φ(k) token by token and get
        out = φ(q)ᵀS / φ(q)ᵀz, equal to the causal forward up to rounding."""
        return self.spec.feature_map(self, x_BHLD, is_query)

    def merge_heads_and_project(self, out_BHLD: torch.Tensor) -> torch.Tensor:
        """`[B, H, L, D]` -> `[B, L, C]` through `out_proj`."""
        out_BLC = rearrange(out_BHLD, "b h l d -> b l (h d)")
        return self.out_proj(out_BLC.to(self.out_proj.weight.dtype))

    def attend(
        self,
        q_BHLD: torch.Tensor,
        k_BHLD: torch.Tensor,
        v_BHLD: torch.Tensor,
        is_pad_BL: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The attention op proper on split heads, `[B, H, L, D]` in the dtype of `v`."""
        return self.spec.attend(self, q_BHLD, k_BHLD, v_BHLD, is_pad_BL)

    def forward(
        self,
        x_BLC: torch.Tensor,
        is_pad_BL: torch.Tensor | None = None,
        qk_BLC: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """`[B, L, C] -> [B, L, C]`; `is_pad_BL` True at padding (removed as keys); `qk_BLC`:
        the source of queries and keys, if not `x_BLC` (see `project_qkv`)."""
        if self.shares_map(x_BLC, is_pad_BL, qk_BLC):
            return self.merge_heads_and_project(self.attend_shared(x_BLC, qk_BLC))
        q_BHLD, k_BHLD, v_BHLD = self.project_qkv(x_BLC, qk_BLC)
        return self.merge_heads_and_project(self.attend(q_BHLD, k_BHLD, v_BHLD, is_pad_BL))

    def shares_map(
        self, x_BLC: torch.Tensor, is_pad_BL: torch.Tensor | None, qk_BLC: torch.Tensor | None
    ) -> bool:
        """Whether every sequence of the batch gets the same map: queries and keys from one
        source of batch 1 (factored attention), no padding, L ≤ `SHARED_MAP_MAX_LENGTH`, and no
        attention-probability dropout in play (which draws a mask per sequence)."""
        return (
            qk_BLC is not None
            and qk_BLC.shape[0] == 1
            and is_pad_BL is None
            and x_BLC.shape[1] <= SHARED_MAP_MAX_LENGTH
            and not (self.training and self.dropout > 0 and not self.spec.is_favor)
        )

    def attend_shared(self, x_BLC: torch.Tensor, qk_1LC: torch.Tensor) -> torch.Tensor:
        """Factored attention through its one map: `[H, L, L]` from `attention_matrix`, applied
        to every sequence's values, `[B, H, L, D]` in the dtype of the values."""
        q_1HLD, k_1HLD = self.project_qk(qk_1LC)
        v_BHLD = self._split(self.v_proj(x_BLC))
        map_HLL = self.spec.attention_matrix(self, q_1HLD, k_1HLD, None)[0]
        out_BHLD = torch.einsum("hij,bhjd->bhid", map_HLL, v_BHLD.to(map_HLL.dtype))
        return out_BHLD.to(v_BHLD.dtype)

    def attention_matrix(
        self,
        x_BLC: torch.Tensor,
        is_pad_BL: torch.Tensor | None = None,
        qk_BLC: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The row-stochastic `[B, H, L, L]` matrix this layer applies to V (O(L²): short L only).

        Exact softmax for "exact"; for FAVOR, the matrix built from the same features and
        projection as `forward` (causal-masked when causal). Rows of FAVOR pad queries with no
        visible key are zero, as is their output.
        """
        q_BHLD, k_BHLD, _ = self.project_qkv(x_BLC, qk_BLC)
        return self.spec.attention_matrix(self, q_BHLD, k_BHLD, is_pad_BL)

    def extra_repr(self) -> str:
        extra = self.spec.extra_repr(self)
        return f"kind={self.kind!r}, causal={self.causal}, heads={self.n_heads}{extra}"
