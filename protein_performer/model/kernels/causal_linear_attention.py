"""Causal (unidirectional) linear attention by chunked prefix sums, with a hand-written backward.

Shape legend: B batch, H heads, L length, D head dim, M random features, E = D + 1 (values plus
the ones column that carries the normaliser), G = B·H, N chunks of C positions each.

Choromanski et al., "Rethinking Attention with Performers" (ICLR 2021, arXiv 2009.14794),
§2.1 and Fig. 1 (right): out_i = Σ_{j≤i} φ(q_i)·φ(k_j) v_j / Σ_{j≤i} φ(q_i)·φ(k_j), computed with
prefix sums of φ(k_j) v_jᵀ. Materialising those prefix sums costs an L×M×D tensor (what
performer-pytorch stores, 6.7 GiB at L = 4096). Instead, split the sequence into chunks of C:

    out_n = φ(Q_n) S_{n−1} + tril(φ(Q_n) φ(K_n)ᵀ) V_n,   S_n = Σ_{t≤n} φ(K_t)ᵀ V_t,

i.e. an exclusive prefix sum over N = L/C chunk states [M, E] plus a masked C×C quadratic part.
The autograd.Function saves only its inputs; backward recomputes the chunk states and runs
the reverse (suffix-sum) recursion. Memory O(L·(M+D) + (L/C)·M·D): with C ≥ M·D/(M+D) (51 for
M=256, D=64) the chunk states are no larger than the features themselves.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from protein_performer.model.kernels.linear_attention import append_ones, mask_pad_keys, normalise

DEFAULT_CHUNK_SIZE = 64


def _exclusive_prefix(states_GNME: torch.Tensor) -> torch.Tensor:
    """S_n = Σ_{t<n} states_t along dim 1 (zero for the first chunk)."""
    return F.pad(states_GNME.cumsum(dim=1)[:, :-1], (0, 0, 0, 0, 1, 0))


def _exclusive_suffix(states_GNME: torch.Tensor) -> torch.Tensor:
    """R_n = Σ_{t>n} states_t along dim 1 (zero for the last chunk)."""
    return F.pad(states_GNME.flip(1).cumsum(dim=1).flip(1)[:, 1:], (0, 0, 0, 0, 0, 1))


class _ChunkedCausalProduct(torch.autograd.Function):
    """out_i = Σ_{j≤i} (q_i·k_j) v_j for q, k `[G, N, C, M]`, v `[G, N, C, E]`."""

    @staticmethod
    def forward(ctx, q_GNCM, k_GNCM, v_GNCE):  # noqa: D102
        ctx.save_for_backward(q_GNCM, k_GNCM, v_GNCE)
        chunk = q_GNCM.shape[2]
        mask_CC = torch.ones(chunk, chunk, dtype=torch.bool, device=q_GNCM.device).tril()
        prefix_GNME = _exclusive_prefix(torch.matmul(k_GNCM.transpose(-1, -2), v_GNCE))
        out_GNCE = torch.matmul(q_GNCM, prefix_GNME)
        scores_GNCC = torch.matmul(q_GNCM, k_GNCM.transpose(-1, -2)).mul_(mask_CC)
        return out_GNCE.add_(torch.matmul(scores_GNCC, v_GNCE))

    @staticmethod
    def backward(ctx, dout_GNCE):  # noqa: D102
        q_GNCM, k_GNCM, v_GNCE = ctx.saved_tensors
        dout_GNCE = dout_GNCE.contiguous()
        chunk = q_GNCM.shape[2]
        mask_CC = torch.ones(chunk, chunk, dtype=torch.bool, device=q_GNCM.device).tril()
        k_T = k_GNCM.transpose(-1, -2)
        dq = dk = dv = None
        # d out_i / d (q_i·k_j) = dout_i·v_j for j ≤ i (same chunk) — the intra-chunk part.
        dscores_GNCC = torch.matmul(dout_GNCE, v_GNCE.transpose(-1, -2)).mul_(mask_CC)
        if ctx.needs_input_grad[0]:
            prefix_GNME = _exclusive_prefix(torch.matmul(k_T, v_GNCE))
            dq = torch.matmul(dout_GNCE, prefix_GNME.transpose(-1, -2))
            dq.add_(torch.matmul(dscores_GNCC, k_GNCM))
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            # Gradient w.r.t. each chunk state: every later chunk's queries read it.
            dstate_GNME = _exclusive_suffix(torch.matmul(q_GNCM.transpose(-1, -2), dout_GNCE))
            if ctx.needs_input_grad[1]:
                dk = torch.matmul(v_GNCE, dstate_GNME.transpose(-1, -2))
                dk.add_(torch.matmul(dscores_GNCC.transpose(-1, -2), q_GNCM))
            if ctx.needs_input_grad[2]:
                scores_GNCC = torch.matmul(q_GNCM, k_T).mul_(mask_CC)
                dv = torch.matmul(k_GNCM, dstate_GNME)
                dv.add_(torch.matmul(scores_GNCC.transpose(-1, -2), dout_GNCE))
        return dq, dk, dv


def causal_product(
    q_BHLM: torch.Tensor,
    k_BHLM: torch.Tensor,
    v_BHLE: torch.Tensor,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> torch.Tensor:
    """out_i = Σ_{j≤i} (q_i·k_j) v_j, `[B, H, L, E]`, by chunked prefix sums (no L×M×E tensor)."""
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    batch, heads, length, n_features = q_BHLM.shape
    chunk = min(chunk_size, length)
    n_chunks = -(-length // chunk)
    padded = n_chunks * chunk
    if padded != length:
        # Zero rows past the end: zero keys add nothing, zero queries read nothing.
        q_BHLM, k_BHLM, v_BHLE = (
            F.pad(t, (0, 0, 0, padded - length)) for t in (q_BHLM, k_BHLM, v_BHLE)
        )
    shape = (batch * heads, n_chunks, chunk)
    out_GNCE = _ChunkedCausalProduct.apply(
        q_BHLM.reshape(*shape, n_features),
        k_BHLM.reshape(*shape, n_features),
        v_BHLE.reshape(*shape, v_BHLE.shape[-1]),
    )
    return out_GNCE.reshape(batch, heads, padded, -1)[:, :, :length]


def causal_linear_attention(
    phi_q_BHLM: torch.Tensor,
    phi_k_BHLM: torch.Tensor,
    v_BHLD: torch.Tensor,
    is_pad_BL: torch.Tensor | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> torch.Tensor:
    """Strictly causal FAVOR attention `[B, H, L, D]` in the dtype of the features.

    Equals `tril`-masked `favor_attention_matrix(φq, φk, causal=True) @ v` up to rounding.
    Padded keys are removed from numerator and normaliser.
    """
    with torch.autocast(phi_q_BHLM.device.type, enabled=False):
        phi_k_BHLM = mask_pad_keys(phi_k_BHLM, is_pad_BL)
        v_BHLE = append_ones(v_BHLD.to(phi_k_BHLM.dtype))
        return normalise(causal_product(phi_q_BHLM, phi_k_BHLM, v_BHLE, chunk_size))
