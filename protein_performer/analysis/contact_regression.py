"""Contact predictors built on attention maps, after Rao et al. 2021 ("Transformer protein
language models are unsupervised structure learners", ICLR 2021):

- unsupervised, best single head: the sym+APC map of the one head that ranks contacts best on
  the training structures;
- unsupervised, APC mean: APC of the symmetrised average attention of all heads;
- supervised: a sparse (L1) logistic regression over the sym+APC maps of all layers × heads,
  the same recipe as fair-esm's `ContactPredictionHead`.

Attention maps are `maps_NHLL`: N layers, H heads, over residues only (specials removed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from protein_performer.analysis.contact_precision import precision_at
from protein_performer.analysis.contacts import (
    range_mask,
    sym_apc,
)


def head_features(maps_NHLL: np.ndarray) -> np.ndarray:
    """[N*H, L, L] sym+APC maps, one per head, layer-major (feature f = layer * H + head)."""
    n_layers, n_heads, length, _ = maps_NHLL.shape
    return sym_apc(maps_NHLL).reshape(n_layers * n_heads, length, length)


def select_best_head(features: Sequence[np.ndarray], contacts: Sequence[np.ndarray]) -> int:
    """Index f of the head whose sym+APC map has the highest mean precision at L over all pairs
    with separation ≥ 6, averaged over the given (training) proteins."""
    if len(features) != len(contacts) or not features:
        raise ValueError("need one feature stack per contact map, and at least one protein")
    n_features = features[0].shape[0]
    totals = np.zeros(n_features)
    for feats_FLL, contacts_LL in zip(features, contacts, strict=True):
        length = contacts_LL.shape[0]
        mask_LL = range_mask(length, "all")
        for f in range(n_features):
            totals[f] += precision_at(feats_FLL[f], contacts_LL, mask_LL, length)
    return int(np.argmax(totals))


def pair_features(features_FLL: np.ndarray) -> np.ndarray:
    """[P, F] feature rows of the upper-triangle pairs with separation ≥ 6 (row-major order)."""
    mask_LL = range_mask(features_FLL.shape[-1], "all")
    return features_FLL[:, mask_LL].T


def _logistic(c: float, seed: int) -> LogisticRegression:
    # scikit-learn 1.8 replaced `penalty="l1"` by `l1_ratio=1`; support both spellings.
    major, minor = (int(x) for x in sklearn.__version__.split(".")[:2])
    if (major, minor) >= (1, 8):
        return LogisticRegression(C=c, l1_ratio=1.0, solver="liblinear", random_state=seed)
    return LogisticRegression(C=c, penalty="l1", solver="liblinear", random_state=seed)


@dataclass(frozen=True)
class ContactRegression:
    """A fitted logistic regression from per-head sym+APC features to contact probability."""

    pipeline: Pipeline
    n_features: int

    @classmethod
    def fit(
        cls,
        features: Sequence[np.ndarray],
        contacts: Sequence[np.ndarray],
        *,
        c: float = 0.15,
        seed: int = 0,
    ) -> ContactRegression:
        """Fit on the pairs with separation ≥ 6 of the training proteins. `c` is the inverse L1
        strength (Rao et al. 2021 fit with strong L1 regularisation on 20 proteins)."""
        x_PF = np.concatenate([pair_features(f) for f in features])
        y_P = np.concatenate([c_LL[range_mask(c_LL.shape[0], "all")] for c_LL in contacts])
        if y_P.min() == y_P.max():
            raise ValueError("training pairs are all contacts or all non-contacts")
        # Standardising first lets one L1 strength fit heads whose scales differ by orders of
        # magnitude (a sharp head vs a near-uniform one).
        pipeline = make_pipeline(StandardScaler(), _logistic(c, seed))
        pipeline.fit(x_PF, y_P.astype(np.int64))
        return cls(pipeline=pipeline, n_features=x_PF.shape[1])

    def predict(self, features_FLL: np.ndarray) -> np.ndarray:
        """[L, L] symmetric contact probabilities; pairs closer than 6 get probability 0."""
        if features_FLL.shape[0] != self.n_features:
            raise ValueError(
                f"model was fitted on {self.n_features} heads, got {features_FLL.shape[0]}"
            )
        length = features_FLL.shape[-1]
        mask_LL = range_mask(length, "all")
        probs_LL = np.zeros((length, length))
        probs_LL[mask_LL] = self.pipeline.predict_proba(pair_features(features_FLL))[:, 1]
        return probs_LL + probs_LL.T

    @property
    def coefficients(self) -> np.ndarray:
        """[F] weights on the standardised per-head features (zero where L1 dropped a head)."""
        return self.pipeline[-1].coef_[0].copy()
