"""Evaluate a model on its family: variant effects against a deep mutational scan, and
contacts against the family's column contact map.

Every predictor of a run is scored on the same variants of the same scan: the model by each of
its scores, the site-independent PSSM and the pseudo-likelihood Potts model (`analysis.potts`)
fitted on the same weighted training rows, and any other checkpoint passed as a reference (e.g.
the shipped general model). Each row's paired bootstrap is against both baselines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from protein_performer.analysis.column_contacts import (
    THRESHOLDS_A,
    column_precision,
    read_column_distances,
)
from protein_performer.analysis.contacts import sym_apc
from protein_performer.analysis.dms import Scan, read_scan, status_counts, variant_status
from protein_performer.analysis.jacobian import contact_map_from_model
from protein_performer.analysis.potts import PottsConfig, PottsModel, fit_potts
from protein_performer.analysis.potts_readouts import potts_contacts, potts_scores
from protein_performer.analysis.pssm import column_log_frequencies, pssm_scores
from protein_performer.analysis.rank_correlation import Correlation, paired_bootstrap, spearman
from protein_performer.analysis.variant_scores import (
    ScoringFrame,
    aligned_frame,
    score_variants,
    unaligned_frame,
)
from protein_performer.constants import VOCAB_SIZE
from protein_performer.data.family import FamilyDataModule
from protein_performer.data.fasta import iter_fasta
from protein_performer.data.msa_mapping import ColumnMap, map_wild_type
from protein_performer.paths import PF00595_DIR


@dataclass(frozen=True)
class FamilyEvalConfig:
    """The experimental data a family model is checked against."""

    # Deep mutational scan CSV (ProteinGym layout) and the column holding the measurement.
    scan: str = str(PF00595_DIR / "DLG4_RAT_Ranganathan2012.csv")
    score_column: str = "CRIPT"
    # FASTA of the wild type the scan mutates, and the number of its first residue.
    wild_type: str = str(PF00595_DIR / "DLG4_RAT_PDZ3_wt.fasta")
    offset: int = 311
    # The wild type's row in the alignment; None aligns the wild type with hmmalign.
    query: str | None = "DLG4_RAT/313-391"
    # Column contact map (`i j score distance`), or None to skip contacts.
    contacts: str | None = str(PF00595_DIR / "PF00595_struct.dat")
    # Model scores to compute; None: masked and wild-type marginals (MLM) or the
    # log-likelihood ratio (causal). "pll" costs one pass per position per variant.
    methods: tuple[str, ...] | None = None
    # Bootstrap resamples for the Spearman intervals.
    n_boot: int = 1000
    # L-BFGS iterations of the Potts baseline (minutes on a CPU for ~80 columns); 0 skips it.
    potts_iterations: int = 100

    def __post_init__(self) -> None:
        if self.potts_iterations < 0:
            raise ValueError(f"potts_iterations must be >= 0, got {self.potts_iterations}")


@dataclass(frozen=True)
class Predictor:
    name: str
    scores_N: np.ndarray
    rho: Correlation
    vs_pssm: Correlation | None = None
    vs_potts: Correlation | None = None


@dataclass
class FamilyEvaluation:
    scan: Scan
    column_map: ColumnMap
    statuses: list[str]
    predictors: list[Predictor] = field(default_factory=list)
    # {method: {threshold: {range: {P@L...}}}}
    contacts: dict[str, dict[float, dict[str, dict[str, float]]]] = field(default_factory=dict)
    contact_maps: dict[str, np.ndarray] = field(default_factory=dict)
    potts: PottsModel | None = None

    @property
    def counts(self) -> dict[str, int]:
        return status_counts(self.statuses)


def read_wild_type(path: str | Path) -> str:
    records = list(iter_fasta(path))
    if not records:
        raise ValueError(f"{path}: no wild-type record")
    return records[0].sequence.upper()


def is_aligned(model) -> bool:
    """Aligned family models have the gap token in their vocabulary."""
    return model.config.vocab_size > VOCAB_SIZE


def frame_for(model, column_map: ColumnMap) -> ScoringFrame:
    """Aligned models read columns (vocabulary with the gap); others the plain wild type."""
    if is_aligned(model):
        if column_map.method == "identity":
            raise ValueError("an aligned family model needs the family alignment (--msa)")
        return aligned_frame(column_map)
    return unaligned_frame(column_map.wild_type)


def default_methods(model) -> tuple[str, ...]:
    return ("causal-llr",) if model.config.causal else ("masked-marginals", "wt-marginals")


def identity_map(wild_type: str, offset: int) -> ColumnMap:
    """Without an alignment every residue is its own column (unaligned models only)."""
    n = len(wild_type)
    return ColumnMap(wild_type, offset, np.arange(n, dtype=np.int64), "identity", n)


def setup_evaluation(
    datamodule: FamilyDataModule | None, cfg: FamilyEvalConfig
) -> FamilyEvaluation:
    """Parse the scan against the wild type, placed on the alignment's columns if there is one."""
    wild_type = read_wild_type(cfg.wild_type)
    if datamodule is None:
        column_map = identity_map(wild_type, cfg.offset)
    else:
        column_map = map_wild_type(datamodule.msa, wild_type, cfg.offset, cfg.query)
    scan = read_scan(cfg.scan, wild_type, score_column=cfg.score_column, offset=cfg.offset)
    frame = aligned_frame(column_map)
    statuses = [variant_status(v, frame.position_of) for v in scan.variants]
    return FamilyEvaluation(scan, column_map, statuses)


