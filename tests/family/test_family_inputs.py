"""Evaluation inputs of a family run: contacts from a structure or a gzipped column map, the
wild type from a ProteinGym `mutated_sequence` column, published scores by scan identity."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pytest

from protein_performer.analysis.column_contacts import (
    read_column_distances,
    structure_column_distances,
)
from protein_performer.analysis.family_inputs import scan_wild_type
from protein_performer.analysis.family_report import published_scores
from protein_performer.analysis.structures import load_chain, load_chain_atoms

DATA = Path(__file__).resolve().parents[2] / "data"
PDZ = DATA / "families" / "PF00595"
SCAN = PDZ / "DLG4_RAT_Ranganathan2012.csv"


def test_structure_distances_match_the_chain_reader():
    atoms = load_chain_atoms(DATA / "bpti" / "5PTI.pdb", "A")
    chain = load_chain(DATA / "bpti" / "5PTI.pdb", "A")
    assert atoms.sequence == chain.sequence
    # Every other residue on a column, in reverse order: the map follows the columns given.
    n = len(atoms.sequence)
    column_of_L = np.full(n, -1)
    column_of_L[::2] = np.arange(len(column_of_L[::2]))[::-1]
    cb_CC, heavy_CC = structure_column_distances(
        atoms.cb_L3, atoms.heavy, column_of_L, len(column_of_L[::2]) + 1
    )
    i, j = 0, 10  # residues 0 and 10 sit on columns column_of_L[0] and column_of_L[10]
    ci, cj = column_of_L[i], column_of_L[j]
    assert cb_CC[ci, cj] == pytest.approx(np.linalg.norm(chain.coords_L3[i] - chain.coords_L3[j]))
    assert heavy_CC[ci, cj] <= cb_CC[ci, cj] + 1e-9  # Cβ are heavy atoms too
    assert np.isnan(cb_CC[-1]).all()  # the column without a residue
    assert np.allclose(cb_CC, cb_CC.T, equal_nan=True)


def test_mmcif_gz_reads_the_same_chain_as_pdb():
    pdb = load_chain_atoms(DATA / "bpti" / "5PTI.pdb", "A")
    cif = load_chain_atoms(DATA / "bpti" / "5PTI.cif.gz", "A")
    assert cif.sequence == pdb.sequence
    assert np.allclose(cif.cb_L3, pdb.cb_L3)


def test_a_file_without_atoms_is_a_one_line_error_that_says_so(tmp_path):
    text = tmp_path / "notes.pdb"
    text.write_text("hello\nworld\n")
    with pytest.raises(ValueError) as error:
        load_chain_atoms(text, "A")
    assert str(error.value) == f"--structure {text}: not a readable structure (no atom records)"


def test_gzipped_column_map_reads_like_the_plain_one(tmp_path):
    plain = DATA / "families" / "PF00014" / "PF00014_struct.dat"
    packed = tmp_path / "PF00014_struct.dat.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    a, b = read_column_distances(plain, 53), read_column_distances(packed, 53)
    assert np.array_equal(a, b, equal_nan=True) and np.isfinite(a).sum() > 1000


def _proteingym_copy(path: Path, wild_type: str, edit=None) -> Path:
    with open(SCAN) as handle:
        rows = list(csv.DictReader(handle))[:40]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["mutant", "mutated_sequence", "DMS_score"])
        for k, row in enumerate(rows):
            a, pos, b = row["mutant"][0], int(row["mutant"][1:-1]) - 310, row["mutant"][-1]
            seq = wild_type[: pos - 1] + b + wild_type[pos:]
            if edit is not None and k == 5:
                seq = edit(seq)
            writer.writerow([f"{a}{pos}{b}", seq, row["CRIPT"]])
    return path


def test_wild_type_from_mutated_sequence(tmp_path):
    wild_type = (PDZ / "DLG4_RAT_PDZ3_wt.fasta").read_text().split("\n", 1)[1].replace("\n", "")
    scan = _proteingym_copy(tmp_path / "scan.csv", wild_type)
    assert scan_wild_type(scan, "mutant", 1, None) == wild_type
    assert scan_wild_type(scan, "mutant", 1, wild_type) == wild_type
    other = wild_type[:30] + ("A" if wild_type[30] != "A" else "G") + wild_type[31:]
    with pytest.raises(ValueError, match="residue 31"):
        scan_wild_type(scan, "mutant", 1, other)


def test_mutated_sequence_rows_must_agree(tmp_path):
    wild_type = (PDZ / "DLG4_RAT_PDZ3_wt.fasta").read_text().split("\n", 1)[1].replace("\n", "")
    scan = _proteingym_copy(
        tmp_path / "scan.csv", wild_type, edit=lambda s: s[:-1] + ("A" if s[-1] != "A" else "G")
    )
    with pytest.raises(ValueError, match="scan.csv:7"):
        scan_wild_type(scan, "mutant", 1, None)


def test_published_scores_only_for_the_known_scan(tmp_path):
    rows = published_scores(SCAN, "CRIPT")
    assert {r["method"] for r in rows} >= {"EVmutation", "DeepSequence", "PSSM"}
    assert published_scores(SCAN, "Tm2F") == []
    changed = tmp_path / "scan.csv"
    changed.write_text(SCAN.read_text().replace("0.09874", "0.09875"))
    assert published_scores(changed, "CRIPT") == []
