"""Pure attention kernels (no state, no nn.Module): random matrices, feature maps, bidirectional
and causal linear attention, exact/identity attention, and materialised L×L maps.

Shape legend: B batch, H heads, L length, D head dim, M random features.
"""

from protein_performer.model.kernels.attention_matrix import (
    favor_attention_matrix,
    softmax_attention_matrix,
)
from protein_performer.model.kernels.causal_linear_attention import (
    DEFAULT_CHUNK_SIZE,
    causal_linear_attention,
    causal_product,
    chunk_length,
)
from protein_performer.model.kernels.exact_attention import (
    allowed_keys,
    exact_attention,
    identity_attention,
)
from protein_performer.model.kernels.favor_plus_plus import (
    favor_plus_plus_features,
    oprf_coefficient,
)
from protein_performer.model.kernels.feature_maps import (
    RELU_EPSILON,
    key_shift,
    relu_features,
    softmax_features,
)
from protein_performer.model.kernels.linear_attention import linear_attention
from protein_performer.model.kernels.random_matrices import (
    draw_projection,
    iid_gaussian_matrix,
    orthogonal_gaussian_matrix,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "RELU_EPSILON",
    "allowed_keys",
    "causal_linear_attention",
    "causal_product",
    "chunk_length",
    "draw_projection",
    "exact_attention",
    "favor_attention_matrix",
    "favor_plus_plus_features",
    "iid_gaussian_matrix",
    "identity_attention",
    "key_shift",
    "linear_attention",
    "oprf_coefficient",
    "orthogonal_gaussian_matrix",
    "relu_features",
    "softmax_attention_matrix",
    "softmax_features",
]
