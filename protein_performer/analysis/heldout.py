"""Held-out sequences for the analyses (the test split, never seen in training).

Preferred source: the prepared dataset of `make data` (`data.prepare`), whose test split is
already deduplicated against training; rows are taken in its stored order (by sequence digest,
so uncorrelated with length or taxon). When no preparation is cached, the same records are
found by streaming the FASTA and applying the same split rule (`data.splits`: stable hash of the
split key, held-out taxa excluded); only the cross-split deduplication is skipped there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from protein_performer.data.fasta import iter_fasta
from protein_performer.data.fingerprint import content_digest, fingerprint_of
from protein_performer.data.headers import parse_header
from protein_performer.data.prepare import (
    FORMAT_VERSION,
    PrepareConfig,
    is_complete,
    load_prepared,
)
from protein_performer.data.splits import TEST, key_hash, split_from_hash
from protein_performer.data.tokenizer import Alphabet


@dataclass(frozen=True)
class HeldOut:
    sequences: tuple[str, ...]
    source: str  # where they came from, for the report


def prepared_path(config: PrepareConfig) -> Path | None:
    """Directory of the complete cached preparation for `config`, or None (never builds)."""
    fasta, cache_dir = Path(config.fasta), Path(config.cache_dir)
    if not fasta.is_file() or not cache_dir.is_dir():
        return None
    fingerprint = fingerprint_of(
        content_digest(fasta, cache_dir), config.fingerprinted(), FORMAT_VERSION
    )
    path = cache_dir / fingerprint
    return path if is_complete(path, fingerprint) else None


def from_prepared(path: Path, n: int) -> tuple[str, ...]:
    """The first `n` sequences of the prepared test split at `path`."""
    test = load_prepared(path)["test"]
    alphabet = Alphabet()
    rows = test.select(range(min(n, len(test))))
    return tuple(alphabet.decode(np.asarray(t, dtype=np.int64)) for t in rows["tokens"])


def from_fasta(config: PrepareConfig, n: int) -> tuple[str, ...]:
    """The first `n` test-split records of `config.fasta`, in file order."""
    out: list[str] = []
    ood_taxa = frozenset(config.ood_taxa)
    for record in iter_fasta(config.fasta):
        info = parse_header(record.header)
        if info.taxon_id in ood_taxa or info.accession in config.ood_accessions:
            continue
        hash_u64 = np.array([key_hash(info.split_key, config.split_salt)], dtype=np.uint64)
        if split_from_hash(hash_u64, config.valid_fraction, config.test_fraction)[0] == TEST:
            out.append(record.sequence.upper())
            if len(out) >= n:
                break
    return tuple(out)


def held_out_sequences(n: int, config: PrepareConfig | None = None) -> HeldOut:
    """`n` test-split sequences, from the prepared dataset if cached, else from the FASTA."""
    config = config or PrepareConfig()
    path = prepared_path(config)
    if path is not None:
        return HeldOut(from_prepared(path, n), f"prepared test split {path}")
    if not Path(config.fasta).is_file():
        raise FileNotFoundError(
            f"{config.fasta}: FASTA not found and no prepared dataset under "
            f"{config.cache_dir}/ (run `make data`)"
        )
    return HeldOut(from_fasta(config, n), f"test-split records streamed from {config.fasta}")
