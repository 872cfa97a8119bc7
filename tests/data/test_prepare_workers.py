"""Pass 1 in worker processes gives the same splits and the same shard bytes as one process."""

from __future__ import annotations

import pytest

from protein_performer.data.fasta import FastaFormatError
from protein_performer.data.prepare import PrepareConfig, prepare
from protein_performer.data.prepare_pass1 import CHUNK_RECORDS


def _config(path, cache, workers):
    return PrepareConfig(
        fasta=str(path), cache_dir=str(cache), workers=workers, bucket_bytes=16 << 10,
        shard_bytes=8192,
    )  # fmt: skip


def test_any_worker_count_gives_identical_shards(tmp_path, fasta_factory, make_records):
    records = make_records(CHUNK_RECORDS + 700, taxa=(9606, 5851))  # more than one chunk
    records += records[:50]  # duplicates across chunks
    path = fasta_factory(records=records)
    one = prepare(_config(path, tmp_path / "one", 1))
    two = prepare(_config(path, tmp_path / "two", 2))
    assert one.path.name == two.path.name  # workers is not part of the fingerprint
    assert one.meta["splits"] == two.meta["splits"]  # shard files, rows, checksums
    assert one.meta["stats"] == two.meta["stats"]
    assert one.meta["ood_taxa_found"] == two.meta["ood_taxa_found"]
    assert one.meta["duplicates_removed"] == 50


def test_an_invalid_residue_in_a_worker_names_its_line(tmp_path):
    path = tmp_path / "bad.fasta"
    path.write_text(">sp|P1|A_HUMAN a OX=9606\nMKV\n>sp|P2|B_HUMAN b OX=9606\nMK1V\n")
    with pytest.raises(FastaFormatError, match=r"bad.fasta:4:3: invalid residue '1'"):
        prepare(_config(path, tmp_path / "c", 2))
