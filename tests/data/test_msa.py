"""MSA readers: formats, the gap token, defects with file:line, both views, filters."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from protein_performer.constants import ALIGNED_VOCAB, GAP_ID, VOCAB, VOCAB_SIZE
from protein_performer.data.msa import MSAFormatError, gap_fraction_filter, name_range, read_msa

SHIPPED = Path(__file__).resolve().parents[2] / "data/families/PF00595/PF00595_mgap6.fasta.gz"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_gap_token_is_appended_and_general_ids_unchanged():
    assert GAP_ID == 30 == VOCAB_SIZE
    assert ALIGNED_VOCAB["-"] == 30
    assert {k: v for k, v in ALIGNED_VOCAB.items() if k != "-"} == VOCAB
    assert VOCAB["A"] == 5 and VOCAB["Y"] == 24 and VOCAB["X"] == 25 and VOCAB["<pad>"] == 0


def test_aligned_fasta_tokens_and_views(tmp_path):
    path = write(tmp_path, "fam.fasta", ">a/1-4\nAC-DE\n>b\n-CKDE\n")
    msa = read_msa(path)
    assert msa.depth == 2 and msa.width == 5
    assert msa.tokens_NC[0].tolist() == [5, 6, GAP_ID, 7, 8]
    assert msa.aligned(1) == "-CKDE"
    assert msa.unaligned(0) == "ACDE"
    assert name_range(msa.names[0]) == ("a", 1, 4)


def test_a2m_and_a3m_insertions_are_not_columns(tmp_path):
    a2m = write(tmp_path, "fam.a2m", ">q\nAC..DE\n>h\nAckDE-\n")
    msa = read_msa(a2m)
    assert msa.width == 4
    assert msa.aligned(1) == "ADE-" and msa.unaligned(1) == "ACKDE"
    a3m = write(tmp_path, "fam.a3m", ">q\nACDE\n>h\nAgggC-E\n")
    msa3 = read_msa(a3m)
    assert msa3.aligned(1) == "AC-E" and msa3.unaligned(1) == "AGGGCE"


def test_stockholm_through_biopython(tmp_path):
    path = write(
        tmp_path, "fam.sto",
        "# STOCKHOLM 1.0\nseq1/1-4 AC-DE\nseq2/3-7 ACKDE\n//\n",
    )  # fmt: skip
    msa = read_msa(path)
    assert msa.names == ("seq1/1-4", "seq2/3-7")
    assert msa.aligned(0) == "AC-DE"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("ragged.fasta", ">a\nACDE\n>b\nACD\n", "ragged.fasta:3: ragged alignment"),
        (
            "illegal.fasta",
            ">a\nACDE\n>b\nAC#E\n",
            "illegal.fasta:3: row 'b': illegal character '#'",
        ),
        ("lower.fasta", ">a\nACDE\n>b\nACdE\n", "pass --data.msa_format a2m to `family`"),
        ("empty.fasta", "\n\n", "empty.fasta:1: empty alignment"),
        ("headers.fasta", ">a\n>b\n", "headers.fasta:1: record .a. has no columns"),
    ],
)
def test_defects_name_file_and_line(tmp_path, name, text, message):
    path = write(tmp_path, name, text)
    with pytest.raises(MSAFormatError, match=message.replace("(", r"\(")):
        read_msa(path)


def test_missing_file_and_absent_query(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such alignment file"):
        read_msa(tmp_path / "nope.fasta")
    msa = read_msa(write(tmp_path, "ok.fasta", ">a\nAC\n"))
    with pytest.raises(KeyError, match="no row named 'zz'"):
        msa.row_index("zz")


def test_gap_filters_keep_the_column_link(tmp_path):
    path = write(tmp_path, "g.fasta", ">a\nA-CD\n>b\nA--D\n>c\n----\n")
    msa = read_msa(path)
    out = gap_fraction_filter(msa, max_col_gaps=0.5, max_row_gaps=0.5)
    assert out.columns_C.tolist() == [0, 3]  # columns 1 and 2 are mostly gaps
    assert out.names == ("a", "b")  # row c is all gaps
    with pytest.raises(ValueError, match="max_row_gaps"):
        gap_fraction_filter(msa, max_row_gaps=2.0)


def test_shipped_family_streams_from_gzip():
    with gzip.open(SHIPPED, "rt") as handle:
        first = handle.readline()
    msa = read_msa(SHIPPED)
    assert (msa.depth, msa.width) == (36_690, 82)
    assert msa.names[0] == first[1:].split()[0]
    assert np.isin(msa.tokens_NC, list(ALIGNED_VOCAB.values())).all()


def test_stockholm_without_its_terminator_is_refused(tmp_path):
    path = write(tmp_path, "cut.sto", "# STOCKHOLM 1.0\na ACDE\nb ACDF\n")
    with pytest.raises(MSAFormatError, match=r"cut.sto:3: .*'//' terminator"):
        read_msa(path)
    path.write_text(path.read_text() + "//\n")
    assert read_msa(path).depth == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [(">a\nACDE\n", "1 row"), (">a\n----\n>b\n----\n", "all gaps")],
)
def test_untrainable_alignments_are_refused(tmp_path, text, message):
    from protein_performer.data.msa import check_trainable

    msa = read_msa(write(tmp_path, "x.fasta", text))
    with pytest.raises(MSAFormatError, match=message):
        check_trainable(msa)
    check_trainable(read_msa(write(tmp_path, "ok.fasta", ">a\nAC-E\n>b\nACDE\n")))
