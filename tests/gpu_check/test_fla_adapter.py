"""The flash-linear-attention adapter hands fla what it expects (layout [B, T, H, K], scale
turned off, its normalisation off, our normaliser applied): checked against a pure-torch
stand-in with fla's signature and defaults, since fla itself needs a GPU."""

from __future__ import annotations

import sys
import types

import torch

from protein_performer.gpu_check.fla import fla_attend
from protein_performer.model.attention import SelfAttention
from protein_performer.model.kernels.numeric_error import BF16_GEMM_BOUND, relative_error


def _stand_in(q, k, v, scale=None, initial_state=None, output_final_state=False,
              normalize=True, head_first=False):  # fmt: skip
    """fla's contract: o_t = Σ_{j≤t} (scale·q_t·k_j) v_j over [B, T, H, K], scale 1/√K."""
    assert not head_first and q.dtype == torch.bfloat16
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    q, k, v = (x.float().transpose(1, 2) for x in (q, k, v))  # -> [B, H, T, K]
    scores = (scale * q @ k.transpose(-1, -2)).tril()
    if normalize:
        scores = scores / scores.sum(-1, keepdim=True)
    return (scores @ v).transpose(1, 2).to(torch.bfloat16), None


def test_adapter_matches_our_causal_favor(monkeypatch):
    module = types.ModuleType("fla.ops.linear_attn")
    module.chunk_linear_attn = _stand_in
    for name in ("fla", "fla.ops"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "fla.ops.linear_attn", module)
    torch.manual_seed(0)
    layer = SelfAttention(32, 2, kind="favor-softmax", causal=True, n_features=64)
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(1, 2, 40, 16, generator=g) for _ in range(3))
    ours = layer.attend(q, k, v)
    theirs = fla_attend(layer)(q, k, v)
    assert theirs.shape == ours.shape
    assert relative_error(theirs, ours) < BF16_GEMM_BOUND
