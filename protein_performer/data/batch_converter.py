"""Labelled sequences -> padded token batch, as fair-esm's `BatchConverter` (`esm/data.py`).

    converter = BatchConverter(Alphabet())
    labels, sequences, tokens_BL = converter([("p1", "MKTAYIAK"), ("p2", "MKV")])

Each row is `<cls> residues <eos>` right-padded with `<pad>`; the padding mask is simply
`tokens_BL == PAD_ID`, which is what `ProteinPerformer.forward` assumes when given none.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from protein_performer.constants import PAD_ID
from protein_performer.data.tokenizer import Alphabet


class BatchConverter:
    """Callable: `[(label, sequence), ...] -> (labels, sequences, tokens_BL int64)`."""

    def __init__(self, alphabet: Alphabet | None = None, *, max_len: int | None = None) -> None:
        self.alphabet = alphabet or Alphabet()
        # Longest framed row allowed (the model's max_len); None means no limit.
        self.max_len = max_len

    def __call__(
        self, data: Sequence[tuple[str, str]]
    ) -> tuple[list[str], list[str], torch.Tensor]:
        if not data:
            raise ValueError("BatchConverter: no sequences")
        labels = [label for label, _ in data]
        sequences = [sequence for _, sequence in data]
        encoded = [self.alphabet.encode(seq, where=str(label)) for label, seq in data]
        length = max(len(ids) for ids in encoded)
        if self.max_len is not None and length > self.max_len:
            longest = labels[int(np.argmax([len(ids) for ids in encoded]))]
            raise ValueError(
                f"{longest}: {length - 2} residues, more than the model's {self.max_len - 2}"
            )
        tokens_BL = torch.full((len(encoded), length), PAD_ID, dtype=torch.int64)
        for row, ids in enumerate(encoded):
            tokens_BL[row, : len(ids)] = torch.from_numpy(ids.astype(np.int64))
        return labels, sequences, tokens_BL
