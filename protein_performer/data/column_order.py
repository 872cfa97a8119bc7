"""The order in which an aligned family model reads its columns.

A causal model factorises p(x) = Π_t p(x_t | x_<t) in the order of its tokens. "forward" reads
the C match columns N→C (column c, 0-based, at token c + 1); "reverse" reads them C→N (column c
at token C − c), the other factorisation of the same distribution. Two causal models of one
family, one per direction, see each pair of columns from both sides; averaged they form the
direction ensemble (as arDCA orderings, Trinquier et al. 2021, and PoET's both-way scoring).

Every consumer of an aligned model goes through these functions, so a reverse model is fed and
read in column order everywhere else. Shapes: C columns, L = C + 2 tokens.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from protein_performer.constants import CLS_ID, EOS_ID

Direction = Literal["forward", "reverse"]
DIRECTIONS: tuple[str, ...] = ("forward", "reverse")


def check_direction(direction: str, where: str = "direction") -> Direction:
    if direction not in DIRECTIONS:
        raise ValueError(f"{where} must be 'forward' or 'reverse', got {direction!r}")
    return direction  # type: ignore[return-value]


def in_reading_order(values_C: np.ndarray, direction: Direction) -> np.ndarray:
    """Per-column values (the last axis) in the order the model reads them; its own inverse."""
    return values_C[..., ::-1] if direction == "reverse" else values_C


def framed_columns(column_ids_C: np.ndarray, direction: Direction) -> np.ndarray:
    """[C + 2] the model input of one aligned row: `<cls>`, its columns in reading order,
    `<eos>`."""
    ordered = in_reading_order(np.asarray(column_ids_C), direction)
    framed = np.empty(len(ordered) + 2, dtype=np.int64)
    framed[0], framed[-1], framed[1:-1] = CLS_ID, EOS_ID, ordered
    return framed


def token_positions(columns: np.ndarray, n_columns: int, direction: Direction) -> np.ndarray:
    """Token index of each 0-based column (-1 stays -1: no column)."""
    columns = np.asarray(columns, dtype=np.int64)
    tokens = columns + 1 if direction == "forward" else n_columns - columns
    return np.where(columns >= 0, tokens, -1)