def add_pssm(evaluation: FamilyEvaluation, datamodule: FamilyDataModule, n_boot: int) -> None:
    """The site-independent baseline on the weighted training rows (the model's own data)."""
    log_freq_CV = column_log_frequencies(*_training_rows(datamodule))
    scores = pssm_scores(
        log_freq_CV, aligned_frame(evaluation.column_map), list(evaluation.scan.variants)
    )
    _add(evaluation, PSSM_NAME, scores, n_boot)


PSSM_NAME = "PSSM (same weighted rows)"
POTTS_NAME = "Potts model (same weighted rows)"
BASELINES: tuple[str, ...] = (PSSM_NAME, POTTS_NAME)


def _training_rows(datamodule: FamilyDataModule) -> tuple[np.ndarray, np.ndarray]:
    """Token rows and weights of the training split: what the model itself learns from."""
    rows = datamodule.rows("train")
    weights = datamodule.weights_N[rows] if datamodule.config.weights else np.ones(len(rows))
    return datamodule.msa.tokens_NC[rows], weights


def add_potts(
    evaluation: FamilyEvaluation, datamodule: FamilyDataModule, n_boot: int,
    config: PottsConfig | None = None,
) -> None:  # fmt: skip
    """The pairwise baseline (plmDCA / EVmutation) on the weighted training rows."""
    evaluation.potts = fit_potts(*_training_rows(datamodule), config or PottsConfig())
    scores = potts_scores(
        evaluation.potts, aligned_frame(evaluation.column_map), list(evaluation.scan.variants)
    )
    _add(evaluation, POTTS_NAME, scores, n_boot)


def add_potts_contacts(evaluation: FamilyEvaluation, contacts_path: str) -> None:
    """P@L by range of the fitted Potts model's couplings, beside the model's read-outs."""
    dist_CC = read_column_distances(contacts_path, evaluation.column_map.n_columns)
    scores_CC = potts_contacts(evaluation.potts)
    evaluation.contact_maps["potts"] = scores_CC
    evaluation.contacts["potts"] = {
        t: column_precision(scores_CC, dist_CC, t) for t in THRESHOLDS_A
    }


def add_model(
    evaluation: FamilyEvaluation, model, name: str, methods: tuple[str, ...] | None, n_boot: int
) -> None:
    frame = frame_for(model, evaluation.column_map)
    # Judge every predictor on the same variants: those the alignment's columns cover.
    covered = np.array([s != "unscorable" for s in evaluation.statuses])
    for method in methods or default_methods(model):
        scores = score_variants(model, frame, list(evaluation.scan.variants), method)
        _add(evaluation, f"{name} {method}", np.where(covered, scores, np.nan), n_boot)


def _add(evaluation: FamilyEvaluation, name: str, scores_N: np.ndarray, n_boot: int) -> None:
    truth = evaluation.scan.measured
    scored = np.array([s == "scored" for s in evaluation.statuses])
    masked = np.where(scored, scores_N, np.nan)
    rho = spearman(masked, truth, n_boot=n_boot)
    vs = {}
    for baseline in BASELINES:
        other = next((p for p in evaluation.predictors if p.name == baseline), None)
        vs[baseline] = (
            paired_bootstrap(masked, other.scores_N, truth, n_boot=n_boot) if other else None
        )
    evaluation.predictors.append(Predictor(name, masked, rho, vs[PSSM_NAME], vs[POTTS_NAME]))


@torch.no_grad()
def attention_contacts(model, frame: ScoringFrame, positions_P: np.ndarray) -> np.ndarray:
    """Rao et al. 2021 unsupervised: mean over layers and heads of APC(symmetrised attention)."""
    tokens = torch.from_numpy(frame.tokens_L[None])
    maps_NBHLL = model.attention_maps(tokens).double().numpy()
    maps_HLL = maps_NBHLL[:, 0].reshape(-1, *maps_NBHLL.shape[-2:])
    sub = maps_HLL[:, positions_P][:, :, positions_P]
    return sym_apc(sub).mean(0)


def add_contacts(evaluation: FamilyEvaluation, model, contacts_path: str) -> None:
    """P@L by range at each threshold, from the Jacobian and from attention, over the columns
    where the model has a position (all columns for an aligned model)."""
    cmap = evaluation.column_map
    n_cols = cmap.n_columns
    dist_CC = read_column_distances(contacts_path, n_cols)
    frame = frame_for(model, cmap)
    if is_aligned(model):
        columns = np.arange(n_cols)
        positions = columns + 1
    else:
        inside = np.flatnonzero(cmap.residue_to_column >= 0)
        columns, positions = cmap.residue_to_column[inside], frame.position_of[inside]
    for method, scorer in (
        ("jacobian", lambda: contact_map_from_model(model, frame.tokens_L, positions)),
        ("attention", lambda: attention_contacts(model, frame, positions)),
    ):
        scores_PP = scorer()
        full_CC = np.full((n_cols, n_cols), -np.inf)
        full_CC[np.ix_(columns, columns)] = scores_PP
        evaluation.contact_maps[method] = full_CC
        evaluation.contacts[method] = {
            t: column_precision(full_CC, dist_CC, t) for t in THRESHOLDS_A
        }
