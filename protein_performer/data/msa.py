"""Multiple sequence alignments: aligned FASTA, A2M, A3M and Stockholm, read into one `MSA`.

The conventions are those of HMMER/HH-suite: in A2M and A3M, match states are uppercase
letters and `-`, insertions lowercase letters and `.`. Plain aligned FASTA has no insertions
(every character is a match state). A3M omits the `.` padding of insertion columns, so rows
differ in raw length but must agree on the number of match states. Stockholm is read with
Biopython's `AlignIO` (it interleaves blocks, so it cannot be streamed row by row).

Two views of one alignment:
- aligned: `tokens_NC`, the match columns as positions, with the gap token (`GAP_ID`,
  appended to the vocabulary in `constants`) where a row has `-`;
- unaligned: `unaligned(i)`, the row's residues with gaps removed and insertions kept.

Errors (`MSAFormatError`) name `file:line`: ragged rows, illegal characters, an empty
alignment. FASTA-based formats stream through `data.fasta.iter_fasta`, so a large file never
sits in memory as text; the alignment itself is kept as one int8 array of N × C tokens.
"""

from __future__ import annotations

import gzip
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from protein_performer.constants import ALIGNED_VOCAB, GAP, GAP_ID, VOCAB
from protein_performer.data.fasta import FastaFormatError, FastaWarning, iter_fasta

MSA_FORMATS: tuple[str, ...] = ("fasta", "a2m", "a3m", "stockholm")

# byte -> token id of a match state (uppercase letter or '-'), -1 otherwise.
_MATCH_256 = np.full(256, -1, dtype=np.int16)
for _token, _id in ALIGNED_VOCAB.items():
    if len(_token) == 1:
        _MATCH_256[ord(_token)] = _id
# byte -> True for an insertion state (lowercase letter or '.').
_INSERT_256 = np.zeros(256, dtype=bool)
for _token in VOCAB:
    if len(_token) == 1:
        _INSERT_256[ord(_token.lower())] = True
_INSERT_256[ord(".")] = True
_NAME_RANGE = re.compile(r"^(?P<name>.+)/(?P<start>\d+)-(?P<end>\d+)$")


# Every command that reads alignments can be told the format: `family` by a flag, the others by
# the file name.
_A2M_HINT = (
    "lowercase insertions are read in A2M: pass --data.msa_format a2m to `family`, or name "
    "the file *.a2m"
)


class MSAFormatError(ValueError):
    """The alignment cannot be read; the message starts with `file:line:`."""


