import numpy as np
import pytest
from Bio.Align import substitution_matrices

from protein_performer.analysis.similarity import (
    PROPERTY_ORDER,
    AminoAcidAttention,
    blosum62,
    embedding_similarity,
    reorder,
    score_against_blosum62,
)
from protein_performer.constants import STANDARD_AMINO_ACIDS, VOCAB
from protein_performer.data.tokenizer import Alphabet


def test_blosum62_rows_follow_the_alphabet_order():
    reference = substitution_matrices.load("BLOSUM62")
    matrix = blosum62()
    alphabet = Alphabet()
    ids = alphabet.encode("".join(STANDARD_AMINO_ACIDS), add_special=False)
    # row k is the amino acid whose token id is the k-th standard id
    assert [alphabet.decode([i]) for i in ids] == list(STANDARD_AMINO_ACIDS)
    for i, a in enumerate(STANDARD_AMINO_ACIDS):
        for j, b in enumerate(STANDARD_AMINO_ACIDS):
            assert matrix[i, j] == reference[a][b]
    assert matrix[STANDARD_AMINO_ACIDS.index("W"), STANDARD_AMINO_ACIDS.index("W")] == 11
    assert matrix[STANDARD_AMINO_ACIDS.index("I"), STANDARD_AMINO_ACIDS.index("V")] == 3


def test_reorder_matches_direct_lookup():
    grouped = reorder(blosum62(), PROPERTY_ORDER)
    np.testing.assert_array_equal(grouped, blosum62(PROPERTY_ORDER))
    assert sorted(PROPERTY_ORDER) == sorted(STANDARD_AMINO_ACIDS)


def test_blosum62_scores_itself_perfectly_and_its_negation_badly():
    b = blosum62()
    score = score_against_blosum62(b)
    assert score.pearson == pytest.approx(1.0) and score.spearman == pytest.approx(1.0)
    assert score.n_pairs == 190
    assert score_against_blosum62(-b).pearson == pytest.approx(-1.0)
    # only the off-diagonal lower triangle counts: changing the diagonal changes nothing
    b2 = b.copy()
    np.fill_diagonal(b2, 100)
    assert score_against_blosum62(b2).pearson == pytest.approx(1.0)


def test_embedding_similarity_is_cosine_over_standard_rows():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(30, 8))
    sim = embedding_similarity(emb)
    a, c = VOCAB["A"], VOCAB["C"]
    expected = emb[a] @ emb[c] / np.linalg.norm(emb[a]) / np.linalg.norm(emb[c])
    assert sim[0, 1] == pytest.approx(expected)
    np.testing.assert_allclose(np.diag(sim), 1.0)


def test_vig_similarity_from_synthetic_heads():
    """Heads that attend to {I, V} together or to {D, E} together make I~V and D~E."""
    rng = np.random.default_rng(3)
    alphabet = Alphabet()
    n_layers, n_heads, length = 2, 3, 30
    acc = AminoAcidAttention(n_layers * n_heads, thresholds=(0.3, 0.0))
    for _ in range(40):
        seq = "".join(rng.choice(list(STANDARD_AMINO_ACIDS), size=length))
        ids = alphabet.encode(seq, add_special=False)
        maps = np.zeros((n_layers, n_heads, length, length))
        for f in range(n_layers * n_heads):
            preferred = ("IV", "DE", "KR")[f % 3]
            strength = rng.random() * 5 + 1
            weights = np.array([strength if a in preferred else 0.05 for a in seq])
            maps[f // n_heads, f % n_heads] = weights / weights.sum()
        acc.update(maps, ids)
    result = acc.result(0.0, min_weight=10)
    sim = result.similarity_AA
    idx = STANDARD_AMINO_ACIDS.index
    assert sim[idx("I"), idx("V")] > 0.9 and sim[idx("D"), idx("E")] > 0.9
    assert sim[idx("I"), idx("D")] < 0.0
    assert len(result.heads_kept) == 6 and result.n_sequences == 40
    np.testing.assert_allclose(result.proportions_FA.sum(1), 1.0)  # no specials here
    # above theta=0.3 only a few sharp rows survive: some letters are never attended, their
    # vectors are constant, the matrix is not finite, and best_result falls back to theta=0
    assert not np.isfinite(acc.result(0.3, min_weight=10).similarity_AA).all()
    assert acc.best_result(min_weight=10).threshold == 0.0
