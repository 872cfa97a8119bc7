import bz2
import gzip

import pytest

from protein_performer.data.fasta import FastaFormatError, FastaWarning, iter_fasta
from protein_performer.data.prepare import PrepareConfig, prepare


def records_of(path):
    return [(r.header, r.sequence) for r in iter_fasta(path)]


def test_wrapped_crlf_blank_lines_and_trailing_star(tmp_path):
    path = tmp_path / "x.fa"
    path.write_bytes(b">sp|P1|A_B one\r\nMKV\r\nLLA*\r\n\r\n>sp|P2|C_D two\r\n\r\nmkw\r\n")
    assert records_of(path) == [("sp|P1|A_B one", "MKVLLA"), ("sp|P2|C_D two", "mkw")]


def test_gzip_is_detected_from_content_not_name(tmp_path):
    path = tmp_path / "looks_plain.fasta"
    path.write_bytes(gzip.compress(b">a\nMKV\n>b\nWW\n"))
    assert records_of(path) == [("a", "MKV"), ("b", "WW")]


def test_locate_maps_residue_position_to_line_and_column(tmp_path):
    path = tmp_path / "x.fa"
    path.write_text(">a\nMKV\n\nLLAW\nQ\n")
    (record,) = iter_fasta(path)
    assert record.locate(1) == f"{path}:2:1"
    assert record.locate(3) == f"{path}:2:3"
    assert record.locate(5) == f"{path}:4:2"
    assert record.locate(8) == f"{path}:5:1"


def test_text_before_first_header(tmp_path):
    path = tmp_path / "x.fa"
    path.write_text("\nMKV\n>a\nMKV\n")
    with pytest.raises(FastaFormatError, match=rf"^{path}:2: text before the first header"):
        records_of(path)


def test_invalid_character_names_file_line_record_and_position(tmp_path):
    path = tmp_path / "x.fa"
    path.write_text(">sp|P1|A_B ok\nMKV\n>sp|P2|C_D bad\nMKVLL\nAAJAA\n")
    with pytest.raises(
        FastaFormatError,
        match=rf"^{path}:5:3: invalid residue 'J' at position 8 of record 'sp\|P2\|C_D' "
        r"\(header at line 3\)",
    ):
        prepare(PrepareConfig(fasta=str(path), cache_dir=str(tmp_path / "cache")))
    assert not any((tmp_path / "cache").glob("*/meta.json"))


def test_invalid_characters_can_be_mapped_to_x(tmp_path):
    path = tmp_path / "x.fa"
    path.write_text(">sp|P2|C_D bad\nMKJ-\n")
    result = prepare(PrepareConfig(fasta=str(path), cache_dir=str(tmp_path / "c"), unknown="x"))
    rows = [r for split in result.load().values() for r in split]
    assert [r["tokens"] for r in rows] == [[15, 13, 25, 25]]


def test_truncated_gzip(tmp_path):
    path = tmp_path / "x.fasta.gz"
    data = gzip.compress(b"".join(b">r%d\nMKVLLAW\n" % i for i in range(2000)))
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FastaFormatError, match=rf"^{path}:\d+: truncated gzip file"):
        records_of(path)


def test_binary_input_with_nul_bytes(tmp_path):
    path = tmp_path / "x.fa"
    path.write_bytes(b">a\nMKV\n>b\nMK\x00\x01V\n")
    with pytest.raises(FastaFormatError, match=rf"^{path}:4: binary input \(NUL byte\)"):
        records_of(path)


def test_other_compression_is_named(tmp_path):
    path = tmp_path / "x.fasta.bz2"
    path.write_bytes(bz2.compress(b">a\nMKV\n"))
    with pytest.raises(FastaFormatError, match=rf"^{path}:1: binary input: .* bzip2 file"):
        records_of(path)


def test_empty_record_is_warned_and_skipped(tmp_path):
    path = tmp_path / "x.fa"
    path.write_text(">a\nMKV\n>empty one\n\n>star\n*\n>b\nWW\n")
    with pytest.warns(FastaWarning, match="has no residues; skipped") as caught:
        assert records_of(path) == [("a", "MKV"), ("b", "WW")]
    messages = [str(w.message) for w in caught if issubclass(w.category, FastaWarning)]
    assert messages == [
        f"{path}:3: record 'empty' has no residues; skipped",
        f"{path}:5: record 'star' has no residues; skipped",
    ]
