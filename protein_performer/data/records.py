"""Pass 1 of preparation: stream FASTA records, tokenise them, and spill them into buckets.

Kept apart from `prepare` because this is the only per-record Python loop of the pipeline, and so
the one place where throughput is won or lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from protein_performer.data.fasta import FastaFormatError, iter_fasta
from protein_performer.data.headers import parse_header
from protein_performer.data.shards import BucketSpill
from protein_performer.data.splits import key_hash, sequence_digest
from protein_performer.data.tokenizer import Alphabet, InvalidResidueError

if TYPE_CHECKING:
    from protein_performer.data.prepare import PrepareConfig


@dataclass
class Pass1Counts:
    records: int = 0  # non-empty records read
    residues: int = 0
    empty: int = 0  # empty records skipped (each also warned about)
    # held-out taxon id -> {"organism": OS= of its first record, "records": count}
    ood_taxa_found: dict[str, dict] = field(default_factory=dict)


def encode_records(
    fasta: Path,
    config: PrepareConfig,
    spill: BucketSpill,
    progress: Callable[[int, int], None] | None = None,
) -> Pass1Counts:
    """Read `fasta`, tokenise every record, and add it to its digest bucket in `spill`;
    `progress(bytes_read, bytes_total)` follows the file position."""
    alphabet = Alphabet(config.unknown)
    ood_taxa = frozenset(config.ood_taxa)
    ood_accessions = frozenset(config.ood_accessions)
    n_buckets = spill.n_buckets
    counts = Pass1Counts()

    def count_empty(_: str) -> None:
        counts.empty += 1

    total = fasta.stat().st_size
    on_progress = None if progress is None else (lambda done: progress(done, total))
    for record in iter_fasta(fasta, on_empty=count_empty, on_progress=on_progress):
        info = parse_header(record.header)
        try:
            ids = alphabet.encode(record.sequence, add_special=False)
        except InvalidResidueError as err:
            raise FastaFormatError(
                f"{record.locate(err.position)}: invalid residue {err.char!r} at position "
                f"{err.position} of record {record.name!r} (header at line {record.line}); "
                f"expected one of the 25 amino-acid letters, or prepare with --unknown x to map "
                f"other characters to X"
            ) from err
        digest_hi, digest_lo = sequence_digest(ids)
        split_key = info.split_key
        is_ood = info.taxon_id in ood_taxa or bool(
            ood_accessions and {info.accession, split_key} & ood_accessions
        )
        if info.taxon_id in ood_taxa:
            found = counts.ood_taxa_found.setdefault(
                str(info.taxon_id), {"organism": info.organism, "records": 0}
            )
            found["records"] += 1
        counts.records += 1
        counts.residues += len(ids)
        # Same arithmetic as splits.bucket_of, in plain ints: this runs once per record.
        bucket = ((digest_hi >> 32) * n_buckets) >> 32
        spill.add(
            bucket,
            {
                "digest_hi": digest_hi,
                "digest_lo": digest_lo,
                "key_hash": key_hash(split_key, config.split_salt),
                "is_ood": is_ood,
                "accession": info.accession,
                "taxon_id": -1 if info.taxon_id is None else info.taxon_id,
                "length": len(ids),
                "tokens": ids,
            },
        )
    if progress is not None:
        progress(total, total)
    return counts
