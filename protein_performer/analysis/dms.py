"""Deep mutational scans in the ProteinGym layout, placed on what a model sees.

A scan is a CSV with a `mutant` column (`A12G`, multi-mutants `A12G:K15R`, numbered from the
wild type's `offset`) and one measured score column chosen by name. Each variant ends in one
of three states, all counted, none dropped silently:
- "scored": every mutated residue has a position in the model's input;
- "synonymous": every part is `X<n>X`; it scores 0 by definition;
- "unscorable": some mutated residue has no position (e.g. outside the alignment's columns).

A wild-type letter that disagrees with the sequence is an error naming the variant and line, as
are short rows, missing or non-finite measurements and a variant listed twice.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from protein_performer.analysis.mutations import Mutation, parse_mutations

SCORED, SYNONYMOUS, UNSCORABLE = "scored", "synonymous", "unscorable"


@dataclass(frozen=True)
class Variant:
    """One row of a scan. `mutations` holds the non-synonymous parts (0-based positions)."""

    text: str
    measured: float
    mutations: tuple[Mutation, ...]
    line: int


@dataclass(frozen=True)
class Scan:
    """A parsed scan against its wild type."""

    path: str
    score_column: str
    wild_type: str
    offset: int
    variants: tuple[Variant, ...]

    @property
    def measured(self) -> np.ndarray:
        return np.array([v.measured for v in self.variants], dtype=np.float64)

    @property
    def first_positions(self) -> np.ndarray:
        """Number (offset numbering) of each variant's first mutated residue; -1 if synonymous."""
        return np.array(
            [v.mutations[0].position + self.offset if v.mutations else -1 for v in self.variants]
        )


def read_scan(
    path: str | Path,
    wild_type: str,
    *,
    score_column: str,
    offset: int = 1,
    mutant_column: str = "mutant",
) -> Scan:
    """Parse a scan CSV (a UTF-8 byte-order mark, as spreadsheets write it, is read as none).

    Refused with `file:line`: a row with too few fields, an empty, non-numeric or non-finite
    measurement, and a variant listed twice (two rows for one variant would count it twice in
    any correlation, and conflicting values have no right average). A column whose values are
    all equal is refused too: every rank correlation against it is undefined.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such scan file")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for column, flag in ((mutant_column, "--mutant-column"), (score_column, "--score-column")):
            if column not in header:
                raise ValueError(f"{path}:1: no column {column!r} ({flag}); columns are {header}")
        variants, seen = [], {}
        for line, row in enumerate(reader, start=2):
            variant = _read_row(row, path, line, wild_type, offset, mutant_column, score_column)
            # `A12G:K15R` and `K15R:A12G` are one variant; synonymous parts count too.
            key = tuple(sorted(part.strip() for part in variant.text.split(":")))
            if key in seen:
                raise ValueError(
                    f"{path}:{line}: variant {variant.text!r} is listed again (first at line "
                    f"{seen[key]}); a scan lists each variant once: average its rows first"
                )
            seen[key] = line
            variants.append(variant)
    if not variants:
        raise ValueError(f"{path}: the scan has no variants")
    measured = np.array([v.measured for v in variants])
    if np.all(measured == measured[0]):
        raise ValueError(
            f"{path}: column {score_column!r} (--score-column) is constant ({measured[0]:g} in "
            f"all {len(variants)} rows): no correlation with it is defined"
        )
    return Scan(str(path), score_column, wild_type, offset, tuple(variants))


def _read_row(
    row: dict, path: Path, line: int, wild_type: str, offset: int, mutant_column: str,
    score_column: str,
) -> Variant:  # fmt: skip
    # DictReader fills the fields a short row lacks with None, and files a long row's extra
    # fields under the key None.
    if None in row.values() or None in row:
        given = sum(v is not None for k, v in row.items() if k is not None)
        given += len(row.get(None) or ())
        header = sum(k is not None for k in row)
        raise ValueError(
            f"{path}:{line}: {given} comma-separated field(s), the header has {header}"
        )
    text = row[mutant_column].strip()
    value = row[score_column].strip()
    try:
        measured = float(value)
    except ValueError:
        what = "no measurement" if not value else f"measurement {value!r} is not a number"
        raise ValueError(f"{path}:{line}: variant {text!r}: {what} ({score_column})") from None
    if not np.isfinite(measured):
        raise ValueError(
            f"{path}:{line}: variant {text!r}: measurement {value!r} is not finite "
            f"({score_column}); remove the row or give a number"
        )
    try:
        mutations = parse_mutations(text, wild_type, offset=offset, allow_synonymous=True)
    except ValueError as error:
        raise ValueError(f"{path}:{line}: variant {text!r}: {error}") from None
    return Variant(text, measured, mutations, line)


def variant_status(variant: Variant, position_of: np.ndarray) -> str:
    """ "scored", "synonymous" or "unscorable", given `position_of[i]`, the model-input index of
    wild-type residue i (-1 where it has none)."""
    if not variant.mutations:
        return SYNONYMOUS
    if all(position_of[m.position] >= 0 for m in variant.mutations):
        return SCORED
    return UNSCORABLE


def status_counts(statuses: list[str]) -> dict[str, int]:
    return {s: statuses.count(s) for s in (SCORED, SYNONYMOUS, UNSCORABLE)}
