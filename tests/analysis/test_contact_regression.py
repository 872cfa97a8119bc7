import numpy as np

from protein_performer.analysis.contact_precision import range_precision
from protein_performer.analysis.contact_regression import (
    ContactRegression,
    head_features,
    select_best_head,
)
from protein_performer.analysis.contacts import apc_mean


def _synthetic_protein(rng, length, informative_head=(1, 2)):
    """Random contacts; one head sees them (plus noise), the others are noise."""
    upper = np.triu(rng.random((length, length)) < 0.05, k=6)
    contacts = upper | upper.T
    maps = rng.random((2, 3, length, length))
    layer, head = informative_head
    maps[layer, head] += 3.0 * contacts
    maps /= maps.sum(-1, keepdims=True)
    return maps, contacts


def test_best_head_and_regression_find_the_informative_head():
    rng = np.random.default_rng(0)
    train = [_synthetic_protein(rng, 40) for _ in range(4)]
    test_maps, test_contacts = _synthetic_protein(rng, 45)
    feats = [head_features(m) for m, _ in train]
    assert feats[0].shape == (6, 40, 40)
    best = select_best_head(feats, [c for _, c in train])
    assert best == 1 * 3 + 2
    model = ContactRegression.fit(feats, [c for _, c in train], c=0.5)
    probs = model.predict(head_features(test_maps))
    np.testing.assert_allclose(probs, probs.T)
    assert probs.min() >= 0 and probs.max() <= 1
    assert np.abs(model.coefficients).argmax() == best
    p = range_precision(probs, test_contacts)
    assert p["long"]["P@L/5"] > 0.8 > p["long"]["random"]


def test_apc_mean_is_symmetric_and_square():
    rng = np.random.default_rng(1)
    maps = rng.random((2, 2, 12, 12))
    m = apc_mean(maps)
    assert m.shape == (12, 12)
    np.testing.assert_allclose(m, m.T)
