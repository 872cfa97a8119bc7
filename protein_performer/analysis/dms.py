"""Deep mutational scans in the ProteinGym layout, placed on what a model sees.

A scan is a CSV with a `mutant` column (`A12G`, multi-mutants `A12G:K15R`, numbered from the
wild type's `offset`) and one measured score column chosen by name. Each variant ends in one
of three states, all counted, none dropped silently:
- "scored": every mutated residue has a position in the model's input;
- "synonymous": every part is `X<n>X`; it scores 0 by definition;
- "unscorable": some mutated residue has no position (e.g. outside the alignment's columns).

A wild-type letter that disagrees with the sequence is an error naming the variant and line.
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
    """Parse a scan CSV; rows with an empty or non-numeric score are an error naming the line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such scan file")
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for column, flag in ((mutant_column, "--mutant-column"), (score_column, "--score")):
            if column not in header:
                raise ValueError(f"{path}:1: no column {column!r} ({flag}); columns are {header}")
        variants = []
        for line, row in enumerate(reader, start=2):
            text = (row[mutant_column] or "").strip()
            try:
                measured = float(row[score_column])
                mutations = parse_mutations(text, wild_type, offset=offset, allow_synonymous=True)
            except ValueError as error:
                raise ValueError(f"{path}:{line}: variant {text!r}: {error}") from None
            variants.append(Variant(text, measured, mutations, line))
    if not variants:
        raise ValueError(f"{path}: the scan has no variants")
    return Scan(str(path), score_column, wild_type, offset, tuple(variants))


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
