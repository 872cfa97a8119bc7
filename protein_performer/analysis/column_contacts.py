"""Column-level contact maps of an alignment, as distributed with DCA benchmarks: a text file
of `i j score distance_Å` rows, 1-based column indices (e.g. ArDCA's `PF00595_struct.dat`).

The distance of a pair is what the file says (for a family map, typically the smallest over the
family's structures); a pair is a contact below the threshold. Precision by separation range
reuses `analysis.contact_precision` with L = the number of columns.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from protein_performer.analysis.contact_precision import range_precision

THRESHOLDS_A: tuple[float, ...] = (4.5, 8.0)


def _open_text(path: Path):
    return gzip.open(path, "rt") if path.read_bytes()[:2] == b"\x1f\x8b" else open(path)


def read_column_distances(path: str | Path, n_columns: int) -> np.ndarray:
    """[C, C] distances in Å, symmetric, NaN for pairs the file does not list.

    A distance that is not a finite number >= 0, a pair listed twice (in either order) and a
    file with no pairs are errors naming `file:line`: each would otherwise turn into precisions
    that read like results (a negative distance is a contact at every threshold).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such contact-map file")
    dist_CC = np.full((n_columns, n_columns), np.nan)
    first_line: dict[tuple[int, int], int] = {}
    with _open_text(path) as handle:
        for line_no, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            try:
                i, j = int(float(fields[0])), int(float(fields[1]))
                distance = float(fields[-1])
            except (ValueError, IndexError, OverflowError):
                raise ValueError(
                    f"{path}:{line_no}: expected 'i j [score] distance', got {line.strip()!r}"
                ) from None
            if not (1 <= i <= n_columns and 1 <= j <= n_columns) or len(fields) < 3:
                raise ValueError(
                    f"{path}:{line_no}: columns {i}, {j} outside 1..{n_columns} "
                    f"(or fewer than 3 fields)"
                )
            if not (np.isfinite(distance) and distance >= 0):
                raise ValueError(
                    f"{path}:{line_no}: distance {fields[-1]!r} of columns {i}, {j} is not a "
                    f"finite number >= 0 (Å)"
                )
            pair = (min(i, j), max(i, j))
            if pair in first_line:
                raise ValueError(
                    f"{path}:{line_no}: columns {i}, {j} listed again (first at line "
                    f"{first_line[pair]}); give each pair once"
                )
            first_line[pair] = line_no
            dist_CC[i - 1, j - 1] = dist_CC[j - 1, i - 1] = distance
    if not first_line:
        raise ValueError(f"{path}:1: no 'i j [score] distance' rows: an empty contact map")
    return dist_CC


def column_precision(
    scores_CC: np.ndarray, dist_CC: np.ndarray, threshold: float
) -> dict[str, dict[str, float]]:
    """{range: {P@L, P@L/2, P@L/5, random}} against contacts `dist < threshold`; pairs whose
    distance is unknown are never counted as contacts and never ranked."""
    known = np.isfinite(dist_CC)
    contacts_CC = known & (np.nan_to_num(dist_CC, nan=np.inf) < threshold)
    scores = np.where(known, scores_CC, -np.inf)
    return range_precision(scores, contacts_CC)


def structure_column_distances(
    cb_L3: np.ndarray, heavy: tuple[np.ndarray, ...], column_of_L: np.ndarray, n_columns: int
) -> tuple[np.ndarray, np.ndarray]:
    """([C, C] Cβ distances, [C, C] smallest heavy-atom distances) of one structure's residues
    placed on the columns (`column_of_L[i]`: column of structure residue i, -1 for none).

    The two are the usual contact definitions: Cβ (Cα for Gly) within 8 Å (CASP, Rao et al.
    2021) and any pair of heavy atoms within 4.5 Å (as in DCA benchmarks of column maps).
    Columns without a residue stay NaN: never counted as contacts and never ranked.
    """
    from scipy.spatial.distance import cdist

    placed = np.flatnonzero(column_of_L >= 0)
    cols = column_of_L[placed]
    cb_CC = np.full((n_columns, n_columns), np.nan)
    cb_CC[np.ix_(cols, cols)] = cdist(cb_L3[placed], cb_L3[placed])
    heavy_CC = np.full((n_columns, n_columns), np.nan)
    for a, (i, ci) in enumerate(zip(placed, cols, strict=True)):
        for j, cj in zip(placed[a:], cols[a:], strict=True):
            d = float(cdist(heavy[i], heavy[j]).min()) if i != j else 0.0
            heavy_CC[ci, cj] = heavy_CC[cj, ci] = d
    return cb_CC, heavy_CC
