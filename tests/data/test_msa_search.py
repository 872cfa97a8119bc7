"""`protein-performer msa`: jackhmmer over a slice of the shipped UniProt sample, written as an
A2M that the alignment reader and `family` accept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from protein_performer.constants import GAP_ID
from protein_performer.data.fasta import iter_fasta
from protein_performer.data.msa import read_msa
from protein_performer.data.msa_cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "uniprot_sample.fasta.gz"
QUERY = "CYNR_ECOLI"  # a LysR-family regulator: its family has members among the first records
N_DB = 3000


@pytest.fixture(scope="module")
def search_inputs(tmp_path_factory) -> tuple[Path, Path, str]:
    out = tmp_path_factory.mktemp("msa")
    records = []
    for record in iter_fasta(SAMPLE):
        records.append(record)
        if len(records) >= N_DB:
            break
    query = next(r for r in records if QUERY in r.name)
    (out / "db.fasta").write_text("".join(f">{r.name}\n{r.sequence}\n" for r in records))
    (out / "wt.fasta").write_text(f">{query.name}\n{query.sequence}\n")
    return out / "wt.fasta", out / "db.fasta", query.sequence


def test_msa_builds_an_a2m_over_the_query(tmp_path, search_inputs, capsys):
    wt, db, sequence = search_inputs
    out = tmp_path / "family.a2m"
    argv = ["--query", str(wt), "--db", str(db), "--out", str(out), "--iterations", "2",
            "--bitscore", "0.2", "--cpus", "1", "--min-coverage", "0.5"]  # fmt: skip
    assert main(argv) == 0
    msa = read_msa(out)
    assert msa.depth > 3, msa.names
    assert msa.names[0].split("/")[0] in open(wt).read() and msa.names[0].endswith(
        f"/1-{len(sequence)}"
    )
    # The query row holds the whole query: columns in upper case, the rest as insertions.
    first = next(iter(iter_fasta(out))).sequence
    assert "".join(c for c in first if c.isalpha()).upper() == sequence
    assert msa.width <= len(sequence)
    # Every hit kept covers at least half of the query's residues (the coverage filter, taken
    # before the column filter, so over the kept columns it can only be lower by their share).
    residues_N = (msa.tokens_NC != GAP_ID).sum(1)
    assert np.all(residues_N[1:] > 0)
    assert len(set(msa.names)) == msa.depth
    # A second run refuses to replace the file unless told to.
    assert main(argv) == 2
    assert "--force" in capsys.readouterr().err


def test_msa_rejects_bad_thresholds(tmp_path, search_inputs, capsys):
    wt, db, _ = search_inputs
    code = main(["--query", str(wt), "--db", str(db), "--out", str(tmp_path / "x.a2m"),
                 "--min-coverage", "1.5"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--min-coverage" in err[0]
    assert not (tmp_path / "x.a2m").exists()
