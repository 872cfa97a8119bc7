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

In bf16 (`gemm_dtype=torch.bfloat16` in `causal_linear_attention`) every GEMM takes bf16 inputs
with fp32 accumulation; the running sum over chunk states is a `cumsum`, which accumulates bf16
in fp32 and rounds only its outputs, so late chunks are not lost against a large prefix. The
normaliser Σ_{j≤i} φ(q_i)·φ(k_j) = φ(q_i)·cumsum(φ(K))_i is computed apart in the features'
dtype.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from protein_performer.model.kernels.linear_attention import (
    append_ones,
    divide,
    gemm_inputs,
    mask_pad_keys,
    normalise,
)

# Measured on CPU (M=256, D=64, L=4096-8192): 128 is faster than 32, 64 and 256, and peaks lower
# in memory than 64 (the [N, M, E] chunk states halve while the C×C blocks double).
DEFAULT_CHUNK_SIZE = 128


def chunk_length(length: int, max_chunk: int, n_features: int, n_values: int) -> int:
    """The chunk length C a layer should use for `length` positions: at most `max_chunk`, at
    most about 4·M·E/(M+E), and balanced so that the last chunk is (nearly) full.

    Per position, the masked C×C block costs C·(M+E) multiply-adds and the chunk states 2·M·E,
    so a shorter chunk does less work until its many small GEMMs stop using the cores well;
    4·M·E/(M+E) is the knee measured on this CPU (`protein-performer bench family`): 56 for
    the family models (M=64, E=17), while at M=256, D=64 it exceeds 128, which stays as measured
    above. Balancing avoids the padded tail, e.g. L = 202 runs as 4 chunks of 51, not 2 of 128
    (256 positions, a quarter of them padding). The result is the same up to rounding whatever C.
    """
    if length <= 0 or max_chunk <= 0:
        raise ValueError(f"length and max_chunk must be positive, got {length}, {max_chunk}")
    knee = -(-4 * n_features * n_values // (n_features + n_values) // 8) * 8
    cap = max(1, min(max_chunk, max(8, knee)))
    n_chunks = -(-length // cap)
    return -(-length // n_chunks)


def _inclusive_prefix_(states_GNME: torch.Tensor) -> torch.Tensor:
    """In place: states_n <- Σ_{t≤n} states_t along the chunk axis (one `cumsum_`)."""
    return states_GNME.cumsum_(dim=1)


def _inclusive_suffix(states_GNME: torch.Tensor) -> torch.Tensor:
    """Σ_{t≥n} states_t along the chunk axis."""
    return states_GNME.flip(1).cumsum_(dim=1).flip(1)


def _shifted_matmul(a_GNXY: torch.Tensor, b_GNYZ: torch.Tensor, shift: int) -> torch.Tensor:
    """out_n = a_n @ b_{n−shift} (shift ±1), zero where n − shift is not a chunk.

    This turns an inclusive prefix (suffix) sum into the exclusive one without copying it: one
    bmm over the flattened [G·N] batch offset by one. The few products that straddle two
    sequences (g, N−1) → (g+1, 0) land exactly in the rows zeroed afterwards.
    """
    groups, n_chunks, rows, cols = *a_GNXY.shape[:3], b_GNYZ.shape[-1]
    out_GNXZ = a_GNXY.new_empty(groups, n_chunks, rows, cols)
    a, b, out = a_GNXY.flatten(0, 1), b_GNYZ.flatten(0, 1), out_GNXZ.flatten(0, 1)
    if shift == 1:
        torch.bmm(a[1:], b[:-1], out=out[1:])
        out_GNXZ[:, 0].zero_()
    else:
        torch.bmm(a[:-1], b[1:], out=out[:-1])
        out_GNXZ[:, -1].zero_()
    return out_GNXZ


def _add_matmul_(out: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """out += a @ b over two batch dims, without a temporary (baddbmm_ on flattened views)."""
    out.flatten(0, 1).baddbmm_(a.flatten(0, 1), b.flatten(0, 1))
    return out


def _causal_mask(chunk: int, like: torch.Tensor) -> torch.Tensor:
    return torch.ones(chunk, chunk, dtype=like.dtype, device=like.device).tril_()


class _ChunkedCausalProduct(torch.autograd.Function):
    """out_i = Σ_{j≤i} (q_i·k_j) v_j for q, k `[G, N, C, M]`, v `[G, N, C, E]`.

    A fixed, small number of large ops (no Python loop over chunks): on a shared CPU every op
    is a parallel region whose barrier costs far more than its arithmetic when threads are
    preempted.
    """

    @staticmethod
    def forward(ctx, q_GNCM, k_GNCM, v_GNCE):  # noqa: D102
        ctx.save_for_backward(q_GNCM, k_GNCM, v_GNCE)
        mask_CC = _causal_mask(q_GNCM.shape[2], q_GNCM)
        prefix_GNME = _inclusive_prefix_(torch.matmul(k_GNCM.transpose(-1, -2), v_GNCE))
        out_GNCE = _shifted_matmul(q_GNCM, prefix_GNME, shift=1)  # chunks before n only
        del prefix_GNME
        scores_GNCC = torch.matmul(q_GNCM, k_GNCM.transpose(-1, -2)).mul_(mask_CC)
        return _add_matmul_(out_GNCE, scores_GNCC, v_GNCE)

    @staticmethod
    def backward(ctx, dout_GNCE):  # noqa: D102
        # On the CPU, autograd runs backward on the caller's thread, so a `loss.backward()`
        # inside `torch.autocast("cpu")` would otherwise recast these GEMMs (and clash with
        # the `out=` buffers); the gradients are computed in the inputs' own dtype.
        with torch.autocast(dout_GNCE.device.type, enabled=False):
            return _ChunkedCausalProduct._backward(ctx, dout_GNCE)

    @staticmethod
    def _backward(ctx, dout_GNCE):
        q_GNCM, k_GNCM, v_GNCE = ctx.saved_tensors
        dout_GNCE = dout_GNCE.contiguous()
        mask_CC = _causal_mask(q_GNCM.shape[2], q_GNCM)
        dq = dk = dv = None
        # Ordered so that at most one [G, N, M, E] state buffer is alive at a time.
        # d out_i / d (q_i·k_j) = dout_i·v_j for j ≤ i in the same chunk: the intra-chunk part.
        dscores_GNCC = torch.matmul(dout_GNCE, v_GNCE.transpose(-1, -2)).mul_(mask_CC)
        if ctx.needs_input_grad[0]:
            prefix_GNME = _inclusive_prefix_(torch.matmul(k_GNCM.transpose(-1, -2), v_GNCE))
            dq = _shifted_matmul(dout_GNCE, prefix_GNME.transpose(-1, -2), shift=1)
            del prefix_GNME
            _add_matmul_(dq, dscores_GNCC, k_GNCM)
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            # Gradient w.r.t. the state after chunk n: every later chunk's queries read it.
            suffix_GNME = _inclusive_suffix(torch.matmul(q_GNCM.transpose(-1, -2), dout_GNCE))
            if ctx.needs_input_grad[1]:
                dk = _shifted_matmul(v_GNCE, suffix_GNME.transpose(-1, -2), shift=-1)
                _add_matmul_(dk, dscores_GNCC.transpose(-1, -2), q_GNCM)
            del dscores_GNCC
            if ctx.needs_input_grad[2]:
                dv = _shifted_matmul(k_GNCM, suffix_GNME, shift=-1)
                scores_GNCC = torch.matmul(q_GNCM, k_GNCM.transpose(-1, -2)).mul_(mask_CC)
                _add_matmul_(dv, scores_GNCC.transpose(-1, -2), dout_GNCE)
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
    *,
    gemm_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Strictly causal FAVOR attention `[B, H, L, D]` in the dtype of the features.

    Equals `tril`-masked `favor_attention_matrix(φq, φk, causal=True) @ v` up to rounding.
    Padded keys are removed from numerator and normaliser. `gemm_dtype` (e.g. `torch.bfloat16`)
    runs the chunked product's GEMMs in that dtype; the normaliser stays in the features' dtype.
    """
    with torch.autocast(phi_q_BHLM.device.type, enabled=False):
        phi_k_BHLM = mask_pad_keys(phi_k_BHLM, is_pad_BL)
        if gemm_inputs(gemm_dtype, phi_k_BHLM):
            # Σ_{j≤i} φ(q_i)·φ(k_j) as a batched [1, M] @ [M, 1] product: no [L, M] temporary.
            prefix_BHLM = phi_k_BHLM.cumsum(dim=-2)
            den_BHL1 = torch.matmul(phi_q_BHLM.unsqueeze(-2), prefix_BHLM.unsqueeze(-1))[..., 0]
            lo = (t.to(gemm_dtype) for t in (phi_q_BHLM, phi_k_BHLM, v_BHLD))
            return divide(causal_product(*lo, chunk_size), den_BHL1)
        v_BHLE = append_ones(v_BHLD.to(phi_k_BHLM.dtype))
        return normalise(causal_product(phi_q_BHLM, phi_k_BHLM, v_BHLE, chunk_size))
