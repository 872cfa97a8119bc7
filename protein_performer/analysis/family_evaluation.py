"""Evaluate a model on its family: variant effects against a deep mutational scan, and
contacts against the family's column contact map.

Every predictor of a run is scored on the same variants of the same scan: the model by each of
its scores, the site-independent PSSM and the pseudo-likelihood Potts model (`analysis.potts`)
fitted on the same weighted training rows, any other checkpoint passed as a reference (e.g.
the shipped general model), and the ensemble of several models (`analysis.ensemble`). Each
row's paired bootstrap is against both baselines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from protein_performer.analysis.column_contacts import column_precision
from protein_performer.analysis.contacts import apc_mean
from protein_performer.analysis.dms import Scan, status_counts
from protein_performer.analysis.ensemble import mean_contact_map, mean_scores
from protein_performer.analysis.family_inputs import ContactTruth, read_inputs
from protein_performer.analysis.jacobian import contact_map_from_model
from protein_performer.analysis.placement import direction_of
from protein_performer.analysis.position_attention import (
    position_attention_contacts,
    position_layers,
)
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
from protein_performer.data.column_order import token_positions
from protein_performer.data.family_alignment import FamilyAlignment
from protein_performer.data.msa_mapping import ColumnMap


@dataclass(frozen=True)
class FamilyEvalConfig:
    """The experimental data a family model is checked against; each part runs only when its
    input is given (no scan: no variant effects; no contact map or structure: no contacts)."""

    # Deep mutational scan CSV (ProteinGym layout: `mutant`, `DMS_score`, optionally
    # `mutated_sequence`), or None for no variant-effect evaluation.
    scan: str | None = None
    # The scan's measured-score column and its variant column.
    score_column: str = "DMS_score"
    mutant_column: str = "mutant"
    # FASTA of the wild type the scan mutates (None: rebuilt from the scan's mutated_sequence
    # column), and the number of its first residue in the mutant strings.
    wild_type: str | None = None
    offset: int = 1
    # The wild type's row in the alignment; None aligns the wild type with hmmalign.
    query: str | None = None
    # Refuse a scan with a smaller share of its variants on the alignment's columns: a lower
    # share usually means a scan of another protein, or the wrong wild type.
    min_coverage: float = 0.5
    # Column contact map (`i j [score] distance`, 1-based columns of the alignment file,
    # optionally .gz), or None.
    contacts: str | None = None
    # Or a structure (PDB / mmCIF, optionally .gz) and its chain: contacts from its residues
    # placed on the columns through the wild type (Cβ 8 Å and heavy-atom 4.5 Å).
    structure: str | None = None
    chain: str | None = None
    # Model scores to compute; None: masked and wild-type marginals (MLM) or the
    # log-likelihood ratio (causal). "pll" costs one pass per position per variant.
    methods: tuple[str, ...] | None = None
    # Bootstrap resamples for the Spearman intervals.
    n_boot: int = 1000
    # L-BFGS iterations of the Potts baseline (minutes on a CPU for ~80 columns); 0 skips it.
    potts_iterations: int = 100
    # Family members a causal aligned model samples for the report (0: none).
    n_samples: int = 200

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_coverage <= 1.0:
            raise ValueError(f"eval.min_coverage must be in [0, 1], got {self.min_coverage}")
        if isinstance(self.n_boot, bool) or not isinstance(self.n_boot, int) or self.n_boot < 1:
            raise ValueError(f"eval.n_boot must be an integer >= 1, got {self.n_boot!r}")
        if self.n_samples < 0:
            raise ValueError(f"eval.n_samples must be >= 0, got {self.n_samples}")
        if self.contacts and self.structure:
            raise ValueError("eval.contacts and eval.structure: give one contact source, not both")
        if self.structure and not self.chain:
            raise ValueError("eval.structure needs eval.chain (the chain id, e.g. A)")
        if self.potts_iterations < 0:
            raise ValueError(f"eval.potts_iterations must be >= 0, got {self.potts_iterations}")


@dataclass(frozen=True)
class Predictor:
    name: str
    scores_N: np.ndarray
    rho: Correlation
    vs_pssm: Correlation | None = None
    vs_potts: Correlation | None = None


@dataclass
class FamilyEvaluation:
    """Results of one evaluation; `scan` is None without a scan, `truths` empty without
    contacts (see `analysis.family_inputs`)."""

    scan: Scan | None
    column_map: ColumnMap | None
    statuses: list[str]
    truths: tuple[ContactTruth, ...] = ()
    contacts_source: str | None = None
    predictors: list[Predictor] = field(default_factory=list)
    # {method: {threshold: {range: {P@L...}}}}
    contacts: dict[str, dict[float, dict[str, dict[str, float]]]] = field(default_factory=dict)
    contact_maps: dict[str, np.ndarray] = field(default_factory=dict)
    potts: PottsModel | None = None

    @property
    def counts(self) -> dict[str, int]:
        return status_counts(self.statuses)

    @property
    def contact_kinds(self) -> dict[float, str]:
        return {t.threshold: t.kind for t in self.truths}


def is_aligned(model) -> bool:
    """Aligned family models have the gap token in their vocabulary."""
    return model.config.vocab_size > VOCAB_SIZE


def frame_for(model, column_map: ColumnMap) -> ScoringFrame:
    """Aligned models read columns (vocabulary with the gap) in their reading order; others the
    plain wild type."""
    if is_aligned(model):
        if column_map.method == "identity":
            raise ValueError("an aligned family model needs the family alignment (--msa)")
        return aligned_frame(column_map, direction_of(model))
    return unaligned_frame(column_map.wild_type)


def default_methods(model) -> tuple[str, ...]:
    return ("causal-llr",) if model.config.causal else ("masked-marginals", "wt-marginals")


def setup_evaluation(
    datamodule: FamilyAlignment | None, cfg: FamilyEvalConfig
) -> FamilyEvaluation:
    """Read and check every input of `cfg` (`analysis.family_inputs.read_inputs`) against the
    alignment's columns, if there is one."""
    msa = datamodule.msa if datamodule is not None else None
    max_col_gaps = datamodule.config.max_col_gaps if datamodule is not None else 1.0
    inputs = read_inputs(msa, cfg, max_col_gaps=max_col_gaps)
    return FamilyEvaluation(
        inputs.scan, inputs.column_map, list(inputs.statuses), inputs.truths,
        inputs.contacts_source,
    )  # fmt: skip


