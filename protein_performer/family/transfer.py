"""Start a family model from a general checkpoint (fine-tuning).

A family model may read a longer vocabulary (the aligned view adds the gap token, id 30, after
the general 30) and a shorter position table (C + 2 columns instead of 1024). Every other
parameter has the same shape. Vocabulary rows the general model lacks start as the mean of the
amino-acid rows; position rows are the first `max_len` of the general table.
"""

from __future__ import annotations

from pathlib import Path

import torch

from protein_performer.constants import AMINO_ACID_IDS, VOCAB_SIZE
from protein_performer.model.performer import ProteinPerformer
from protein_performer.training.checkpoint import (
    TRANSFERABLE,
    check_same_shape,
    model_config_of,
    model_state_of,
    read_checkpoint,
    transfer_weights,
)

_VOCAB_ROWS = ("token_embedding.weight", "lm_head.weight", "lm_head.bias")


def fit_state(state: dict[str, torch.Tensor], target: ProteinPerformer) -> dict[str, torch.Tensor]:
    """`state` reshaped to `target`'s vocabulary and position table."""
    out = dict(state)
    target_state = target.state_dict()
    for name in _VOCAB_ROWS:
        if name not in out or name not in target_state:
            continue
        have, want = out[name], target_state[name]
        if have.shape[0] < want.shape[0]:
            extra = have[list(AMINO_ACID_IDS)].mean(0, keepdim=True)
            out[name] = torch.cat(
                [have, extra.expand(want.shape[0] - have.shape[0], *have.shape[1:])]
            )
    for name, want in target_state.items():
        if name.endswith("position_embedding.weight") and name in out:
            if out[name].shape[0] < want.shape[0]:
                raise ValueError(
                    f"the checkpoint's position table has {out[name].shape[0]} rows, the family "
                    f"model needs {want.shape[0]}"
                )
            out[name] = out[name][: want.shape[0]]
    return out


def init_family_from(path: str | Path, target: ProteinPerformer) -> int:
    """Load a general checkpoint into `target`; returns the number of parameters copied."""
    checkpoint = read_checkpoint(path)
    source = model_config_of(checkpoint, str(path))
    check_same_shape(source, target.config, str(path), TRANSFERABLE | {"vocab_size", "max_len"})
    if source.vocab_size > target.config.vocab_size or source.vocab_size < VOCAB_SIZE:
        raise ValueError(
            f"{path}: vocabulary of {source.vocab_size} cannot grow into "
            f"{target.config.vocab_size}"
        )
    report = transfer_weights(fit_state(model_state_of(checkpoint), target), target)
    return len(report.parameters)