@dataclass(frozen=True)
class MSA:
    """An alignment of N rows over C match columns.

    `columns_C` maps each kept column to its index in the file (0-based), so that column
    filters never lose the link to column-level data such as a contact map.
    """

    names: tuple[str, ...]
    tokens_NC: np.ndarray  # int8 token ids, GAP_ID at gaps
    insertions: tuple[str, ...] = ()  # per row: the residues of each insertion, "" if none
    columns_C: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    path: str = "<memory>"

    def __post_init__(self) -> None:
        if self.columns_C.size == 0 and self.tokens_NC.shape[1]:
            object.__setattr__(self, "columns_C", np.arange(self.tokens_NC.shape[1]))

    @property
    def depth(self) -> int:
        return self.tokens_NC.shape[0]

    @property
    def width(self) -> int:
        return self.tokens_NC.shape[1]

    def row_index(self, name: str) -> int:
        """Index of the row called `name` (the full header word, e.g. `DLG4_RAT/313-391`)."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"{self.path}: no row named {name!r}") from None

    def aligned(self, i: int) -> str:
        """Row `i` over the match columns, `-` at gaps."""
        return "".join(_ID_TO_CHAR[t] for t in self.tokens_NC[i])

    def unaligned(self, i: int) -> str:
        """Row `i` without gaps: its match residues, and its insertions where it has any."""
        if not self.insertions or not self.insertions[i]:
            return self.aligned(i).replace(GAP, "")
        return self.insertions[i].replace(GAP, "").replace(".", "").upper()

    def select(self, rows: np.ndarray | None = None, cols: np.ndarray | None = None) -> MSA:
        """A sub-alignment; `rows` / `cols` are index arrays or boolean masks.

        Dropping columns drops the insertion record (the residues are no longer contiguous).
        """
        rows_idx = np.arange(self.depth) if rows is None else _as_index(rows, self.depth)
        cols_idx = np.arange(self.width) if cols is None else _as_index(cols, self.width)
        keep_inserts = cols is None and bool(self.insertions)
        return MSA(
            names=tuple(self.names[i] for i in rows_idx),
            tokens_NC=self.tokens_NC[np.ix_(rows_idx, cols_idx)],
            insertions=tuple(self.insertions[i] for i in rows_idx) if keep_inserts else (),
            columns_C=self.columns_C[cols_idx],
            path=self.path,
        )


_ID_TO_CHAR = {i: t for t, i in ALIGNED_VOCAB.items() if len(t) == 1}


def _as_index(selector: np.ndarray, n: int) -> np.ndarray:
    selector = np.asarray(selector)
    if selector.dtype == bool:
        if selector.shape != (n,):
            raise ValueError(f"boolean mask of shape {selector.shape}, expected ({n},)")
        return np.flatnonzero(selector)
    return selector.astype(np.int64)


def name_range(name: str) -> tuple[str, int, int] | None:
    """`("DLG4_RAT", 313, 391)` for a Pfam-style row name `DLG4_RAT/313-391`, else None."""
    match = _NAME_RANGE.match(name)
    if not match:
        return None
    return match["name"], int(match["start"]), int(match["end"])


def detect_format(path: Path) -> str:
    """From the first non-blank line: `# STOCKHOLM` or `>`; FASTA flavours from the suffix."""
    opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
    with opener(path, "rt", errors="replace") as fh:
        for line in fh:
            if line.strip():
                first = line.strip()
                break
        else:
            raise MSAFormatError(f"{path}:1: empty alignment file")
    if first.startswith("# STOCKHOLM"):
        return "stockholm"
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] in (".a2m", ".a3m"):
        return suffixes[-1][1:]
    return "fasta"


def _encode_row(
    sequence: str, path: str, line: int, name: str, fmt: str
) -> tuple[np.ndarray, bool]:
    """(match tokens, has insertions) of one row; raises on an illegal character."""
    raw = np.frombuffer(sequence.encode("latin-1", errors="replace"), dtype=np.uint8)
    ids = _MATCH_256[raw]
    inserts = _INSERT_256[raw] & (ids < 0)
    bad = np.flatnonzero((ids < 0) & ~inserts)
    if fmt == "fasta" and inserts.any():
        bad = np.flatnonzero(ids < 0)
    if bad.size:
        pos = int(bad[0])
        allowed = "uppercase residues and '-'" + (
            "" if fmt == "fasta" else ", lowercase insertions and '.'"
        )
        raise MSAFormatError(
            f"{path}:{line}: row {name!r}: illegal character {chr(raw[pos])!r} at column "
            f"{pos + 1} (expected {allowed}; {_A2M_HINT})"
        )
    return ids[ids >= 0].astype(np.int8), bool(inserts.any())


def iter_rows(path: str | Path, fmt: str | None = None) -> Iterator[tuple[str, str, int]]:
    """Yield `(name, raw aligned row, line)` in file order, for any of `MSA_FORMATS`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such alignment file")
    fmt = fmt or detect_format(path)
    if fmt not in MSA_FORMATS:
        raise ValueError(f"alignment format must be one of {MSA_FORMATS}, got {fmt!r}")
    if fmt == "stockholm":
        yield from _iter_stockholm(path)
        return

    def empty_row(message: str) -> None:
        raise MSAFormatError(message.replace("has no residues; skipped", "has no columns"))

    try:
        # An empty row is an error here, not a skipped record; the filter is not held across
        # a `yield`, where it would silence the caller's warnings too.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FastaWarning)
            records = [(r.name, r.sequence, r.line) for r in iter_fasta(path, on_empty=empty_row)]
    except FastaFormatError as error:
        raise MSAFormatError(str(error)) from error
    yield from records


