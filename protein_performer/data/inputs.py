"""One input policy for every command and the Python API: check letters, crop to the model.

A sequence with a letter outside the alphabet stops with its name and position, unless the
caller asked for `unknown="x"` (map such letters to X). A sequence longer than the model's
learned positions is cropped to its first residues, and the crop is always reported: the
caller gets one message per cropped sequence and decides how to show it (a CLI prints it, the
API issues a `CropWarning`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from protein_performer.data.tokenizer import Alphabet, UnknownPolicy


class CropWarning(UserWarning):
    """A sequence was cut to the model's length."""


@dataclass(frozen=True)
class CheckedSequences:
    """Sequences as the model will see them (upper case, X for unknown letters if asked for,
    cropped), and one message per crop."""

    sequences: tuple[str, ...]
    crops: tuple[str, ...]


def check_sequences(
    sequences: Sequence[str],
    *,
    max_residues: int | None,
    unknown: UnknownPolicy = "error",
    names: Sequence[str] | None = None,
) -> CheckedSequences:
    """Validate and crop (`max_residues=None`: never crop); raises `InvalidResidueError` naming
    the sequence and position."""
    if isinstance(sequences, str):
        raise TypeError("pass a list of sequences, not one string")
    alphabet = Alphabet(unknown)
    names = (
        list(names) if names is not None else [f"sequence {i + 1}" for i in range(len(sequences))]
    )
    out, crops = [], []
    for name, sequence in zip(names, sequences, strict=True):
        if not sequence:
            raise ValueError(f"{name}: empty sequence")
        ids = alphabet.encode(sequence, add_special=False, where=name)
        text = alphabet.decode(ids)
        if max_residues is not None and len(text) > max_residues:
            crops.append(
                f"{name}: {len(text)} residues cropped to the model's {max_residues} (max_len - 2)"
            )
            text = text[:max_residues]
        out.append(text)
    return CheckedSequences(tuple(out), tuple(crops))


def warn_crops(checked: CheckedSequences) -> None:
    """The API's way of reporting crops: one `CropWarning` each."""
    for message in checked.crops:
        warnings.warn(message, CropWarning, stacklevel=3)
