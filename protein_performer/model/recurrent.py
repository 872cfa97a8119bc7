"""One attention layer, one token at a time: FAVOR as an RNN, exact attention with a KV cache.

Shape legend: B batch, H heads, D head dim, M random features, S cached length, C model width.

A causal linear-attention layer is a recurrent network in disguise (Katharopoulos et al. 2020,
"Transformers are RNNs", §3.4; Choromanski et al. 2021, §2.1 / Fig. 1 right, the prefix-sum
form of causal FAVOR). Position t of the causal forward pass computes

    out_t = φ(q_t)ᵀ S_t / φ(q_t)ᵀ z_t,   S_t = Σ_{j≤t} φ(k_j) v_jᵀ  [M, D],   z_t = Σ_{j≤t} φ(k_j),

so carrying (S, z) forward costs O(M·D) time and memory per token, whatever t is. This is exact,
not an approximation of the forward pass, because the kernels' key features depend on that key
alone (the softmax stabiliser is data independent, see `kernels.feature_maps`), and the
normaliser is clamped exactly as in `kernels.linear_attention.normalise`.

Exact softmax attention has no such summary; the standard remedy is a key/value cache, O(t·D)
memory and time per token. `KVCache` keeps a preallocated buffer that doubles when full, so
appending does not copy the whole cache at every step.

The step functions are pure on the state's *values*: they return a new state and never change
what an older state describes. (`kv_append` writes into the shared buffer past the old length,
which an older `KVCache` never reads.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # the kinds (model.attention_kinds) import this module's state functions
    from protein_performer.model.attention import SelfAttention


@dataclass(frozen=True)
class FavorState:
    """Running sums of one FAVOR layer: S = Σ φ(k_j) v_jᵀ and z = Σ φ(k_j) over past tokens."""

    S_BHMD: torch.Tensor
    z_BHM: torch.Tensor

    @property
    def nbytes(self) -> int:
        return self.S_BHMD.nbytes + self.z_BHM.nbytes


@dataclass(frozen=True)
class KVCache:
    """Keys and values of the first `length` tokens, in buffers of capacity `k_BHSD.shape[2]`."""

    k_BHSD: torch.Tensor
    v_BHSD: torch.Tensor
    length: int

    @property
    def nbytes(self) -> int:
        """Bytes holding real entries (the buffer's spare capacity is not counted)."""
        per_token = self.k_BHSD[:, :, :1].nbytes + self.v_BHSD[:, :, :1].nbytes
        return per_token * self.length


LayerState = FavorState | KVCache


def init_favor_state(
    batch: int, heads: int, n_features: int, head_dim: int, *, dtype, device
) -> FavorState:
    """The empty prefix: S = 0, z = 0."""
    return FavorState(
        S_BHMD=torch.zeros(batch, heads, n_features, head_dim, dtype=dtype, device=device),
        z_BHM=torch.zeros(batch, heads, n_features, dtype=dtype, device=device),
    )


def favor_update(state: FavorState, phi_k_BHM: torch.Tensor, v_BHD: torch.Tensor) -> FavorState:
    """Add one token: S += φ(k) vᵀ, z += φ(k)."""
    v_BHD = v_BHD.to(state.S_BHMD.dtype)
    return FavorState(
        S_BHMD=state.S_BHMD + phi_k_BHM.unsqueeze(-1) * v_BHD.unsqueeze(-2),
        z_BHM=state.z_BHM + phi_k_BHM,
    )


def favor_read(state: FavorState, phi_q_BHM: torch.Tensor) -> torch.Tensor:
    """φ(q)ᵀS / φ(q)ᵀz `[B, H, D]`; the normaliser is clamped at the smallest normal float like
    the forward kernel, so a query whose features all underflowed reads a zero row, not NaN."""
    num_BHD = torch.einsum("bhm,bhmd->bhd", phi_q_BHM, state.S_BHMD)
    den_BH1 = torch.einsum("bhm,bhm->bh", phi_q_BHM, state.z_BHM).unsqueeze(-1)
    return num_BHD / den_BH1.clamp_min(torch.finfo(den_BH1.dtype).tiny)


def favor_step(
    state: FavorState, phi_q_BHM: torch.Tensor, phi_k_BHM: torch.Tensor, v_BHD: torch.Tensor
) -> tuple[torch.Tensor, FavorState]:
    """Causal FAVOR for the next token: the token sees itself, so update first, then read."""
    state = favor_update(state, phi_k_BHM, v_BHD)
    return favor_read(state, phi_q_BHM), state


def init_kv_cache(
    batch: int, heads: int, head_dim: int, *, capacity: int, dtype, device
) -> KVCache:
    """An empty cache with room for `capacity` tokens before its first reallocation."""
    shape = (batch, heads, max(capacity, 1), head_dim)
    return KVCache(
        k_BHSD=torch.empty(shape, dtype=dtype, device=device),
        v_BHSD=torch.empty(shape, dtype=dtype, device=device),
        length=0,
    )


def kv_append(cache: KVCache, k_BHD: torch.Tensor, v_BHD: torch.Tensor) -> KVCache:
    """The cache with one more token; the buffer doubles when full (amortised O(1) append)."""
    k_BHSD, v_BHSD, n = cache.k_BHSD, cache.v_BHSD, cache.length
    if n == k_BHSD.shape[2]:
        grown = (*k_BHSD.shape[:2], 2 * n, k_BHSD.shape[3])
        k_BHSD = torch.cat([k_BHSD, k_BHSD.new_empty(grown)[:, :, n:]], dim=2)
        v_BHSD = torch.cat([v_BHSD, v_BHSD.new_empty(grown)[:, :, n:]], dim=2)
    k_BHSD[:, :, n] = k_BHD
    v_BHSD[:, :, n] = v_BHD
    return KVCache(k_BHSD=k_BHSD, v_BHSD=v_BHSD, length=n + 1)


def exact_step(
    cache: KVCache, q_BHD: torch.Tensor, k_BHD: torch.Tensor, v_BHD: torch.Tensor
) -> tuple[torch.Tensor, KVCache]:
    """softmax(q·Kᵀ/sqrt(D)) V over the cached prefix and the new token, `[B, H, D]`.

    The last position of a causal pass sees every key, so no mask is needed; the same SDPA call
    as the forward kernel keeps the two paths within rounding of each other.
    """
    cache = kv_append(cache, k_BHD, v_BHD)
    keys_BHSD = cache.k_BHSD[:, :, : cache.length]
    values_BHSD = cache.v_BHSD[:, :, : cache.length]
    out_BH1D = torch.nn.functional.scaled_dot_product_attention(
        q_BHD.unsqueeze(2), keys_BHSD, values_BHSD
    )
    return out_BH1D.squeeze(2), cache


def init_layer_state(
    attention: SelfAttention, batch: int, *, capacity: int, dtype, device
) -> LayerState:
    """The empty state of one layer, as its attention kind defines it (`spec.init_state`):
    (S, z) for the FAVOR kinds, a KV cache for exact attention.

    `dtype` is the activations' dtype; FAVOR sums are kept in the features' compute dtype
    (float32, or float64 for float64 activations), as in the forward kernel.
    """
    if not attention.causal:
        raise ValueError(
            "token-by-token decoding needs a causal attention layer; this one is bidirectional "
            "(an MLM model), whose outputs depend on future tokens"
        )
    return attention.spec.init_state(
        attention, batch, capacity=capacity, dtype=dtype, device=device
    )


def attention_step(
    attention: SelfAttention,
    x_B1C: torch.Tensor,
    state: LayerState,
    qk_B1C: torch.Tensor | None = None,
) -> tuple[torch.Tensor, LayerState]:
    """`SelfAttention.forward` for one new token `[B, 1, C]` given the layer's past: the output
    `[B, 1, C]` and the state that now includes the token. `qk_B1C`: the source of the query
    and key, if not `x_B1C` (a position-attention layer)."""
    q_BH1D, k_BH1D, v_BH1D = attention.project_qkv(x_B1C, qk_B1C)
    out_BHD, state = attention.spec.step(attention, state, q_BH1D, k_BH1D, v_BH1D)
    out_BH1D = out_BHD.unsqueeze(2).to(v_BH1D.dtype)
    return attention.merge_heads_and_project(out_BH1D), state
