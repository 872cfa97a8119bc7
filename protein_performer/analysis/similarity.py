"""Amino-acid similarity learned by a model, scored against BLOSUM62.

Two views of the 20 standard amino acids:
- attention (Vig et al. 2021, "BERTology Meets Biology", ICLR 2021, §4.3): for every head, the
  fraction of its high-confidence attention (α > θ) that lands on each amino acid; heads with
  too little such attention are dropped; each amino acid becomes a vector over heads, and the
  similarity of X and Y is the Pearson r of their vectors;
- input embeddings: the cosine similarity of the 20 rows of the token embedding.

Both are compared with BLOSUM62, loaded with Biopython (never re-typed), over the off-diagonal
lower triangle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from Bio.Align import substitution_matrices
from scipy import stats

from protein_performer.constants import STANDARD_AMINO_ACIDS, VOCAB, VOCAB_SIZE

# Amino acids grouped by side-chain property, for figures: (group name, letters).
PROPERTY_GROUPS: tuple[tuple[str, str], ...] = (
    ("aliphatic", "AVLIM"),
    ("aromatic", "FWY"),
    ("polar", "STNQ"),
    ("positive", "KRH"),
    ("negative", "DE"),
    ("special", "CGP"),
)
PROPERTY_ORDER: tuple[str, ...] = tuple("".join(letters for _, letters in PROPERTY_GROUPS))
assert sorted(PROPERTY_ORDER) == sorted(STANDARD_AMINO_ACIDS)


def blosum62(order: tuple[str, ...] = STANDARD_AMINO_ACIDS) -> np.ndarray:
    """[20, 20] BLOSUM62 scores, rows and columns in `order` (one-letter codes)."""
    matrix = substitution_matrices.load("BLOSUM62")
    return np.array([[matrix[a][b] for b in order] for a in order], dtype=np.float64)


def reorder(
    matrix_AA: np.ndarray, order: tuple[str, ...], source: tuple[str, ...] = STANDARD_AMINO_ACIDS
) -> np.ndarray:
    """Permute rows and columns of a 20×20 matrix from `source` order to `order`."""
    index = [source.index(a) for a in order]
    return matrix_AA[np.ix_(index, index)]


@dataclass(frozen=True)
class BlosumScore:
    pearson: float
    spearman: float
    n_pairs: int


def score_against_blosum62(
    similarity_AA: np.ndarray, order: tuple[str, ...] = STANDARD_AMINO_ACIDS
) -> BlosumScore:
    """Pearson and Spearman r between a 20×20 similarity and BLOSUM62, over the 190 pairs of
    the off-diagonal lower triangle (the diagonal would reward self-similarity)."""
    rows, cols = np.tril_indices(len(order), k=-1)
    model = np.asarray(similarity_AA)[rows, cols]
    reference = blosum62(order)[rows, cols]
    if not np.all(np.isfinite(model)):
        return BlosumScore(float("nan"), float("nan"), len(rows))
    return BlosumScore(
        pearson=float(stats.pearsonr(model, reference).statistic),
        spearman=float(stats.spearmanr(model, reference).statistic),
        n_pairs=len(rows),
    )


def embedding_similarity(embedding_VC: np.ndarray) -> np.ndarray:
    """[20, 20] cosine similarity of the input embeddings of the standard amino acids, in
    `STANDARD_AMINO_ACIDS` order; `embedding_VC` is the full [vocab, width] table."""
    rows = np.asarray(embedding_VC, dtype=np.float64)[[VOCAB[a] for a in STANDARD_AMINO_ACIDS]]
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True).clip(min=1e-12)
    return unit @ unit.T


@dataclass(frozen=True)
class AttentionSimilarity:
    """Result of the Vig et al. analysis (amino acids in `STANDARD_AMINO_ACIDS` order)."""

    similarity_AA: np.ndarray  # [20, 20] Pearson r between amino-acid vectors over heads
    proportions_FA: np.ndarray  # [heads kept, 20] fraction of each head's attention per letter
    heads_kept: np.ndarray  # [heads kept] flat head indices (layer * H + head)
    threshold: float  # θ actually used
    n_sequences: int


class AminoAcidAttention:
    """Accumulates, over many sequences, how much attention each head sends to each token type,
    keeping only weights above each threshold θ in `thresholds`; `result()` turns the totals
    into the Vig et al. similarity."""

    def __init__(self, n_heads_total: int, thresholds: tuple[float, ...] = (0.3, 0.0)) -> None:
        self.thresholds = tuple(thresholds)
        # [threshold, head, target token id] attention mass
        self.weight_TFV = np.zeros((len(self.thresholds), n_heads_total, VOCAB_SIZE))
        self.n_sequences = 0

    def update(self, maps_NHLL: np.ndarray, residue_ids_L: np.ndarray) -> None:
        """Add one sequence: residue-only maps [layers, heads, L, L] and its token ids [L]."""
        n_layers, n_heads, length, _ = maps_NHLL.shape
        if length != len(residue_ids_L):
            raise ValueError(f"maps cover {length} residues but {len(residue_ids_L)} ids given")
        maps = np.asarray(maps_NHLL, dtype=np.float64).reshape(n_layers * n_heads, length, length)
        onehot_LV = np.eye(VOCAB_SIZE)[np.asarray(residue_ids_L, dtype=np.int64)]
        for t, theta in enumerate(self.thresholds):
            received_FL = np.where(maps > theta, maps, 0.0).sum(axis=1)  # mass per key position
            self.weight_TFV[t] += received_FL @ onehot_LV
        self.n_sequences += 1

    def result(self, threshold: float, min_weight: float = 100.0) -> AttentionSimilarity:
        """Similarity from heads whose attention above `threshold` totals at least `min_weight`
        (Vig et al. drop heads with too little high-confidence attention for a stable
        estimate). NaN when fewer than 3 heads qualify: a correlation over them means nothing."""
        if threshold not in self.thresholds:
            raise ValueError(f"threshold {threshold} was not accumulated ({self.thresholds})")
        weight_FV = self.weight_TFV[self.thresholds.index(threshold)]
        total_F = weight_FV.sum(axis=1)
        heads_kept = np.flatnonzero(total_F >= min_weight)
        standard = [VOCAB[a] for a in STANDARD_AMINO_ACIDS]
        proportions_FA = weight_FV[heads_kept][:, standard] / total_F[heads_kept, None]
        similarity_AA = np.full((20, 20), np.nan)
        if len(heads_kept) >= 3:
            with np.errstate(invalid="ignore", divide="ignore"):
                similarity_AA = np.corrcoef(proportions_FA.T)
        return AttentionSimilarity(
            similarity_AA=similarity_AA,
            proportions_FA=proportions_FA,
            heads_kept=heads_kept,
            threshold=threshold,
            n_sequences=self.n_sequences,
        )

    def best_result(self, min_weight: float = 100.0) -> AttentionSimilarity:
        """The result at the first threshold (in the given order) with at least 3 usable heads
        and a finite matrix; near-uniform FAVOR+ heads rarely exceed Vig et al.'s θ = 0.3, so
        the caller lists a lower fallback θ, and the θ used is reported with the result."""
        for theta in self.thresholds:
            found = self.result(theta, min_weight)
            if np.isfinite(found.similarity_AA).all():
                return found
        return found
