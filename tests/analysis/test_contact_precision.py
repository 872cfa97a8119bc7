import numpy as np
import pytest

from protein_performer.analysis.contact_precision import (
    mean_precision,
    precision_at,
    range_precision,
)
from protein_performer.analysis.contacts import range_mask


def _hand_built(length=50):
    contacts = np.zeros((length, length), dtype=bool)
    # long-range contacts: (0, 30), (1, 31), ..., (9, 39): 10 contacts
    for k in range(10):
        contacts[k, 30 + k] = contacts[30 + k, k] = True
    # two short-range contacts
    contacts[0, 7] = contacts[7, 0] = True
    contacts[5, 12] = contacts[12, 5] = True
    return contacts


def test_perfect_and_inverted_predictors():
    contacts = _hand_built()
    result = range_precision(contacts.astype(float), contacts)
    # L = 50 -> top 50 long pairs include all 10 contacts: precision 10/50
    assert result["long"]["P@L"] == pytest.approx(10 / 50)
    assert result["long"]["P@L/5"] == pytest.approx(1.0)  # top 10
    assert result["short"]["P@L/5"] == pytest.approx(2 / 10)
    n_long = range_mask(50, "long").sum()
    assert result["long"]["random"] == pytest.approx(10 / n_long)
    inverted = range_precision(-contacts.astype(float), contacts)
    assert inverted["long"]["P@L/5"] == 0.0


def test_precision_at_counts_top_k_exactly():
    contacts = _hand_built()
    scores = np.zeros((50, 50))
    scores[0, 30], scores[0, 40], scores[2, 45] = 3.0, 2.0, 1.0  # one hit then two misses
    mask = range_mask(50, "long")
    assert precision_at(scores, contacts, mask, 1) == 1.0
    assert precision_at(scores, contacts, mask, 2) == 0.5
    assert precision_at(scores, contacts, mask, 3) == pytest.approx(1 / 3)


def test_mean_precision_averages_proteins_and_skips_nan():
    a = {
        r: {"P@L": 1.0, "P@L/2": 1.0, "P@L/5": 1.0, "random": 0.1}
        for r in ("short", "medium", "long")
    }
    b = {
        r: {"P@L": 0.0, "P@L/2": 0.5, "P@L/5": float("nan"), "random": 0.3}
        for r in ("short", "medium", "long")
    }
    m = mean_precision([a, b])
    assert m["long"]["P@L"] == 0.5 and m["long"]["P@L/2"] == 0.75
    assert m["long"]["P@L/5"] == 1.0 and m["long"]["random"] == pytest.approx(0.2)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="square"):
        range_precision(np.zeros((5, 5)), np.zeros((6, 6), dtype=bool))