def _iter_stockholm(path: Path) -> Iterator[tuple[str, str, int]]:
    from Bio import AlignIO

    opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
    with opener(path, "rt", errors="replace") as handle:
        lines = [(n, line.strip()) for n, line in enumerate(handle, start=1) if line.strip()]
    # Biopython returns the rows read so far when the terminator is missing: a truncated file
    # would pass for a smaller alignment.
    if not lines or lines[-1][1] != "//":
        last = lines[-1][0] if lines else 1
        raise MSAFormatError(
            f"{path}:{last}: Stockholm alignment does not end with its '//' terminator "
            f"(truncated file?)"
        )
    with opener(path, "rt") as handle:
        try:
            alignments = list(AlignIO.parse(handle, "stockholm"))
        except ValueError as error:
            raise MSAFormatError(f"{path}:1: not a readable Stockholm file ({error})") from error
    if not alignments:
        raise MSAFormatError(f"{path}:1: no alignment block (missing '//' terminator?)")
    # Stockholm rows carry no line numbers once parsed; the row number stands in for them.
    for row, record in enumerate(alignments[0], start=1):
        yield record.id, str(record.seq), row


def read_msa(path: str | Path, fmt: str | None = None) -> MSA:
    """Read an alignment; every defect is an `MSAFormatError` naming `file:line`."""
    path = Path(path)
    fmt = fmt or detect_format(path) if path.is_file() else fmt
    names: list[str] = []
    rows: list[np.ndarray] = []
    inserts: list[str] = []
    any_inserts = False
    width = -1
    for name, sequence, line in iter_rows(path, fmt):
        tokens_C, has_inserts = _encode_row(sequence, str(path), line, name, fmt or "fasta")
        if width < 0:
            width = len(tokens_C)
            first = (name, line)
            if width == 0:
                raise MSAFormatError(f"{path}:{line}: row {name!r} has no match columns")
        elif len(tokens_C) != width:
            raise MSAFormatError(
                f"{path}:{line}: ragged alignment: row {name!r} has {len(tokens_C)} match "
                f"columns, but the first row {first[0]!r} (line {first[1]}) has {width}"
            )
        names.append(name)
        rows.append(tokens_C)
        inserts.append(sequence if has_inserts else "")
        any_inserts |= has_inserts
    if not rows:
        raise MSAFormatError(f"{path}:1: empty alignment: no rows")
    if width == 0:
        raise MSAFormatError(f"{path}:1: the alignment has no match columns")
    return MSA(
        names=tuple(names),
        tokens_NC=np.stack(rows),
        insertions=tuple(inserts) if any_inserts else (),
        path=str(path),
    )


def check_trainable(msa: MSA, min_rows: int = 2) -> None:
    """Refuse an alignment no model can be trained and evaluated on, before any training: fewer
    than `min_rows` rows, no columns, or nothing but gaps."""
    if msa.depth < min_rows:
        raise MSAFormatError(
            f"{msa.path}:1: {msa.depth} row(s); training needs an alignment of at least "
            f"{min_rows} rows (the homologs a family model learns from)"
        )
    if msa.width == 0:
        raise MSAFormatError(f"{msa.path}:1: the alignment has no match columns")
    if np.all(msa.tokens_NC == GAP_ID):
        raise MSAFormatError(
            f"{msa.path}:1: every row is all gaps over the {msa.width} match columns: "
            "no residues to learn from"
        )


def gap_fraction_filter(msa: MSA, *, max_row_gaps: float = 1.0, max_col_gaps: float = 1.0) -> MSA:
    """Drop columns whose gap fraction exceeds `max_col_gaps`, then rows above `max_row_gaps`
    (over the kept columns). 1.0 keeps everything."""
    for flag, value in (("max_row_gaps", max_row_gaps), ("max_col_gaps", max_col_gaps)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{flag} must be in [0, 1], got {value}")
    gaps_NC = msa.tokens_NC == GAP_ID
    cols = gaps_NC.mean(0) <= max_col_gaps
    out = msa.select(cols=cols) if not cols.all() else msa
    rows = (out.tokens_NC == GAP_ID).mean(1) <= max_row_gaps
    if not rows.any():
        raise ValueError(f"{msa.path}: max_row_gaps={max_row_gaps} removes every row")
    return out.select(rows=rows) if not rows.all() else out
