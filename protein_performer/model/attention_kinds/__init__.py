"""The attention kinds, declared once: each kind is one module with one `AttentionKindSpec`
subclass, registered here. Everything that differs between kinds (projection draw, feature
map, the attention op, its L×L matrix, the token-by-token decoding state) lives behind that
interface, so `SelfAttention`, the recurrent decoder, the CLIs and the benchmarks never compare
kind strings. Adding a kernel is one new file plus one line in `_REGISTERED` below.

What the tools need to know of a kind is a property of its spec: whether it is FAVOR or exact
(`is_favor`), whether bf16 GEMMs apply (`supports_bf16_gemm`), its decoder, its FLOP count
(`attention_macs_per_token`), its benchmark label and performer-pytorch peer. The kinds that
play a fixed part (the default, the exact reference, the FAVOR+ softmax estimator whose
targets the benchmarks report) are named below, and nowhere else.

Shape legend: B batch, H heads, L length, D head dim, M random features.
"""

from __future__ import annotations

from protein_performer.model.attention_kinds.base import AttentionKindSpec
from protein_performer.model.attention_kinds.exact import ExactSoftmax
from protein_performer.model.attention_kinds.favor_relu import FavorRelu
from protein_performer.model.attention_kinds.favor_softmax import FavorSoftmax

AttentionKind = str  # one of KINDS

# Registration order is the documented order (paper default first).
_REGISTERED: tuple[AttentionKindSpec, ...] = (FavorRelu(), FavorSoftmax(), ExactSoftmax())
REGISTRY: dict[str, AttentionKindSpec] = {spec.name: spec for spec in _REGISTERED}
KINDS: tuple[str, ...] = tuple(REGISTRY)

# The paper's default Performer (Choromanski et al. 2021, §4: generalized ReLU attention).
DEFAULT_KIND: str = FavorRelu.name
# The exact softmax Transformer every approximation is measured against.
EXACT_KIND: str = ExactSoftmax.name
# FAVOR+ (positive orthogonal random features for softmax): the kernel of the speed targets.
FAVOR_PLUS_KIND: str = FavorSoftmax.name


def get_kind(name: str) -> AttentionKindSpec:
    """The registered kind called `name`; ValueError listing the kinds otherwise."""
    if name not in REGISTRY:
        raise ValueError(f"attention kind must be one of {KINDS}, got {name!r}")
    return REGISTRY[name]


def specs() -> tuple[AttentionKindSpec, ...]:
    """Every registered kind, in registration order, read at call time (so a kind registered
    after import, as the tests do, is measured like the others)."""
    return tuple(REGISTRY.values())


__all__ = [
    "DEFAULT_KIND",
    "EXACT_KIND",
    "FAVOR_PLUS_KIND",
    "KINDS",
    "REGISTRY",
    "AttentionKind",
    "AttentionKindSpec",
    "get_kind",
    "specs",
]
