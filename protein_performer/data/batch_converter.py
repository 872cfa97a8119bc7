"""Labelled sequences -> padded token batch, as fair-esm's `BatchConverter` (`esm/data.py`).

    converter = BatchConverter(Alphabet())
    labels, sequences, tokens_BL = converter([("p1", "MKTAYIAK"), ("p2", "MKV")])

Each row is `<cls> residues <eos>` right-padded with `<pad>` (`data.padding.pad_tokens`); the
padding mask is `tokens_BL == PAD_ID`, which is what `ProteinPerformer.forward` assumes when
given none, and `pad_batch` returns it beside the tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from protein_performer.data.padding import pad_tokens
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
        tokens_BL, _ = self.pad_batch(data)
        return [label for label, _ in data], [sequence for _, sequence in data], tokens_BL

    def pad_batch(self, data: Sequence[tuple[str, str]]) -> tuple[torch.Tensor, torch.Tensor]:
        """`(tokens_BL int64, is_pad_BL bool)` of `[(label, sequence), ...]`; an error names
        the label of a sequence that does not encode or does not fit `max_len`."""
        if not data:
            raise ValueError("BatchConverter: no sequences")
        encoded = [self.alphabet.encode(seq, where=str(label)) for label, seq in data]
        length = max(len(ids) for ids in encoded)
        if self.max_len is not None and length > self.max_len:
            longest = data[int(np.argmax([len(ids) for ids in encoded]))][0]
            raise ValueError(
                f"{longest}: {length - 2} residues, more than the model's {self.max_len - 2}"
            )
        return pad_tokens(encoded)
