"""The attention kinds, declared once: each kind is one module with one `AttentionKindSpec`
subclass, registered here. Everything that differs between kinds (projection draw, feature
map, the attention op, its L×L matrix, the token-by-token decoding state) lives behind that
interface, so `SelfAttention`, the recurrent decoder, the CLIs and the benchmarks never compare
kind strings. Adding a kernel is one new file plus one line in `_REGISTERED` below.

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


def get_kind(name: str) -> AttentionKindSpec:
    """The registered kind called `name`; ValueError listing the kinds otherwise."""
    if name not in REGISTRY:
        raise ValueError(f"attention kind must be one of {KINDS}, got {name!r}")
    return REGISTRY[name]


__all__ = ["KINDS", "REGISTRY", "AttentionKind", "AttentionKindSpec", "get_kind"]
