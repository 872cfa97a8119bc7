"""The one right-padder: token arrays of different lengths -> one `[B, L]` batch padded with
`<pad>` to its longest row, and the mask of the padding. The collators of `data.batching`, the
`BatchConverter` and every inference path build their batches with it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from protein_performer.constants import PAD_ID


def pad_tokens(items: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad int arrays to the longest: `(tokens_BL int64, is_pad_BL bool)`.

    The mask comes from the lengths, not from `tokens_BL == PAD_ID`, so it is right whatever
    the rows hold."""
    lengths_B = np.array([len(x) for x in items], dtype=np.int64)
    width = int(lengths_B.max(initial=0))
    tokens_BL = np.full((len(items), width), PAD_ID, dtype=np.int64)
    for row, x in zip(tokens_BL, items, strict=True):
        row[: len(x)] = x
    is_pad_BL = np.arange(width)[None, :] >= lengths_B[:, None]
    return torch.from_numpy(tokens_BL), torch.from_numpy(is_pad_BL)