def add_pssm(evaluation: FamilyEvaluation, datamodule: FamilyAlignment, n_boot: int) -> None:
    """The site-independent baseline on the weighted training rows (the model's own data)."""
    log_freq_CV = column_log_frequencies(*_training_rows(datamodule))
    scores = pssm_scores(
        log_freq_CV, aligned_frame(evaluation.column_map), list(evaluation.scan.variants)
    )
    _add(evaluation, PSSM_NAME, scores, n_boot)


PSSM_NAME = "PSSM (same weighted rows)"
POTTS_NAME = "Potts model (same weighted rows)"
BASELINES: tuple[str, ...] = (PSSM_NAME, POTTS_NAME)
# Appended to a model row's name for its product of experts with the Potts model: a row of its
# own, never the model's.
WITH_POTTS = " + Potts model (product of experts)"


def is_product_of_experts(name: str) -> bool:
    return name.endswith(WITH_POTTS)


def _training_rows(datamodule: FamilyAlignment) -> tuple[np.ndarray, np.ndarray]:
    """Token rows and weights of the training split: what the model itself learns from."""
    rows = datamodule.rows("train")
    weights = datamodule.weights_N[rows] if datamodule.config.weights else np.ones(len(rows))
    return datamodule.msa.tokens_NC[rows], weights


def add_potts(
    evaluation: FamilyEvaluation, datamodule: FamilyAlignment, n_boot: int,
    config: PottsConfig | None = None,
) -> None:  # fmt: skip
    """The pairwise baseline (plmDCA / EVmutation) on the weighted training rows."""
    evaluation.potts = fit_potts(*_training_rows(datamodule), config or PottsConfig())
    scores = potts_scores(
        evaluation.potts, aligned_frame(evaluation.column_map), list(evaluation.scan.variants)
    )
    _add(evaluation, POTTS_NAME, scores, n_boot)


def fit_family_potts(
    evaluation: FamilyEvaluation, datamodule: FamilyAlignment, config: PottsConfig | None = None
) -> None:
    """Fit the Potts model on the weighted training rows without scoring a scan (contacts)."""
    evaluation.potts = fit_potts(*_training_rows(datamodule), config or PottsConfig())


def add_potts_contacts(evaluation: FamilyEvaluation) -> None:
    """P@L by range of the fitted Potts model's couplings against each true contact set,
    beside the model's read-outs."""
    _add_contact_map(evaluation, "potts", potts_contacts(evaluation.potts))


def _add_contact_map(evaluation: FamilyEvaluation, key: str, scores_CC: np.ndarray) -> None:
    evaluation.contact_maps[key] = scores_CC
    evaluation.contacts[key] = {
        t.threshold: column_precision(scores_CC, t.dist_CC, t.threshold) for t in evaluation.truths
    }


