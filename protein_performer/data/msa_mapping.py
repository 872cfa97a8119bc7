"""Residue index of a wild-type sequence ↔ alignment column.

Two ways to place the wild type on the columns, in order of preference:
- **a row of the alignment** (`query=` its name, e.g. `DLG4_RAT/313-391`): the family's own
  alignment is authoritative. The row's residues are located in the wild type by a local
  pairwise alignment (Bio.Align), since alignments such as Pfam's drop insertions and cover
  only the domain;
- **hmmalign** (pyhmmer, Eddy 2011): where the wild type is no row, a profile HMM is built from
  the alignment with every column a match state (`symfrac=0`), and the wild type is aligned to
  it. Profile alignment is what built Pfam's rows in the first place, so the two agree on the
  columns; a pairwise alignment to a single row could not tell a family insertion from a gap.

`ColumnMap.residue_to_column[i]` is the column of wild-type residue i (0-based), -1 where the
residue falls outside every column (an insertion or beyond the domain).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from protein_performer.constants import GAP
from protein_performer.data.msa import MSA

_HMM_ROWS = 5000  # rows used to build the profile; more changes the columns of no residue


@dataclass(frozen=True)
class ColumnMap:
    """Wild type ↔ columns. `offset` is the number of the first wild-type residue (1-based
    numbering of the mutant strings, e.g. 311 for DLG4_RAT residues 311–393)."""

    wild_type: str
    offset: int
    residue_to_column: np.ndarray  # [L_wt] int64, -1 outside the columns
    method: str  # "row:<name>" or "hmmalign"
    n_columns: int

    @property
    def column_to_residue(self) -> np.ndarray:
        """[C] int64: the wild-type residue in each column, -1 where the wild type has a gap."""
        out = np.full(self.n_columns, -1, dtype=np.int64)
        inside = self.residue_to_column >= 0
        out[self.residue_to_column[inside]] = np.flatnonzero(inside)
        return out

    def aligned(self) -> str:
        """The wild type over the columns, `-` where it has no residue."""
        chars = np.full(self.n_columns, GAP, dtype="<U1")
        inside = self.residue_to_column >= 0
        chars[self.residue_to_column[inside]] = np.array(list(self.wild_type))[inside]
        return "".join(chars)

    def column_of(self, number: int) -> int:
        """Column of the residue numbered `number` (offset numbering), -1 if none."""
        i = number - self.offset
        if not 0 <= i < len(self.wild_type):
            return -1
        return int(self.residue_to_column[i])


def row_residue_columns(aligned_row: str) -> np.ndarray:
    """[n residues] column of each residue of a gapped row over the match columns."""
    return np.flatnonzero(np.array(list(aligned_row)) != GAP)


def local_placement(fragment: str, reference: str) -> tuple[np.ndarray, float]:
    """([len(fragment)] index of each fragment residue in `reference`, -1 where unaligned;
    identity over the aligned residues) from a local pairwise alignment (Bio.Align)."""
    from Bio.Align import PairwiseAligner

    aligner = PairwiseAligner(
        mode="local",
        match_score=5,
        mismatch_score=-4,
        open_gap_score=-10,
        extend_gap_score=-1,
    )
    out = np.full(len(fragment), -1, dtype=np.int64)
    fragment, reference = fragment.upper(), reference.upper()
    alignments = aligner.align(fragment, reference)
    if not fragment or not reference or alignments.score <= 0:
        return out, 0.0
    best = alignments[0]
    for (f0, f1), (r0, r1) in zip(*best.aligned, strict=True):
        out[f0:f1] = np.arange(r0, r1)
    inside = np.flatnonzero(out >= 0)
    same = np.array(list(fragment))[inside] == np.array(list(reference))[out[inside]]
    return out, float(same.mean()) if inside.size else 0.0


def map_by_row(msa: MSA, query: str, wild_type: str, offset: int = 1) -> ColumnMap:
    """Place `wild_type` on the columns through the alignment row `query`."""
    try:
        row = msa.aligned(msa.row_index(query))
    except KeyError:
        raise ValueError(
            f"{msa.path}: no row named {query!r} (the wild type's row, --query); omit it to "
            f"align the wild type with hmmalign"
        ) from None
    cols = row_residue_columns(row)
    wt_of_row, identity = local_placement(row.replace(GAP, ""), wild_type)
    out = np.full(len(wild_type), -1, dtype=np.int64)
    placed = wt_of_row >= 0
    out[wt_of_row[placed]] = cols[placed]
    if identity < 0.9:
        raise ValueError(
            f"{msa.path}: row {query!r} matches the wild type at only {identity:.0%} identity; "
            f"is it the wild type's row? (omit --query to align the wild type with hmmalign)"
        )
    return ColumnMap(wild_type, offset, out, f"row:{query}", msa.width)


def row_as_wild_type(msa: MSA, query: str | None = None) -> ColumnMap:
    """The residues of row `query` (the first row when None) as the wild type, on the columns
    where that row has them: the sequence a model reads when no wild type is given."""
    try:
        index = 0 if query is None else msa.row_index(query)
    except KeyError:
        raise ValueError(
            f"{msa.path}: no row named {query!r} (the wild type's row, --query)"
        ) from None
    row = msa.aligned(index)
    cols = row_residue_columns(row)
    return ColumnMap(row.replace(GAP, ""), 1, cols, f"row:{msa.names[index]}", msa.width)


def build_profile(msa: MSA, seed: int = 0, max_rows: int = _HMM_ROWS):
    """A `pyhmmer.plan7.HMM` of the alignment with every column a match state (`symfrac=0`),
    from at most `max_rows` rows drawn with `seed`."""
    from pyhmmer import easel, plan7

    alphabet = easel.Alphabet.amino()
    rows = np.arange(msa.depth)
    if len(rows) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_rows, replace=False))
    sequences = [
        easel.TextSequence(name=str(i).encode(), sequence=msa.aligned(int(i))) for i in rows
    ]
    name = Path(msa.path).name.split(".")[0] or "family"
    text_msa = easel.TextMSA(name=name.encode(), sequences=sequences)
    builder = plan7.Builder(alphabet, symfrac=0.0, seed=seed + 1)
    hmm, _, _ = builder.build_msa(text_msa.digitize(alphabet), plan7.Background(alphabet))
    if hmm.M != msa.width:
        raise ValueError(
            f"{msa.path}: the profile has {hmm.M} match states for {msa.width} columns "
            f"(a column without any residue?); drop empty columns first"
        )
    return hmm


def profile_text(hmm) -> str:
    """The profile as HMMER3 ASCII text (what `FamilyInfo.hmm` stores)."""
    buffer = io.BytesIO()
    hmm.write(buffer)
    return buffer.getvalue().decode()


def read_profile(text: str):
    """The `pyhmmer.plan7.HMM` written by `profile_text`."""
    from pyhmmer import easel, plan7

    with plan7.HMMFile(io.BytesIO(text.encode()), alphabet=easel.Alphabet.amino()) as handle:
        return handle.read()


def hmmalign_columns(hmm, sequence: str) -> np.ndarray:
    """[L] column of each residue of `sequence` aligned to `hmm` by hmmalign (Eddy 2011),
    -1 for a residue on an insert state."""
    import pyhmmer
    from pyhmmer import easel

    alphabet = easel.Alphabet.amino()
    target = easel.TextSequence(name=b"query", sequence=sequence.upper())
    aligned = pyhmmer.hmmer.hmmalign(hmm, [target.digitize(alphabet)], trim=False)
    out = np.full(len(sequence), -1, dtype=np.int64)
    column = residue = 0
    for char in aligned.alignment[0]:
        if char == "-":  # a match state without a residue
            column += 1
        elif char == ".":  # padding of an insertion column
            continue
        elif char.islower():  # an inserted residue: no column
            residue += 1
        else:
            out[residue] = column
            residue += 1
            column += 1
    return out


def map_by_hmmalign(msa: MSA, wild_type: str, offset: int = 1, seed: int = 0) -> ColumnMap:
    """Place `wild_type` on the columns with a profile HMM built from the alignment."""
    out = hmmalign_columns(build_profile(msa, seed), wild_type)
    return ColumnMap(wild_type, offset, out, "hmmalign", msa.width)


def map_wild_type(
    msa: MSA, wild_type: str, offset: int = 1, query: str | None = None
) -> ColumnMap:
    """`map_by_row` when the alignment names the wild type's row, else `map_by_hmmalign`."""
    if query:
        return map_by_row(msa, query, wild_type, offset)
    return map_by_hmmalign(msa, wild_type, offset)
