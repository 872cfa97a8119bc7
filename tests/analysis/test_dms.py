"""Scan parsing (offset, multi-mutants, synonymous rows, mismatches) and the PSSM baseline."""

from __future__ import annotations

import numpy as np
import pytest

from protein_performer.analysis.dms import (
    SCORED,
    SYNONYMOUS,
    UNSCORABLE,
    read_scan,
    variant_status,
)
from protein_performer.analysis.pssm import column_log_frequencies, pssm_scores
from protein_performer.analysis.rank_correlation import paired_bootstrap, spearman
from protein_performer.analysis.variant_scores import aligned_frame
from protein_performer.constants import GAP_ID, VOCAB
from protein_performer.data.msa import read_msa
from protein_performer.data.msa_mapping import map_by_hmmalign, map_by_row

WT = "MKTAYIAK"  # numbered from 10: M10 K11 T12 A13 Y14 I15 A16 K17


def scan_file(tmp_path, rows):
    path = tmp_path / "scan.csv"
    path.write_text("mutant,fitness\n" + "".join(f"{m},{s}\n" for m, s in rows))
    return path


def test_offset_multi_and_synonymous(tmp_path):
    path = scan_file(tmp_path, [("K11A", 0.5), ("K11A:Y14W", -1.0), ("I15I", 0.0)])
    scan = read_scan(path, WT, score_column="fitness", offset=10)
    single, double, syn = scan.variants
    assert [(m.wild_type, m.position, m.mutant) for m in single.mutations] == [("K", 1, "A")]
    assert [m.position for m in double.mutations] == [1, 4]
    assert syn.mutations == ()
    assert scan.measured.tolist() == [0.5, -1.0, 0.0]
    position_of = np.array([1, 2, 3, 4, -1, 6, 7, 8])  # residue Y14 has no column
    assert [variant_status(v, position_of) for v in scan.variants] == [SCORED, UNSCORABLE,
                                                                       SYNONYMOUS]  # fmt: skip


def test_wild_type_mismatch_names_the_variant_and_line(tmp_path):
    path = scan_file(tmp_path, [("K11A", 0.5), ("T11A", 0.1)])
    with pytest.raises(ValueError, match=r"scan.csv:3: variant 'T11A'.*has 'K' at position 11"):
        read_scan(path, WT, score_column="fitness", offset=10)


def test_missing_score_column_names_the_flag(tmp_path):
    path = scan_file(tmp_path, [("K11A", 0.5)])
    with pytest.raises(ValueError, match="no column 'CRIPT' \\(--score-column\\)"):
        read_scan(path, WT, score_column="CRIPT", offset=10)


def test_pssm_hand_computed(tmp_path):
    # Column 0: A, A, C with weights 1, 1, 2 -> counts A=2, C=2; pseudocount 1 over 21 symbols.
    tokens = np.array([[VOCAB["A"]], [VOCAB["A"]], [VOCAB["C"]]], dtype=np.int8)
    log_f = column_log_frequencies(tokens, np.array([1.0, 1.0, 2.0]), pseudocount=1.0)
    assert np.exp(log_f[0, VOCAB["A"]]) == pytest.approx(3 / 25)
    assert np.exp(log_f[0, VOCAB["C"]]) == pytest.approx(3 / 25)
    assert np.exp(log_f[0, GAP_ID]) == pytest.approx(1 / 25)
    assert np.exp(log_f[0, VOCAB["D"]]) == pytest.approx(1 / 25)
    assert np.isneginf(log_f[0, VOCAB["X"]])
    msa_path = tmp_path / "one.fasta"
    msa_path.write_text(">wt/1-1\nA\n")
    cmap = map_by_row(read_msa(msa_path), "wt/1-1", "A", offset=1)
    scan = read_scan(scan_file(tmp_path, [("A1D", 1.0), ("A1C", 2.0)]), "A",
                     score_column="fitness")  # fmt: skip
    scores = pssm_scores(log_f, aligned_frame(cmap), list(scan.variants))
    np.testing.assert_allclose(scores, [np.log(1 / 3), 0.0])


def test_row_and_hmmalign_mapping_round_trip(tmp_path):
    rows = [">q/3-9\nKTAY-IA\n", ">h1\nKTAW-IA\n", ">h2\nRTAYLIA\n", ">h3\nKSAY-IV\n"]
    path = tmp_path / "fam.fasta"
    path.write_text("".join(rows))
    msa = read_msa(path)
    cmap = map_by_row(msa, "q/3-9", WT, offset=10)
    # WT residues K T A Y I A sit in columns 0 1 2 3 5 6; M (first) and K (last) in none.
    assert cmap.residue_to_column.tolist() == [-1, 0, 1, 2, 3, 5, 6, -1]
    assert cmap.aligned() == msa.aligned(0)
    assert cmap.column_to_residue.tolist() == [1, 2, 3, 4, -1, 5, 6]
    assert cmap.column_of(11) == 0 and cmap.column_of(10) == -1
    hmm = map_by_hmmalign(msa, WT, offset=10)
    assert hmm.aligned() == msa.aligned(0)


def test_spearman_and_paired_interval():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=400)
    good, bad = truth + rng.normal(size=400) * 0.5, truth + rng.normal(size=400) * 3
    rho = spearman(good, truth, n_boot=300)
    assert rho.low < rho.rho < rho.high and rho.rho > 0.8
    diff = paired_bootstrap(good, bad, truth, n_boot=300)
    assert diff.low > 0
    assert spearman(np.where(truth > 0, np.nan, good), truth).n < 400
