"""The attention ops the benchmarks time, built in one place for `bench attention` (CPU) and
gpu-check's `attention` stage: ours for every registered attention kind (under its benchmark
label, and with bf16 GEMMs where the kind has them), identity ("X", the floor; Choromanski et
al. 2021, Fig. 3) and performer-pytorch's `FastAttention` (the `bench` extra).

Every op maps `(q_BHLD, k_BHLD, v_BHLD) -> out_BHLD`; the projection is drawn once, seeded.
Shape legend: B batch, H heads, L length, D head dim, M random features.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable

import torch

from protein_performer.model.attention import SelfAttention
from protein_performer.model.attention_kinds import specs
from protein_performer.model.kernels import identity_attention

IDENTITY = "identity"
BF16_SUFFIX = "+bf16gemm"
# performer-pytorch's implementations: label -> its `generalized_attention` flag (ReLU features).
PEERS = {"peer-favor": False, "peer-relu": True}


def our_impls(with_bf16_gemm: bool = False) -> dict[str, tuple[str, bool]]:
    """impl label -> (attention kind, bf16_gemm) for every registered kind, read at call time."""
    impls = {spec.label: (spec.name, False) for spec in specs()}
    if with_bf16_gemm:
        impls.update(
            {spec.label + BF16_SUFFIX: (spec.name, True) for spec in specs()
             if spec.supports_bf16_gemm}
        )  # fmt: skip
    return impls


def implementations(with_bf16_gemm: bool = False) -> tuple[str, ...]:
    """Every implementation label: ours, identity, the peers."""
    return (*our_impls(with_bf16_gemm), IDENTITY, *PEERS)


def our_layer(
    kind: str,
    *,
    causal: bool,
    heads: int,
    head_dim: int,
    n_features: int,
    device: str,
    bf16_gemm: bool = False,
) -> SelfAttention:
    """A seeded `SelfAttention` of `kind` (so every run draws the same projection)."""
    torch.manual_seed(0)
    layer = SelfAttention(
        heads * head_dim, heads, kind=kind, causal=causal, n_features=n_features,
        bf16_gemm=bf16_gemm,
    )  # fmt: skip
    return layer.to(device)


def build_op(
    impl: str, *, causal: bool, heads: int, head_dim: int, n_features: int, device: str
) -> Callable[..., torch.Tensor]:
    """The op called `impl` (one of `implementations(True)`); ValueError for any other name."""
    ours = our_impls(with_bf16_gemm=True)
    if impl in ours:
        kind, flag = ours[impl]
        return our_layer(kind, causal=causal, heads=heads, head_dim=head_dim,
                         n_features=n_features, device=device, bf16_gemm=flag).attend  # fmt: skip
    if impl == IDENTITY:
        return identity_attention
    if impl in PEERS:
        from performer_pytorch import FastAttention

        # The peer announces its slow causal fallback on stdout; keep stdout for JSON lines.
        with contextlib.redirect_stdout(sys.stderr):
            module = FastAttention(head_dim, nb_features=n_features, causal=causal,
                                   generalized_attention=PEERS[impl])  # fmt: skip
        return module.to(device)
    raise ValueError(f"unknown impl {impl!r}; choose from {implementations(True)}")
