"""Pass 1 of preparation: stream FASTA records, tokenise them, and spill them into buckets.

Kept apart from `prepare` because this is the only per-record Python loop of the pipeline, and so
the one place where throughput is won or lost.

With `workers > 1`, chunks of `CHUNK_RECORDS` records are tokenised and hashed in worker
processes while this process keeps reading the FASTA and spilling; results are spilled in input
order, so the spill files, and therefore every split and shard, are byte-identical for any
worker count. At most `2 x workers` chunks are in flight, so memory stays bounded.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protein_performer.data.fasta import FastaFormatError, FastaRecord, iter_fasta
from protein_performer.data.headers import parse_header
from protein_performer.data.shards import BucketSpill
from protein_performer.data.splits import key_hash, sequence_digest
from protein_performer.data.tokenizer import Alphabet, InvalidResidueError

if TYPE_CHECKING:  # prepare imports this module (its pass 1); here only the type is named
    from protein_performer.data.prepare import PrepareConfig

CHUNK_RECORDS = 2048


@dataclass
class Pass1Counts:
    records: int = 0  # non-empty records read
    residues: int = 0
    empty: int = 0  # empty records skipped (each also warned about)
    # held-out taxon id -> {"organism": OS= of its first record, "records": count}
    ood_taxa_found: dict[str, dict] = field(default_factory=dict)


@dataclass(frozen=True)
class _Options:
    """What tokenising a record needs, picklable for worker processes."""

    unknown: str
    ood_taxa: frozenset[int]
    ood_accessions: frozenset[str]
    split_salt: str
    n_buckets: int


def _encode_chunk(records: list[FastaRecord], options: _Options) -> list[tuple[int, dict, Any]]:
    """`(bucket, spill row, (taxon, organism) if held-out taxon else None)` per record."""
    alphabet = Alphabet(options.unknown)
    out = []
    for record in records:
        info = parse_header(record.header)
        try:
            ids = alphabet.encode(record.sequence, add_special=False)
        except InvalidResidueError as err:
            raise FastaFormatError(
                f"{record.locate(err.position)}: invalid residue {err.char!r} at position "
                f"{err.position} of record {record.name!r} (header at line {record.line}); "
                f"expected one of the 25 amino-acid letters, or prepare with --unknown x to map "
                f"other characters to X"
            ) from None  # the message says it all, and the error must pickle across processes
        digest_hi, digest_lo = sequence_digest(ids)
        split_key = info.split_key
        held_taxon = info.taxon_id in options.ood_taxa
        is_ood = held_taxon or bool(
            options.ood_accessions and {info.accession, split_key} & options.ood_accessions
        )
        # Same arithmetic as splits.bucket_of, in plain ints: this runs once per record.
        bucket = ((digest_hi >> 32) * options.n_buckets) >> 32
        row = {
            "digest_hi": digest_hi,
            "digest_lo": digest_lo,
            "key_hash": key_hash(split_key, options.split_salt),
            "is_ood": is_ood,
            "accession": info.accession,
            "taxon_id": -1 if info.taxon_id is None else info.taxon_id,
            "length": len(ids),
            "tokens": ids,
        }
        out.append((bucket, row, (info.taxon_id, info.organism) if held_taxon else None))
    return out


def _chunks(records: Iterable[FastaRecord], size: int) -> Iterator[list[FastaRecord]]:
    chunk: list[FastaRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _in_order(
    chunks: Iterator[list[FastaRecord]], options: _Options, workers: int
) -> Iterator[list[tuple[int, dict, Any]]]:
    """Encoded chunks in input order, from `workers` processes (or this one)."""
    if workers <= 1:
        for chunk in chunks:
            yield _encode_chunk(chunk, options)
        return
    # spawn, not fork: the caller may hold threads (a progress bar, Lightning).
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pending: deque = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(_encode_chunk, (chunk, options)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def encode_records(
    fasta: Path,
    config: PrepareConfig,
    spill: BucketSpill,
    progress: Callable[[int, int], None] | None = None,
) -> Pass1Counts:
    """Read `fasta`, tokenise every record, and add it to its digest bucket in `spill`;
    `progress(bytes_read, bytes_total)` follows the file position."""
    options = _Options(
        config.unknown,
        frozenset(config.ood_taxa),
        frozenset(config.ood_accessions),
        config.split_salt,
        spill.n_buckets,
    )
    counts = Pass1Counts()

    def count_empty(_: str) -> None:
        counts.empty += 1

    total = fasta.stat().st_size
    on_progress = None if progress is None else (lambda done: progress(done, total))
    records = iter_fasta(fasta, on_empty=count_empty, on_progress=on_progress)
    for encoded in _in_order(_chunks(records, CHUNK_RECORDS), options, config.workers):
        for bucket, row, held in encoded:
            if held is not None:
                taxon, organism = held
                found = counts.ood_taxa_found.setdefault(
                    str(taxon), {"organism": organism, "records": 0}
                )
                found["records"] += 1
            counts.records += 1
            counts.residues += row["length"]
            spill.add(bucket, row)
    if progress is not None:
        progress(total, total)
    return counts
