"""Linear, causal, exact attention kernels and materialised attention matrices."""

from __future__ import annotations

import pytest
import torch

from protein_performer.model import kernels as K

F64 = torch.float64


pytestmark = pytest.mark.usefixtures("single_thread")


def _features(seed: int, b: int, h: int, length: int, d: int, m: int, scale: float = 0.5):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(b, h, length, d, generator=g, dtype=F64) * scale for _ in range(3))
    w = K.draw_projection(m, d, generator=g)
    phi_q = K.softmax_features(q, w, stabilizer="query")
    phi_k = K.softmax_features(k, w, stabilizer="key")
    return phi_q, phi_k, v


def _masked_reference(phi_q, phi_k, v, causal: bool):
    """Explicit O(L²) reference: weights φ(q_i)·φ(k_j), masked j ≤ i, normalised per row."""
    scores = phi_q @ phi_k.transpose(-1, -2)
    if causal:
        length = scores.shape[-1]
        scores = scores * torch.ones(length, length, dtype=F64).tril()
    return (scores @ v) / scores.sum(-1, keepdim=True)


@pytest.mark.parametrize("length,chunk", [(37, 8), (32, 32), (5, 64), (64, 7)])
def test_causal_equals_masked_reference(length, chunk):
    phi_q, phi_k, v = _features(0, 2, 3, length, 8, 32)
    out = K.causal_linear_attention(phi_q, phi_k, v, chunk_size=chunk)
    torch.testing.assert_close(out, _masked_reference(phi_q, phi_k, v, causal=True))


def test_bidirectional_equals_reference():
    phi_q, phi_k, v = _features(1, 2, 3, 29, 8, 32)
    torch.testing.assert_close(
        K.linear_attention(phi_q, phi_k, v), _masked_reference(phi_q, phi_k, v, causal=False)
    )


def test_causal_is_strictly_causal():
    phi_q, phi_k, v = _features(2, 1, 2, 24, 8, 16)
    out = K.causal_linear_attention(phi_q, phi_k, v, chunk_size=5)
    phi_k2, v2 = phi_k.clone(), v.clone()
    phi_k2[:, :, 13:] *= 7.0
    v2[:, :, 13:] += 3.0
    out2 = K.causal_linear_attention(phi_q, phi_k2, v2, chunk_size=5)
    torch.testing.assert_close(out2[:, :, :13], out[:, :, :13])
    assert not torch.allclose(out2[:, :, 13:], out[:, :, 13:])


@pytest.mark.parametrize("chunk", [1, 3, 64])
def test_hand_case_prefix_means(chunk):
    """Constant q, k and one-hot values v_j = e_j: row i is the mean of e_0..e_i, so its first
    coordinate runs 1, 1/2, 1/3, … (the reference JAX code's causal test)."""
    length, d = 10, 4
    q = torch.ones(1, 1, length, d, dtype=F64)
    w = K.draw_projection(16, d, generator=torch.Generator().manual_seed(0))
    phi_q = K.softmax_features(q, w, stabilizer="query")
    phi_k = K.softmax_features(q, w, stabilizer="key")
    v = torch.eye(length, dtype=F64)[None, None]
    out = K.causal_linear_attention(phi_q, phi_k, v, chunk_size=chunk)[0, 0]
    expected = (
        torch.ones(length, length, dtype=F64).tril() / torch.arange(1, 11, dtype=F64)[:, None]
    )
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(out[:, 0], 1 / torch.arange(1, 11, dtype=F64))


def test_gradcheck_causal_product():
    g = torch.Generator().manual_seed(0)
    q, k = (torch.rand(1, 2, 11, 5, generator=g, dtype=F64, requires_grad=True) for _ in range(2))
    v = torch.randn(1, 2, 11, 3, generator=g, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b, c: K.causal_product(a, b, c, chunk_size=4), (q, k, v), fast_mode=True
    )


