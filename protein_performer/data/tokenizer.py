"""Alphabet: turns amino-acid strings into token ids and back, using the literal table in
`protein_performer.constants`.

The alphabet knows nothing of files; the FASTA reader passes a `where` string (file:line or a
record name) so that errors can point at the offending input.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np

from protein_performer.constants import (
    AMINO_ACID_IDS,
    CLS_ID,
    EOS_ID,
    ID_TO_TOKEN,
    SPECIAL_TOKENS,
    VOCAB,
    VOCAB_SIZE,
)

UnknownPolicy = Literal["error", "x"]


class InvalidResidueError(ValueError):
    """A sequence holds a character that is not an amino-acid letter.

    `position` is 1-based and `char` the offending character, so that a caller holding line
    information (the FASTA reader) can re-raise with file:line:column.
    """

    def __init__(self, message: str, *, position: int, char: str) -> None:
        super().__init__(message)
        self.position = position
        self.char = char


def _build_lookup() -> np.ndarray:
    # byte value -> token id, or -1 where the byte is not an amino-acid letter (either case).
    lookup_256 = np.full(256, -1, dtype=np.int16)
    for token, token_id in VOCAB.items():
        if token in SPECIAL_TOKENS:
            continue
        lookup_256[ord(token)] = token_id
        lookup_256[ord(token.lower())] = token_id
    return lookup_256


class Alphabet:
    """Encode/decode protein sequences with the project's fixed vocabulary.

    `encode("MKV")` gives `[<cls>, M, K, V, <eos>]` as an int8 array. Lowercase letters are
    accepted. Any other character raises `InvalidResidueError` naming the record and the
    1-based position, unless `unknown="x"` maps it to X.
    """

    size: int = VOCAB_SIZE
    tokens: tuple[str, ...] = ID_TO_TOKEN
    amino_acid_ids: tuple[int, ...] = AMINO_ACID_IDS

    def __init__(self, unknown: UnknownPolicy = "error") -> None:
        if unknown not in ("error", "x"):
            raise ValueError(f"unknown must be 'error' or 'x', got {unknown!r}")
        self.unknown = unknown
        self._lookup_256 = _build_lookup()

    def encode(
        self, sequence: str | bytes, *, add_special: bool = True, where: str = "<input>"
    ) -> np.ndarray:
        """Token ids of `sequence` (int8), framed by <cls> ... <eos> when `add_special`.

        `bytes` are accepted as well so that the FASTA pipeline can skip a decode/encode round
        trip; characters outside latin-1 become '?' and are reported at their own position.
        """
        if isinstance(sequence, str):
            sequence = sequence.encode("latin-1", errors="replace")
        raw = np.frombuffer(sequence, dtype=np.uint8)
        ids = self._lookup_256[raw]
        bad = np.flatnonzero(ids < 0)
        if bad.size:
            if self.unknown == "x":
                ids[bad] = VOCAB["X"]
            else:
                pos = int(bad[0])
                char = chr(raw[pos])
                raise InvalidResidueError(
                    f"{where}: invalid residue {char!r} at position {pos + 1} "
                    f"(expected one of the 25 amino-acid letters; --unknown x reads other "
                    f"characters as X)",
                    position=pos + 1,
                    char=char,
                )
        ids = ids.astype(np.int8)
        if add_special:
            ids = np.concatenate([[CLS_ID], ids, [EOS_ID]]).astype(np.int8)
        return ids

    def decode(self, ids: Iterable[int], *, strip_special: bool = True) -> str:
        """Inverse of `encode`; special tokens are dropped when `strip_special`."""
        out = []
        for i in ids:
            token = ID_TO_TOKEN[int(i)]
            if token in SPECIAL_TOKENS:
                if strip_special:
                    continue
            out.append(token)
        return "".join(out)