def add_model(
    evaluation: FamilyEvaluation, model, name: str, methods: tuple[str, ...] | None, n_boot: int
) -> list[Predictor]:
    """One row per score method of `model`, named `"{name} {method}"`; returns those rows."""
    frame = frame_for(model, evaluation.column_map)
    # Judge every predictor on the same variants: those the alignment's columns cover.
    covered = np.array([s != "unscorable" for s in evaluation.statuses])
    rows = []
    for method in methods or default_methods(model):
        scores = score_variants(model, frame, list(evaluation.scan.variants), method)
        rows.append(
            _add(evaluation, f"{name} {method}", np.where(covered, scores, np.nan), n_boot)
        )
    return rows


def ensemble_name(n_members: int) -> str:
    return f"ensemble of {n_members} (mean of each model's first score)"


def add_ensemble(evaluation: FamilyEvaluation, rows: list[Predictor], n_boot: int) -> Predictor:
    """The ensemble's row: the mean of `rows` (one per member, `analysis.ensemble`)."""
    scores_N = mean_scores(np.stack([row.scores_N for row in rows]))
    return _add(evaluation, ensemble_name(len(rows)), scores_N, n_boot)


ENSEMBLE_CONTACTS = "ensemble"


def add_ensemble_contacts(
    evaluation: FamilyEvaluation, prefixes: list[str], methods_M: list[tuple[str, ...]]
) -> None:
    """For each read-out every member has (member m's `methods_M[m]`, keyed
    `"{prefix}{method}"`), the mean of their standardised maps, keyed `"ensemble {method}"`."""
    for method in methods_M[0]:
        if all(method in methods for methods in methods_M):
            maps = [evaluation.contact_maps[f"{prefix}{method}"] for prefix in prefixes]
            _add_contact_map(evaluation, f"{ENSEMBLE_CONTACTS} {method}", mean_contact_map(maps))


def add_products_of_experts(
    evaluation: FamilyEvaluation, rows: list[Predictor], n_boot: int
) -> None:
    """For each model row of `rows`, its product of experts with the Potts model: the sum of
    the two log-probability ratios (the model's score plus the Potts model's ΔE), i.e. the
    variant scored under p_model · p_Potts. Nothing without a Potts row."""
    potts = next((p for p in evaluation.predictors if p.name == POTTS_NAME), None)
    if potts is None:
        return
    for row in rows:
        _add(evaluation, row.name + WITH_POTTS, row.scores_N + potts.scores_N, n_boot)


def _add(evaluation: FamilyEvaluation, name: str, scores_N: np.ndarray, n_boot: int) -> Predictor:
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
    predictor = Predictor(name, masked, rho, vs[PSSM_NAME], vs[POTTS_NAME])
    evaluation.predictors.append(predictor)
    return predictor


@torch.no_grad()
def attention_contacts(model, frame: ScoringFrame, positions_P: np.ndarray) -> np.ndarray:
    """Unsupervised attention contacts (`contacts.apc_mean`, as `analyze` reads them): APC of
    the symmetrised attention averaged over layers and heads, then cut to the positions."""
    tokens = torch.from_numpy(frame.tokens_L[None])
    maps_NHLL = model.attention_maps(tokens).double().numpy()[:, 0]
    return apc_mean(maps_NHLL)[np.ix_(positions_P, positions_P)]


def add_contacts(evaluation: FamilyEvaluation, model, prefix: str = "") -> tuple[str, ...]:
    """P@L by range against each true contact set, from the Jacobian and from attention, over
    the columns where the model has a position (all columns for an aligned model); keyed
    `"{prefix}{method}"`. Returns the methods."""
    cmap = evaluation.column_map
    n_cols = cmap.n_columns
    frame = frame_for(model, cmap)
    if is_aligned(model):
        columns = np.arange(n_cols)
        positions = token_positions(columns, n_cols, direction_of(model))
    else:
        inside = np.flatnonzero(cmap.residue_to_column >= 0)
        columns, positions = cmap.residue_to_column[inside], frame.position_of[inside]
    scorers = {
        "jacobian": lambda: contact_map_from_model(model, frame.tokens_L, positions),
        "attention": lambda: attention_contacts(model, frame, positions),
    }
    if position_layers(model):
        scorers["position_attention"] = lambda: position_attention_contacts(
            model, len(frame.tokens_L), positions
        )
    for method, scorer in scorers.items():
        scores_PP = scorer()
        full_CC = np.full((n_cols, n_cols), -np.inf)
        full_CC[np.ix_(columns, columns)] = scores_PP
        _add_contact_map(evaluation, f"{prefix}{method}", full_CC)
    return tuple(scorers)
