"""Multi-head self-attention: a thin module around the pure kernels in `model.kernels`.

Shape legend: B batch, H heads, L length, D head dim, C model width (= H·D), M random features.

One class serves all three kinds so weights transfer between them (Choromanski et al. 2021,
§4.1 "backwards compatibility": a Transformer's weights can be fine-tuned as a Performer):

- `"favor-softmax"`: FAVOR+ positive orthogonal random features (Lemma 1, §2.4), see
  `kernels.feature_maps` for the stabiliser (decodable token by token, cancels exactly);
- `"favor-relu"`: generalized attention with ReLU features (§2.2, Appendix A.2) over a random
  projection, or, with `relu_projection=False`, the deterministic map ReLU(x) of the reference
  JAX code (no randomness, M = D);
- `"exact"`: softmax attention through `scaled_dot_product_attention`.

State: parameters `q_proj`, `k_proj`, `v_proj`, `out_proj` (identical for every kind) and, for
the FAVOR kinds, the persistent buffer `projection_MD` (saved in checkpoints; `[M, D]`, or
`[0, D]` for the projection-free ReLU map). `"exact"` registers no buffer, so a caller moving
weights between kinds loads parameters only (filter out `*.projection_MD`). Features change only
through `redraw_features(generator)`, never inside `forward`.
"""

from __future__ import annotations

from typing import Literal

import torch
from einops import rearrange
from torch import nn

from protein_performer.model import kernels

AttentionKind = Literal["favor-softmax", "favor-relu", "exact"]
KINDS: tuple[str, ...] = ("favor-softmax", "favor-relu", "exact")


class SelfAttention(nn.Module):
    """Self-attention with FAVOR+ (softmax or ReLU features) or exact softmax.

    Args:
        d_model: model width C; must be divisible by `n_heads`.
        n_heads: number of heads H (head dim D = C / H).
        kind: "favor-softmax", "favor-relu" or "exact".
        causal: strictly causal (position i sees keys j ≤ i) if True.
        n_features: random features M per head (paper default 256).
        orthogonal: block-orthogonal projection rows (§2.4) instead of iid Gaussian.
        relu_projection: for "favor-relu", project onto M random directions first; False gives the
            deterministic ReLU(x) map.
        dropout: attention-probability dropout in training, "exact" only (FAVOR never forms the
            attention matrix, so there is nothing to drop; it is ignored there).
        chunk_size: chunk length C of the causal FAVOR kernel (speed/memory trade-off only).
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
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
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
        if kind != "exact":
            self.register_buffer("projection_MD", self._draw(None), persistent=True)

    @property
    def uses_projection(self) -> bool:
        return self.kind == "favor-softmax" or (self.kind == "favor-relu" and self.relu_projection)

    def _draw(self, generator: torch.Generator | None) -> torch.Tensor:
        if not self.uses_projection:
            return torch.zeros(0, self.head_dim)
        return kernels.draw_projection(
            self.n_features,
            self.head_dim,
            orthogonal=self.orthogonal,
            row_norms=self.row_norms,
            generator=generator,
        ).float()

    @torch.no_grad()
    def redraw_features(self, generator: torch.Generator | None = None) -> None:
        """Draw a fresh projection into `projection_MD` (no-op for "exact" and projection-free
        ReLU). A seeded CPU generator gives the same draw on every device."""
        if self.kind == "exact" or not self.uses_projection:
            return
        self.projection_MD.copy_(self._draw(generator))

    def project_qkv(self, x_BLC: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Input projections split into heads: three `[B, H, L, D]` tensors."""
        split = "b l (h d) -> b h l d"
        return tuple(
            rearrange(proj(x_BLC), split, h=self.n_heads)
            for proj in (self.q_proj, self.k_proj, self.v_proj)
        )

    def feature_map(self, x_BHLD: torch.Tensor, is_query: bool) -> torch.Tensor:
        """φ(x) `[B, H, L, M]` (float32 under autocast). Key features depend on that key alone, so
        a decoder can accumulate S = Σ φ(k) vᵀ and z = Σ φ(k) token by token and get
        out = φ(q)ᵀS / φ(q)ᵀz, equal to the causal forward up to rounding."""
        if self.kind == "favor-softmax":
            return kernels.softmax_features(
                x_BHLD, self.projection_MD, stabilizer="query" if is_query else "key"
            )
        if self.kind == "favor-relu":
            projection = self.projection_MD if self.relu_projection else None
            return kernels.relu_features(x_BHLD, projection)
        raise RuntimeError("feature_map is only defined for the FAVOR kinds, not 'exact'")

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
        if self.kind == "exact":
            dropout_p = self.dropout if self.training else 0.0
            return kernels.exact_attention(
                q_BHLD,
                k_BHLD,
                v_BHLD,
                causal=self.causal,
                is_pad_BL=is_pad_BL,
                dropout_p=dropout_p,
            )
        phi_q_BHLM = self.feature_map(q_BHLD, is_query=True)
        phi_k_BHLM = self.feature_map(k_BHLD, is_query=False)
        # bf16 activations mean bf16 autocast (or a bf16 model): only then may GEMMs drop to it.
        low = self.bf16_gemm and v_BHLD.dtype == torch.bfloat16
        gemm_dtype = torch.bfloat16 if low else None
        if self.causal:
            out_BHLD = kernels.causal_linear_attention(
                phi_q_BHLM, phi_k_BHLM, v_BHLD, is_pad_BL, self.chunk_size, gemm_dtype=gemm_dtype
            )
        else:
            out_BHLD = kernels.linear_attention(
                phi_q_BHLM, phi_k_BHLM, v_BHLD, is_pad_BL, gemm_dtype=gemm_dtype
            )
        return out_BHLD.to(v_BHLD.dtype)

    def forward(self, x_BLC: torch.Tensor, is_pad_BL: torch.Tensor | None = None) -> torch.Tensor:
        """`[B, L, C] -> [B, L, C]`; `is_pad_BL` True at padding (removed as keys)."""
        q_BHLD, k_BHLD, v_BHLD = self.project_qkv(x_BLC)
        return self.merge_heads_and_project(self.attend(q_BHLD, k_BHLD, v_BHLD, is_pad_BL))

    def attention_matrix(
        self, x_BLC: torch.Tensor, is_pad_BL: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The row-stochastic `[B, H, L, L]` matrix this layer applies to V (O(L²): short L only).

        Exact softmax for "exact"; for FAVOR, the matrix built from the same features and
        projection as `forward` (causal-masked when causal). Rows of FAVOR pad queries with no
        visible key are zero, as is their output.
        """
        q_BHLD, k_BHLD, _ = self.project_qkv(x_BLC)
        if self.kind == "exact":
            return kernels.softmax_attention_matrix(
                q_BHLD, k_BHLD, causal=self.causal, is_pad_BL=is_pad_BL
            )
        return kernels.favor_attention_matrix(
            self.feature_map(q_BHLD, is_query=True),
            self.feature_map(k_BHLD, is_query=False),
            causal=self.causal,
            is_pad_BL=is_pad_BL,
        )

    def extra_repr(self) -> str:
        extra = "" if self.kind == "exact" else f", n_features={self.n_features}"
        return f"kind={self.kind!r}, causal={self.causal}, heads={self.n_heads}{extra}"
