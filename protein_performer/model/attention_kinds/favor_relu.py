"""`"favor-relu"`: generalized attention with ReLU features (Choromanski et al. 2021, §2.2,
Appendix A.2) over a random projection, or, with `relu_projection=False`, the deterministic
map ReLU(x) of the reference JAX code (no randomness, M = D). The paper's default Performer.
"""

from __future__ import annotations

from protein_performer.model import kernels
from protein_performer.model.attention_kinds.base import FeatureMapKind


class FavorRelu(FeatureMapKind):
    name = "favor-relu"
    peer = "peer-relu"  # performer-pytorch's generalized attention (ReLU features)

    def uses_projection(self, layer) -> bool:
        return layer.relu_projection

    def feature_map(self, layer, x_BHLD, is_query: bool):
        projection = layer.projection_MD if layer.relu_projection else None
        return kernels.relu_features(x_BHLD, projection)
