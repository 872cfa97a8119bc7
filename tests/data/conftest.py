"""Shared fixtures for the data tests: small synthetic UniProt-style FASTA files."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

AMINO = "ACDEFGHIKLMNPQRSTVWY"
Record = tuple[str, str]  # (header without '>', sequence)


def uniprot_records(n: int, seed: int = 0, taxa: tuple[int, ...] = (9606, 562, 5851)) -> list:
    """`n` distinct tr| records with random lengths 5..300 and OX= drawn from `taxa`."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        length = int(rng.integers(5, 300))
        seq = "".join(rng.choice(list(AMINO), size=length))
        taxon = int(rng.choice(taxa))
        acc = f"A{i:07d}"
        records.append(
            (f"tr|{acc}|{acc}_TEST Protein {i} OS=Org {taxon} OX={taxon} PE=4 SV=1", seq)
        )
    return records


def write_fasta(path: Path, records: list[Record], *, wrap: int = 60, newline: str = "\n") -> Path:
    lines = []
    for header, seq in records:
        lines.append(">" + header)
        lines += [seq[i : i + wrap] for i in range(0, len(seq), wrap)]
    text = newline.join(lines) + newline
    if path.suffix == ".gz":
        with gzip.open(path, "wt", newline="") as fh:
            fh.write(text)
    else:
        path.write_text(text, newline="")
    return path


@pytest.fixture
def fasta_factory(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str = "sample.fasta", records: list[Record] | None = None, **kw) -> Path:
        return write_fasta(
            tmp_path / name, records if records is not None else uniprot_records(300), **kw
        )

    return make


@pytest.fixture
def make_records() -> Callable[..., list[Record]]:
    return uniprot_records
