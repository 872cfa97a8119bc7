"""Held-out sequences for the analyses: the prepared test split, never seen in training.

The sequences come from `data.prepare` (the dataset of `make data`), whose test split is
deduplicated against training; rows are taken in stored order (by sequence digest, so
uncorrelated with length or taxon). When no preparation is cached, it is built (seconds for the
shipped sample) rather than re-deriving the split rule here, so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from protein_performer.data.prepare import PrepareConfig, prepare
from protein_performer.data.splits import SPLITS, TEST
from protein_performer.data.tokenizer import Alphabet


@dataclass(frozen=True)
class HeldOut:
    sequences: tuple[str, ...]
    source: str  # where they came from, for the report


def held_out_sequences(n: int, config: PrepareConfig | None = None) -> HeldOut:
    """The first `n` sequences of the prepared test split (preparing it first if needed)."""
    config = config or PrepareConfig()
    if not Path(config.fasta).is_file():
        raise FileNotFoundError(f"{config.fasta}: FASTA not found (needed for the test split)")
    result = prepare(config)
    test = result.load()[SPLITS[TEST]]
    rows = test.select(range(min(n, len(test))))
    alphabet = Alphabet()
    sequences = tuple(alphabet.decode(np.asarray(t, dtype=np.int64)) for t in rows["tokens"])
    return HeldOut(sequences, f"prepared test split {result.path}")
