"""`"favor-softmax"`: FAVOR+ positive orthogonal random features for the softmax kernel
(Choromanski et al. 2021, Lemma 1, §2.4); see `kernels.feature_maps` for the stabiliser, which
depends on the projection only, so decoding token by token is exact.
"""

from __future__ import annotations

from protein_performer.model import kernels
from protein_performer.model.attention_kinds.base import FeatureMapKind


class FavorSoftmax(FeatureMapKind):
    name = "favor-softmax"
    estimates_softmax = True
    peer = "peer-favor"  # performer-pytorch's FAVOR+ softmax features

    def uses_projection(self, layer) -> bool:
        return True

    def feature_map(self, layer, x_BHLD, is_query: bool):
        stabilizer = "query" if is_query else "key"
        return kernels.softmax_features(x_BHLD, layer.projection_MD, stabilizer=stabilizer)
