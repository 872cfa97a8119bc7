"""Moving weights between attention kinds, on top of the checkpoint I/O of `model.io`.

Reading checkpoints (`weights_only=True`) lives beside the model in `model.io`, so inference
never imports this training layer; the names are re-exported here for training code.

`transfer_weights` is the paper's backward compatibility (Choromanski et al. 2021, §4.3): a
Performer and an exact Transformer of the same shape share every parameter name, so one's
weights load into the other unchanged; only the FAVOR projection buffers are kind-specific.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from protein_performer.model.config import PerformerConfig
from protein_performer.model.io import (  # noqa: F401  (re-exported for training code)
    MODEL_PREFIX,
    CheckpointError,
    load_model,
    model_config_of,
    model_state_of,
    read_checkpoint,
)
from protein_performer.model.performer import ProteinPerformer


@dataclass(frozen=True)
class TransferReport:
    """What `transfer_weights` did: parameter names copied, projection buffers copied or kept."""

    parameters: tuple[str, ...]
    buffers_copied: tuple[str, ...]
    buffers_kept: tuple[str, ...]


def transfer_weights(
    source_state: dict[str, torch.Tensor], target: ProteinPerformer
) -> TransferReport:
    """Copy every parameter of `source_state` into `target`; all must match by name and shape.

    Buffers (the FAVOR `projection_MD`) are copied when the source has one of the same shape,
    e.g. Performer → Performer fine-tuning; otherwise (exact → Performer) the target keeps the
    projection it drew at construction, and a Performer → exact transfer simply drops it.
    """
    parameter_names = [name for name, _ in target.named_parameters()]
    # A tied head shares its tensor with the embedding; named_parameters lists it once, but the
    # state dict names both, so the alias is neither missing nor unexpected.
    target_state = target.state_dict()
    buffer_names = [name for name in target_state if name not in set(parameter_names)]
    aliases = {name for name in buffer_names if name.endswith("lm_head.weight")}
    missing = [name for name in parameter_names if name not in source_state]
    shape_errors = [
        f"{name}: source {tuple(source_state[name].shape)} "
        f"vs target {tuple(target_state[name].shape)}"
        for name in parameter_names
        if name in source_state and source_state[name].shape != target_state[name].shape
    ]
    if missing or shape_errors:
        raise ValueError(
            "checkpoint does not fit this model: "
            + "; ".join([f"missing {missing}"] * bool(missing) + shape_errors)
        )
    copied, kept = [], []
    new_state = {name: source_state[name] for name in parameter_names}
    for name in buffer_names:
        if name in aliases:
            continue
        if name in source_state and source_state[name].shape == target_state[name].shape:
            new_state[name] = source_state[name]
            copied.append(name)
        else:
            new_state[name] = target_state[name]
            kept.append(name)
    for name in aliases:
        new_state[name] = source_state.get(name, new_state["token_embedding.weight"])
    target.load_state_dict(new_state, strict=True)
    return TransferReport(tuple(parameter_names), tuple(copied), tuple(kept))


# Config fields that may differ between a checkpoint and the model its weights go into.
TRANSFERABLE = frozenset({"attention", "n_features", "dropout", "objective"})


def check_same_shape(
    source: PerformerConfig, target: PerformerConfig, where: str, free: frozenset[str]
) -> None:
    """Raise naming every field outside `free` in which the two configs differ."""
    diffs = [
        f"{k}: {v!r} vs {getattr(target, k)!r}"
        for k, v in source.to_dict().items()
        if k not in free and getattr(target, k) != v
    ]
    if diffs:
        raise ValueError(f"{where}: model shape differs from the target ({'; '.join(diffs)})")


def init_from(path: str | Path, target: ProteinPerformer) -> TransferReport:
    """`--init-from`: load a checkpoint's parameters into `target`, whatever its attention kind.
    The two configs must agree on everything but `attention` and `n_features` (and dropout)."""
    checkpoint = read_checkpoint(path)
    if "hyper_parameters" in checkpoint:
        source = model_config_of(checkpoint, str(path))
        check_same_shape(source, target.config, str(path), TRANSFERABLE)
    return transfer_weights(model_state_of(checkpoint), target)