@pytest.mark.parametrize("causal", [False, True])
def test_gradcheck_full_favor_path(causal):
    g = torch.Generator().manual_seed(1)
    q, k, v = (
        torch.randn(1, 2, 9, 4, generator=g, dtype=F64, requires_grad=True) for _ in range(3)
    )
    w = K.draw_projection(8, 4, generator=g)
    pad = torch.zeros(1, 9, dtype=torch.bool)
    pad[0, 7:] = True

    def fn(q, k, v):
        phi_q = K.softmax_features(q, w, stabilizer="query")
        phi_k = K.softmax_features(k, w, stabilizer="key")
        if causal:
            return K.causal_linear_attention(phi_q, phi_k, v, pad, chunk_size=4)
        return K.linear_attention(phi_q, phi_k, v, pad)

    assert torch.autograd.gradcheck(fn, (q, k, v), fast_mode=True)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_matrix_matches_one_hot_v(causal):
    """Feeding V = I through the fast kernel returns the materialised matrix row by row."""
    phi_q, phi_k, _ = _features(3, 2, 2, 12, 8, 32)
    pad = torch.zeros(2, 12, dtype=torch.bool)
    pad[1, 9:] = True
    eye = torch.eye(12, dtype=F64).expand(2, 2, 12, 12)
    if causal:
        one_hot = K.causal_linear_attention(phi_q, phi_k, eye, pad, chunk_size=5)
    else:
        one_hot = K.linear_attention(phi_q, phi_k, eye, pad)
    matrix = K.favor_attention_matrix(phi_q, phi_k, causal=causal, is_pad_BL=pad)
    torch.testing.assert_close(matrix, one_hot)
    torch.testing.assert_close(matrix.sum(-1), torch.ones(2, 2, 12, dtype=F64))
    assert (matrix[1, :, :, 9:] == 0).all()  # pad keys get no weight
    if causal:
        assert (matrix.triu(1) == 0).all()


@pytest.mark.parametrize("causal", [False, True])
def test_pad_keys_leave_numerator_and_normaliser(causal):
    phi_q, phi_k, v = _features(4, 1, 2, 16, 8, 16)
    # Right padding for bidirectional, left padding for causal (where real queries see pads).
    real = torch.arange(16) < 11 if not causal else torch.arange(16) >= 5
    pad = ~real[None]
    attend = K.causal_linear_attention if causal else K.linear_attention
    trimmed = attend(phi_q[:, :, real], phi_k[:, :, real], v[:, :, real])  # no pads at all
    phi_k[:, :, ~real] *= 1e3  # garbage at pad positions must not matter
    v[:, :, ~real] += 5
    padded = attend(phi_q, phi_k, v, pad)
    torch.testing.assert_close(padded[:, :, real], trimmed)
    unmasked = attend(phi_q, phi_k, v)  # the same garbage without the mask does matter
    assert not torch.allclose(unmasked[:, :, real], trimmed)


@pytest.mark.parametrize("causal", [False, True])
def test_exact_attention_matches_softmax_matrix_with_pads(causal):
    g = torch.Generator().manual_seed(5)
    q, k, v = (torch.randn(2, 2, 10, 8, generator=g, dtype=F64) for _ in range(3))
    pad = torch.zeros(2, 10, dtype=torch.bool)
    pad[0, :3] = True  # left padding: causal pad rows see only pads
    pad[1, 8:] = True
    out = K.exact_attention(q, k, v, causal=causal, is_pad_BL=pad)
    matrix = K.softmax_attention_matrix(q, k, causal=causal, is_pad_BL=pad)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, matrix @ v)
    real = ~pad[0]
    torch.testing.assert_close(
        out[0, :, real],
        K.exact_attention(q[:1, :, real], k[:1, :, real], v[:1, :, real], causal=causal)[0],
    )


def test_identity_attention_returns_v():
    v = torch.randn(1, 2, 3, 4)
    assert K.identity_attention(v * 0, v * 0, v) is v


@pytest.mark.parametrize(
    "length,max_chunk,m,e,expected",
    [(84, 128, 64, 17, 42), (202, 128, 64, 17, 51), (1024, 128, 256, 65, 128),
     (1000, 128, 256, 65, 125), (12, 4, 32, 9, 4), (3, 128, 64, 17, 3)],
)  # fmt: skip
def test_chunk_length_is_balanced_and_bounded(length, max_chunk, m, e, expected):
    chunk = K.chunk_length(length, max_chunk, m, e)
    assert chunk == expected
    n_chunks = -(-length // chunk)
    assert chunk <= max_chunk and n_chunks * chunk - length < n_chunks  # padding < 1 per chunk


def test_chunk_length_rejects_empty():
    with pytest.raises(ValueError, match="positive"):
        K.chunk_length(0, 128, 64, 17)


def test_causal_layer_same_whatever_the_chunk_rule(monkeypatch):
    """The layer's chunk choice (`kernels.chunk_length`) changes rounding only."""
    from protein_performer.model.attention import SelfAttention

    torch.manual_seed(0)
    layer = SelfAttention(64, 4, kind="favor-softmax", causal=True, n_features=64).double()
    x = torch.randn(3, 202, 64, dtype=F64)
    out = layer(x, None)
    monkeypatch.setattr(K, "chunk_length", lambda length, max_chunk, m, e: min(max_chunk, length))
    torch.testing.assert_close(out, layer(x, None))
