"""Place a sequence on the columns of an aligned family model.

An aligned model reads the C match columns of its training alignment, a gap `-` being a token
(`constants.ALIGNED_VOCAB`), so a free sequence has to be put on those columns first:
- a sequence given **already aligned** (it holds `-` or `.`; A2M lowercase letters and `.` are
  insertions and are dropped) is taken as is, once its columns are checked to be C;
- otherwise it is aligned with hmmalign (Eddy 2011) to the profile HMM saved with the model
  (`FamilyInfo.hmm`), as `data.msa_mapping` places a scan's wild type.

A sequence that does not fit is refused with a `PlacementError` naming it, never scored: the
model has no profile, the profile does not recognise it (no domain hit with an E-value at most
`max_evalue`, one sequence searched), or fewer than `min_coverage` of the columns receive a
residue (hmmalign aligns anything it is given, so coverage alone cannot tell a homolog).

Models saved before `FamilyInfo` existed but with the aligned vocabulary (e.g. the shipped
`checkpoints/family_pf00595.ckpt`) are read as aligned models of `max_len - 2` columns and no
profile: only sequences given already aligned are accepted for them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from protein_performer.constants import ALIGNED_VOCAB, GAP, VOCAB_SIZE
from protein_performer.data.column_order import Direction, framed_columns
from protein_performer.data.msa_mapping import ColumnMap, hmmalign_columns, read_profile
from protein_performer.data.tokenizer import Alphabet, UnknownPolicy
from protein_performer.model.family_info import FamilyInfo

MIN_COVERAGE = 0.5  # share of the columns that must hold a residue
MAX_EVALUE = 1e-3  # the profile must find the sequence at least this clearly
ALIGNED_INPUT_CHARS = frozenset("-.")


class PlacementError(ValueError):
    """A sequence cannot be placed on an aligned model's columns; the message names it."""


@dataclass(frozen=True)
class Placement:
    """A sequence over an aligned model's columns."""

    sequence: str  # the residues, upper case, in order (gaps and A2M insertions removed)
    aligned_row: str  # C characters: the residue in each column, `-` where there is none
    residue_to_column: np.ndarray  # [L] int64 column of each residue, -1 on an insert state
    method: str  # "aligned" (given so) or "hmmalign"
    direction: Direction = "forward"  # the model's reading order (`data.column_order`)

    @property
    def n_columns(self) -> int:
        return len(self.aligned_row)

    @property
    def coverage(self) -> float:
        """Share of the columns holding a residue."""
        return float(np.mean(np.array(list(self.aligned_row)) != GAP))

    @property
    def tokens_L(self) -> np.ndarray:
        """[C + 2] int64 input of the aligned model: `<cls>`, the columns in its reading
        order, `<eos>`."""
        ids = np.array([ALIGNED_VOCAB[c] for c in self.aligned_row], dtype=np.int64)
        return framed_columns(ids, self.direction)

    def column_map(self, offset: int = 1) -> ColumnMap:
        """The residue ↔ column map the variant scorers read."""
        return ColumnMap(self.sequence, offset, self.residue_to_column, self.method,
                         self.n_columns)  # fmt: skip


def family_of(model) -> FamilyInfo | None:
    """The model's `FamilyInfo`; for a model with the aligned vocabulary but none saved, an
    aligned view of `max_len - 2` columns without a profile; None for a general model."""
    info = getattr(model, "family_info", None)
    if info is not None:
        return info
    if model.config.vocab_size > VOCAB_SIZE:
        return FamilyInfo("aligned", model.config.max_len - 2, "(not recorded)", "", None)
    return None


def direction_of(model) -> Direction:
    """The reading order of an aligned model's columns ("forward" for any other model)."""
    info = family_of(model)
    return info.direction if info is not None else "forward"


def is_aligned_model(model) -> bool:
    info = family_of(model)
    return info is not None and info.view == "aligned"


def _residues(text: str, name: str, unknown: UnknownPolicy) -> str:
    ids = Alphabet(unknown).encode(text, add_special=False, where=name)
    return Alphabet().decode(ids)


