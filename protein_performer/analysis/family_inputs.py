"""The inputs of a family evaluation, read and checked before any training: the wild type
placed on the alignment's columns, the scan parsed against it (and its coverage of the
columns), and the true contacts, from a column contact map or from a structure.

Every problem is a one-line `ValueError` naming the flag and file, so that `protein-performer
family` can refuse a launch before its first step and before it writes anything.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from protein_performer.analysis.column_contacts import (
    read_column_distances,
    structure_column_distances,
)
from protein_performer.analysis.dms import Scan, read_scan, status_counts, variant_status
from protein_performer.analysis.mutations import parse_mutations
from protein_performer.analysis.structures import load_chain_atoms
from protein_performer.analysis.variant_scores import aligned_frame
from protein_performer.data.fasta import iter_fasta
from protein_performer.data.msa import MSA, read_msa
from protein_performer.data.msa_mapping import (
    ColumnMap,
    local_placement,
    map_wild_type,
    row_as_wild_type,
)

MUTATED_SEQUENCE = "mutated_sequence"  # ProteinGym's column of each variant's full sequence
# A structure is the wild type's if its chain matches it this closely over most of its columns.
_MIN_STRUCTURE_IDENTITY = 0.9
_MIN_STRUCTURE_COVER = 0.5


@dataclass(frozen=True)
class ContactTruth:
    """True distances over the model's columns, and the threshold below which a pair is a
    contact; `kind` says what was measured (a column map's value, Cβ, heavy atoms)."""

    threshold: float
    kind: str
    dist_CC: np.ndarray


@dataclass(frozen=True)
class EvalInputs:
    """What a family evaluation runs on; `scan`/`truths` are None/() when not asked for."""

    column_map: ColumnMap | None
    scan: Scan | None
    statuses: tuple[str, ...]
    truths: tuple[ContactTruth, ...]
    contacts_source: str | None


def scan_coverage(statuses: list[str]) -> tuple[int, int, float]:
    """(scored, non-synonymous, share): how much of a scan falls on the columns."""
    counts = status_counts(list(statuses))
    changing = counts["scored"] + counts["unscorable"]
    return counts["scored"], changing, counts["scored"] / changing if changing else 1.0


def read_wild_type(path: str | Path, flag: str = "--eval.wild_type") -> str:
    if not Path(path).is_file():
        raise FileNotFoundError(f"{flag} {path}: no such file")
    records = list(iter_fasta(path))
    if not records:
        raise ValueError(f"{flag} {path}: no wild-type record")
    return records[0].sequence.upper()


def scan_wild_type(
    path: str | Path, mutant_column: str, offset: int, wild_type: str | None
) -> str | None:
    """The wild type a ProteinGym `mutated_sequence` column implies (each row's sequence with
    its mutations reverted; every row must agree), checked against `wild_type` when given.
    Without that column, `wild_type` itself."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--eval.scan {path}: no such scan file")
    implied: str | None = None
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        if MUTATED_SEQUENCE not in header or mutant_column not in header:
            return wild_type
        for line, row in enumerate(reader, start=2):
            sequence = (row[MUTATED_SEQUENCE] or "").strip().upper()
            letters = list(sequence)
            try:
                # Parsing against the variant's own sequence checks each mutant letter.
                mutated = tuple(parse_mutations(
                    _swap(row[mutant_column] or ""), sequence, offset=offset,
                    allow_synonymous=True,
                ))  # fmt: skip
            except ValueError as error:
                raise ValueError(
                    f"--eval.scan {path}:{line}: {MUTATED_SEQUENCE}: {error}"
                ) from None
            for m in mutated:
                letters[m.position] = m.mutant  # `_swap` made `mutant` the wild-type letter
            row_wt = "".join(letters)
            if implied is None:
                implied = row_wt
            elif row_wt != implied:
                raise ValueError(
                    f"--eval.scan {path}:{line}: {MUTATED_SEQUENCE} implies another wild type "
                    f"than line 2's"
                )
    if implied is not None and wild_type is not None and implied != wild_type:
        pairs = zip(implied, wild_type, strict=False)
        shorter = min(len(implied), len(wild_type))
        where = next((i for i, (a, b) in enumerate(pairs) if a != b), shorter)
        raise ValueError(
            f"--eval.wild_type differs from the wild type of {path}'s {MUTATED_SEQUENCE} column "
            f"at residue {where + offset} (lengths {len(wild_type)} and {len(implied)})"
        )
    return implied if implied is not None else wild_type


def _swap(text: str) -> str:
    """`A12G:K15R` -> `G12A:R15K`: the variant read from the mutated sequence's side."""
    parts = []
    for part in text.strip().split(":"):
        part = part.strip()
        parts.append(f"{part[-1]}{part[1:-1]}{part[0]}" if len(part) >= 3 else part)
    return ":".join(parts)


def place_wild_type(msa: MSA, cfg, wild_type: str | None) -> ColumnMap | None:
    """The wild type on the columns (its row `cfg.query`, else hmmalign). Without a wild type,
    the row `cfg.query` (or the first row) stands in where contacts need a sequence."""
    if wild_type is not None:
        return map_wild_type(msa, wild_type, cfg.offset, cfg.query)
    if cfg.query or cfg.contacts or cfg.structure:
        return row_as_wild_type(msa, cfg.query)
    return None


def check_scan(scan: Scan, column_map: ColumnMap, statuses: list[str], min_coverage: float):
    scored, changing, coverage = scan_coverage(statuses)
    if coverage < min_coverage:
        raise ValueError(
            f"--eval.scan {scan.path}: only {scored} of {changing} variants "
            f"({coverage:.1%}) fall on the alignment's columns (wild type placed by "
            f"{column_map.method}), below --eval.min_coverage {min_coverage:g}; is it a scan of "
            f"this family's protein, with the right --eval.wild_type and --eval.offset?"
        )


def file_columns(msa: MSA, max_col_gaps: float) -> int:
    """Number of columns of the alignment file (before any column filter)."""
    if max_col_gaps >= 1.0:
        return msa.width
    return read_msa(msa.path).width


def column_map_truths(path: str, msa: MSA, n_file_columns: int) -> tuple[ContactTruth, ...]:
    """A column contact map in the file's columns, on the columns the model keeps."""
    try:
        dist_FF = read_column_distances(path, n_file_columns)
    except (FileNotFoundError, ValueError) as error:
        raise ValueError(f"--eval.contacts {error}") from None
    dist_CC = dist_FF[np.ix_(msa.columns_C, msa.columns_C)]
    return tuple(ContactTruth(t, "column map", dist_CC) for t in (4.5, 8.0))


def structure_truths(path: str, chain: str, column_map: ColumnMap) -> tuple[ContactTruth, ...]:
    """Contacts of one chain, placed on the columns through the wild type it must match."""
    atoms = load_chain_atoms(path, chain, flag="--eval.structure")
    wt_of_L, identity = local_placement(atoms.sequence, column_map.wild_type)
    on_columns = column_map.residue_to_column >= 0
    placed = wt_of_L[wt_of_L >= 0]
    cover = on_columns[placed].sum() / max(int(on_columns.sum()), 1)
    if identity < _MIN_STRUCTURE_IDENTITY or cover < _MIN_STRUCTURE_COVER:
        raise ValueError(
            f"--eval.structure {path} chain {chain}: its sequence does not match the wild type "
            f"({column_map.method}): {identity:.0%} identity over the aligned part, covering "
            f"{cover:.0%} of the wild type's residues on the columns"
        )
    column_of_L = np.where(wt_of_L >= 0, column_map.residue_to_column[wt_of_L], -1)
    cb_CC, heavy_CC = structure_column_distances(
        atoms.cb_L3, atoms.heavy, column_of_L, column_map.n_columns
    )
    return (ContactTruth(4.5, "heavy atoms", heavy_CC), ContactTruth(8.0, "Cβ", cb_CC))


def identity_map(wild_type: str, offset: int) -> ColumnMap:
    """Without an alignment every residue is its own column (unaligned models only)."""
    n = len(wild_type)
    return ColumnMap(wild_type, offset, np.arange(n, dtype=np.int64), "identity", n)


def read_inputs(msa: MSA | None, cfg, *, max_col_gaps: float = 1.0) -> EvalInputs:
    """Read and check every evaluation input of `cfg` (`FamilyEvalConfig`) against `msa` (None:
    no alignment, every wild-type residue its own column). Raises on the first problem."""
    wild_type = read_wild_type(cfg.wild_type) if cfg.wild_type else None
    if cfg.scan:
        wild_type = scan_wild_type(cfg.scan, cfg.mutant_column, cfg.offset, wild_type)
        if wild_type is None:
            raise ValueError(
                f"--eval.scan {cfg.scan}: give the wild type it mutates (--eval.wild_type "
                f"FASTA), or a scan with a {MUTATED_SEQUENCE} column"
            )
    if msa is None:
        if wild_type is None:
            raise ValueError("without an alignment, the evaluation needs a wild type")
        column_map = identity_map(wild_type, cfg.offset)
    else:
        column_map = place_wild_type(msa, cfg, wild_type)
    scan, statuses = None, []
    if cfg.scan:
        scan = read_scan(
            cfg.scan, wild_type, score_column=cfg.score_column, offset=cfg.offset,
            mutant_column=cfg.mutant_column,
        )  # fmt: skip
        frame = aligned_frame(column_map)
        statuses = [variant_status(v, frame.position_of) for v in scan.variants]
        if msa is not None:
            check_scan(scan, column_map, statuses, cfg.min_coverage)
    truths: tuple[ContactTruth, ...] = ()
    source = None
    if cfg.contacts:
        source = cfg.contacts
        if msa is None:
            dist_CC = read_column_distances(cfg.contacts, column_map.n_columns)
            truths = tuple(ContactTruth(t, "column map", dist_CC) for t in (4.5, 8.0))
        else:
            truths = column_map_truths(cfg.contacts, msa, file_columns(msa, max_col_gaps))
    elif cfg.structure:
        source = f"{cfg.structure} chain {cfg.chain}"
        truths = structure_truths(cfg.structure, cfg.chain, column_map)
    return EvalInputs(column_map, scan, tuple(statuses), truths, source)
