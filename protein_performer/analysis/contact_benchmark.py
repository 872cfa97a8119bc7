"""The contact benchmark of `make analyze`: TS50 and BPTI, three predictors, P@L by range.

Protocol (Rao et al. 2021, adapted to TS50):
- the 50 TS50 chains are sorted by id; the first `n_train` (20) are the training set, the
  other 30 the test set: a fixed, documented choice that needs no random seed;
- the best single head and the logistic regression are chosen/fitted on the training set only;
- the categorical-Jacobian contacts (Zhang et al. 2024, `analysis.jacobian`) need no
  training, so they are computed for BPTI and, on request (`ts50_jacobian`), the test chains
  (20 forward passes per residue: minutes for the 30 chains on a CPU);
- BPTI is scored twice: with the model run on the 100-residue P00974 precursor (scores of the
  mature residues 36–93 cut out after APC, which sees the whole map the model produced) and
  run on the 58-residue mature 5PTI chain alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from protein_performer.analysis.attention_maps import residue_attention_batch
from protein_performer.analysis.contact_precision import mean_precision, range_precision
from protein_performer.analysis.contact_regression import (
    ContactRegression,
    head_features,
    select_best_head,
)
from protein_performer.analysis.contacts import apc_mean, true_contacts
from protein_performer.analysis.jacobian import contact_map_from_model
from protein_performer.analysis.structures import Bpti, Chain
from protein_performer.data.tokenizer import Alphabet
from protein_performer.progress import progress_bar

METHODS = (
    "unsupervised_best_head",
    "unsupervised_apc_mean",
    "logistic_regression",
    "categorical_jacobian",
)


@dataclass(frozen=True)
class ProteinFeatures:
    name: str
    features_FLL: np.ndarray  # per-head sym+APC maps
    apc_mean_LL: np.ndarray
    contacts_LL: np.ndarray
    window: slice  # residues of the scored region (the mature chain inside the precursor)
    sequence: str = ""  # the residues the model read (after cropping)
    jacobian_LL: np.ndarray | None = None  # categorical-Jacobian contact scores, if computed


@dataclass(frozen=True)
class ScoredProtein:
    name: str
    contacts_LL: np.ndarray
    scores: dict[str, np.ndarray]  # method -> [L, L]


@dataclass(frozen=True)
class ContactBenchmark:
    train_names: tuple[str, ...]
    test_names: tuple[str, ...]
    best_head: tuple[int, int]  # (layer, head), 0-based
    metrics: dict[str, dict[str, dict[str, dict[str, float]]]]  # set -> method -> range -> k
    bpti: ScoredProtein  # model run on the precursor, mature window
    bpti_mature: ScoredProtein  # model run on the mature chain
    coefficients: np.ndarray  # [layers * heads] logistic-regression weights


def protein_features(
    model,
    names: Sequence[str],
    sequences: Sequence[str],
    contacts: Sequence[np.ndarray],
    windows: Sequence[slice],
    batch_size: int = 4,
    progress: bool = False,
) -> list[ProteinFeatures]:
    """Attention features of each protein; sequences longer than the model takes are cropped
    (with their contact maps) to its `max_len`."""
    out = []
    bar = progress_bar(len(sequences), "contacts", enabled=progress)
    for start in range(0, len(sequences), batch_size):
        batch = residue_attention_batch(model, sequences[start : start + batch_size])
        bar.update(len(batch))
        for k, att in enumerate(batch):
            i = start + k
            n = len(att.sequence)
            window = windows[i]
            stop = min(window.stop, n) if window.stop is not None else n
            out.append(
                ProteinFeatures(
                    name=names[i],
                    features_FLL=head_features(att.maps_NHLL),
                    apc_mean_LL=apc_mean(att.maps_NHLL),
                    contacts_LL=contacts[i][:n, :n],
                    window=slice(window.start or 0, stop),
                    sequence=att.sequence,
                )
            )
    bar.close()
    return out


def with_jacobian(model, features: Sequence[ProteinFeatures], progress: bool = False):
    """`features` with their categorical-Jacobian contact maps filled in."""
    bar = progress_bar(len(features), "jacobian", enabled=progress)
    out = []
    for p in features:
        tokens = Alphabet(unknown="x").encode(p.sequence).astype(np.int64)
        positions = np.arange(1, len(p.sequence) + 1)
        out.append(
            dataclasses.replace(p, jacobian_LL=contact_map_from_model(model, tokens, positions))
        )
        bar.update(1)
    bar.close()
    return out


def _score(p: ProteinFeatures, best: int, regression: ContactRegression) -> ScoredProtein:
    w = p.window
    scores = {
        "unsupervised_best_head": p.features_FLL[best][w, w],
        "unsupervised_apc_mean": p.apc_mean_LL[w, w],
        "logistic_regression": regression.predict(p.features_FLL)[w, w],
    }
    if p.jacobian_LL is not None:
        scores["categorical_jacobian"] = p.jacobian_LL[w, w]
    return ScoredProtein(p.name, p.contacts_LL[w, w], scores)


def _evaluate(proteins: Sequence[ScoredProtein]) -> dict[str, dict[str, dict[str, float]]]:
    """Precision of every method that scored all of `proteins`."""
    return {
        m: mean_precision([range_precision(p.scores[m], p.contacts_LL) for p in proteins])
        for m in METHODS
        if all(m in p.scores for p in proteins)
    }


def run_contact_benchmark(
    model,
    ts50: Sequence[Chain],
    bpti: Bpti,
    *,
    n_train: int = 20,
    l1_c: float = 0.15,
    progress: bool = False,
    ts50_jacobian: bool = False,
) -> ContactBenchmark:
    """Fit on the first `n_train` TS50 chains (sorted by name), evaluate everywhere."""
    chains = sorted(ts50, key=lambda c: c.name)
    if not 0 < n_train < len(chains):
        raise ValueError(
            f"n_train={n_train} must leave both training and test chains (have {len(chains)})"
        )
    full = slice(0, None)
    ts = protein_features(
        model,
        [c.name for c in chains],
        [c.sequence for c in chains],
        [true_contacts(c.coords_L3) for c in chains],
        [full] * len(chains),
        progress=progress,
    )
    train, test = ts[:n_train], ts[n_train:]
    best = select_best_head([p.features_FLL for p in train], [p.contacts_LL for p in train])
    regression = ContactRegression.fit(
        [p.features_FLL for p in train], [p.contacts_LL for p in train], c=l1_c
    )
    mature_contacts = true_contacts(bpti.mature.coords_L3)
    start = bpti.offset
    stop = start + len(bpti.mature.sequence)
    precursor_contacts = np.zeros((len(bpti.precursor),) * 2, dtype=bool)
    precursor_contacts[start:stop, start:stop] = mature_contacts
    bpti_runs = protein_features(
        model,
        ["BPT1_BOVIN (P00974 precursor)", "5PTI_A (mature)"],
        [bpti.precursor, bpti.mature.sequence],
        [precursor_contacts, mature_contacts],
        [slice(start, stop), full],
    )
    bpti_runs = with_jacobian(model, bpti_runs)
    if ts50_jacobian:
        test = with_jacobian(model, test, progress)
    scored_bpti = [_score(p, best, regression) for p in bpti_runs]
    n_heads = model.config.n_heads
    return ContactBenchmark(
        train_names=tuple(p.name for p in train),
        test_names=tuple(p.name for p in test),
        best_head=(best // n_heads, best % n_heads),
        metrics={
            "bpti": _evaluate(scored_bpti[:1]),
            "bpti_mature": _evaluate(scored_bpti[1:]),
            "ts50_test": _evaluate([_score(p, best, regression) for p in test]),
            "ts50_train": _evaluate([_score(p, best, regression) for p in train]),
        },
        bpti=scored_bpti[0],
        bpti_mature=scored_bpti[1],
        coefficients=regression.coefficients,
    )