def _given_aligned(text: str, info: FamilyInfo, name: str, unknown: UnknownPolicy) -> Placement:
    # A2M: upper case and `-` are match columns; lower case and `.` are insertions.
    residues, residue_to_column, n_columns = [], [], 0
    for char in text:
        if char == ".":
            continue
        if char == GAP:
            n_columns += 1
            continue
        residues.append(char)
        residue_to_column.append(-1 if char.islower() else n_columns)
        n_columns += not char.islower()
    if n_columns != info.n_columns:
        raise PlacementError(
            f"{name}: given aligned (it holds '-' or '.') with {n_columns} columns, but the "
            f"model reads {info.n_columns}"
        )
    sequence = _residues("".join(residues), name, unknown)
    return _on_columns(sequence, np.array(residue_to_column, dtype=np.int64), n_columns, "aligned")


def _on_columns(
    sequence: str, residue_to_column: np.ndarray, n_columns: int, method: str
) -> Placement:
    chars = np.full(n_columns, GAP, dtype="<U1")
    inside = residue_to_column >= 0
    chars[residue_to_column[inside]] = np.array(list(sequence))[inside]
    return Placement(sequence, "".join(chars), residue_to_column, method)


@lru_cache(maxsize=8)
def _profile(text: str):
    return read_profile(text)


def best_evalue(hmm, sequence: str) -> float:
    """E-value of the best domain hit of `hmm` on `sequence` alone (inf without a hit)."""
    from pyhmmer import easel, plan7

    alphabet = easel.Alphabet.amino()
    target = easel.TextSequence(name=b"query", sequence=sequence).digitize(alphabet)
    pipeline = plan7.Pipeline(alphabet, Z=1, domZ=1, E=float("inf"), domE=float("inf"))
    hits = pipeline.search_hmm(hmm, easel.DigitalSequenceBlock(alphabet, [target]))
    return min((float(hit.evalue) for hit in hits), default=float("inf"))


def place(
    model_or_info,
    text: str,
    *,
    name: str = "sequence",
    min_coverage: float = MIN_COVERAGE,
    max_evalue: float = MAX_EVALUE,
    unknown: UnknownPolicy = "error",
) -> Placement:
    """`text` (aligned or not) over the columns of an aligned model (or of its `FamilyInfo`);
    a `PlacementError` naming `name` if it does not fit (see the module docstring)."""
    info = model_or_info if isinstance(model_or_info, FamilyInfo) else family_of(model_or_info)
    if info is None or info.view != "aligned":
        raise ValueError(f"{name}: the model does not read alignment columns")
    text = text.strip()
    if not text:
        raise PlacementError(f"{name}: empty sequence")
    placement = _placed(info, text, name, min_coverage, max_evalue, unknown)
    return dataclasses.replace(placement, direction=info.direction)


def _placed(
    info: FamilyInfo, text: str, name: str, min_coverage: float, max_evalue: float,
    unknown: UnknownPolicy,
) -> Placement:  # fmt: skip
    if ALIGNED_INPUT_CHARS & set(text):
        return _given_aligned(text, info, name, unknown)
    sequence = _residues(text, name, unknown)
    if info.hmm is None:
        if len(sequence) == info.n_columns:  # a gapless row of the alignment
            columns = np.arange(len(sequence), dtype=np.int64)
            return _on_columns(sequence, columns, info.n_columns, "aligned")
        raise PlacementError(
            f"{name}: the model saved no profile HMM to place it on its {info.n_columns} "
            f"columns; give it aligned to them (with '-')"
        )
    hmm = _profile(info.hmm)
    evalue = best_evalue(hmm, sequence)
    if not evalue <= max_evalue:
        raise PlacementError(
            f"{name}: not recognised by the family profile of {info.alignment} (best E-value "
            f"{evalue:.2g} > {max_evalue:g}); it cannot be placed on the model's columns"
        )
    columns = hmmalign_columns(hmm, sequence)
    placement = _on_columns(sequence, columns, info.n_columns, "hmmalign")
    if placement.coverage < min_coverage:
        raise PlacementError(
            f"{name}: only {placement.coverage:.0%} of the model's {info.n_columns} columns "
            f"receive a residue (minimum {min_coverage:.0%}); it cannot be placed"
        )
    return placement


def place_all(
    model, sequences, names=None, *, unknown: UnknownPolicy = "error", **options
) -> list[Placement]:
    """`place` of each sequence, named `sequence <i>` unless `names` are given."""
    if isinstance(sequences, str):
        raise TypeError("pass a list of sequences, not one string")
    if names is None:
        names = [f"sequence {i + 1}" for i in range(len(sequences))]
    return [
        place(model, s, name=n, unknown=unknown, **options)
        for s, n in zip(sequences, names, strict=True)
    ]
