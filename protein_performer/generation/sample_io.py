"""Inputs and outputs of the generation layer: prompt validation, FASTA and TSV writers.

Pure text handling, no model: prompts become token ids through the project's `Alphabet` (so a
bad letter is reported with its position), samples become FASTA records whose header records
the checkpoint and every sampling setting, and scores become a tab-separated table.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from protein_performer.constants import ALIGNED_VOCAB, BOS_ID, GAP, GAP_ID, SPECIAL_TOKENS
from protein_performer.data.column_order import Direction, in_reading_order
from protein_performer.data.tokenizer import Alphabet, InvalidResidueError, UnknownPolicy

FASTA_WIDTH = 60  # residues per line, the UniProt convention


class PromptError(ValueError):
    """A prompt cannot be used to start generation."""


def encode_prompt(
    prompt: str,
    *,
    where: str = "--prompt",
    unknown: UnknownPolicy = "error",
    gaps: bool = False,
    direction: Direction = "forward",
) -> np.ndarray:
    """Token ids int64 `[BOS, residues...]` (no EOS: generation continues after the prompt).

    Raises `PromptError` naming `where` and the 1-based position of the first invalid letter.
    Whitespace is not silently dropped: a prompt is a sequence prefix, not a FASTA body. With
    `gaps` (the first columns an aligned model reads), `-` is the gap token; a "reverse" model
    (`data.column_order`) reads the last columns first, so its prompt, written N→C as in the
    row, is fed C→N.
    """
    is_gap = np.array([c == GAP for c in prompt], dtype=bool) if gaps else None
    text = prompt.replace(GAP, "A") if gaps else prompt  # same length: positions stay right
    try:
        residues = Alphabet(unknown=unknown).encode(text, add_special=False, where=where)
    except InvalidResidueError as err:
        raise PromptError(str(err)) from None
    residues = residues.astype(np.int64)
    if gaps and len(residues):
        residues[is_gap] = GAP_ID
    return np.concatenate([[BOS_ID], in_reading_order(residues, direction)]).astype(np.int64)


_ALIGNED_TOKENS = {i: t for t, i in ALIGNED_VOCAB.items()}


def decode_row(ids: Iterable[int], direction: Direction = "forward") -> str:
    """Residues (and gaps `-`, for an aligned model) of generated ids, specials dropped, in
    column order (a "reverse" model's ids come C→N)."""
    row = "".join(
        _ALIGNED_TOKENS[int(i)] for i in ids if _ALIGNED_TOKENS[int(i)] not in SPECIAL_TOKENS
    )
    return row[::-1] if direction == "reverse" else row


def _header_value(value: object) -> str:
    # Values must not contain spaces so that `key=value` pairs split back cleanly.
    if value is None:
        return "none"
    if isinstance(value, float):
        return repr(value)
    return str(value).replace(" ", "%20")


def fasta_header(name: str, fields: Mapping[str, object]) -> str:
    """`name key=value key=value ...` (without the leading '>')."""
    pairs = " ".join(f"{key}={_header_value(value)}" for key, value in fields.items())
    return f"{name} {pairs}" if pairs else name


def parse_header_fields(header: str) -> dict[str, str]:
    """Inverse of `fasta_header` for the `key=value` part (values stay strings)."""
    fields = {}
    for token in header.split()[1:]:
        key, sep, value = token.partition("=")
        if sep:
            fields[key] = value.replace("%20", " ")
    return fields


@dataclass(frozen=True)
class FastaRecord:
    """One sequence to write: header without '>' and the residues."""

    header: str
    sequence: str


def format_fasta(records: Iterable[FastaRecord], width: int = FASTA_WIDTH) -> str:
    lines = []
    for record in records:
        lines.append(f">{record.header}")
        seq = record.sequence
        # An empty sample (EOS straight after BOS) still gets a body line so readers see it.
        lines.extend([seq[i : i + width] for i in range(0, len(seq), width)] or [""])
    return "\n".join(lines) + "\n"


def write_fasta(path: str | Path, records: Sequence[FastaRecord]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_fasta(records))
    return path


SCORE_COLUMNS = ("id", "length", "log_likelihood", "mean_log_likelihood", "perplexity")


@dataclass(frozen=True)
class SequenceScore:
    """Log-likelihood (natural log) of one sequence under a causal model.

    `n_predicted` counts the predicted tokens: every residue plus the closing EOS, each given
    its prefix starting at BOS. Perplexity is exp(-log_likelihood / n_predicted).
    """

    id: str
    length: int
    log_likelihood: float
    n_predicted: int

    @property
    def mean_log_likelihood(self) -> float:
        return self.log_likelihood / self.n_predicted

    @property
    def perplexity(self) -> float:
        return math.exp(-self.mean_log_likelihood)


def format_scores_tsv(scores: Iterable[SequenceScore]) -> str:
    """The TSV text: a header row of `SCORE_COLUMNS`, then one row per score."""
    handle = io.StringIO()
    writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
    writer.writerow(SCORE_COLUMNS)
    for s in scores:
        writer.writerow(
            [
                s.id,
                s.length,
                f"{s.log_likelihood:.6f}",
                f"{s.mean_log_likelihood:.6f}",
                f"{s.perplexity:.6f}",
            ]
        )
    return handle.getvalue()


def write_scores_tsv(path: str | Path, scores: Iterable[SequenceScore]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_scores_tsv(scores))
    return path
