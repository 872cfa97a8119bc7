"""Loading models out of Lightning checkpoints, and moving weights between attention kinds.

Checkpoints written by `ProteinLM` hold only plain Python types and tensors (hyper-parameters
are dicts), so they are always read with `torch.load(..., weights_only=True)`: loading a model
never runs pickled code.

`transfer_weights` is the paper's backward compatibility (Choromanski et al. 2021, §4.3): a
Performer and an exact Transformer of the same shape share every parameter name, so one's
weights load into the other unchanged; only the FAVOR projection buffers are kind-specific.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from protein_performer.model.config import PerformerConfig
from protein_performer.model.performer import ProteinPerformer

MODEL_PREFIX = "model."  # ProteinLM keeps the ProteinPerformer under `self.model`


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The raw checkpoint dict, loaded with `weights_only=True`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # the unpickler's message names the offending global
        raise ValueError(f"{path}: not a weights-only loadable checkpoint ({error})") from error


def model_config_of(checkpoint: dict[str, Any], where: str = "<checkpoint>") -> PerformerConfig:
    """The `PerformerConfig` saved in a `ProteinLM` checkpoint's hyper-parameters."""
    hparams = checkpoint.get("hyper_parameters") or {}
    if "model" not in hparams:
        raise ValueError(f"{where}: no hyper_parameters['model']; was it written by ProteinLM?")
    return PerformerConfig.from_dict(dict(hparams["model"]))


def model_state_of(checkpoint: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The `ProteinPerformer` state dict inside a Lightning checkpoint (prefix removed); a bare
    model state dict is returned unchanged."""
    state = checkpoint.get("state_dict", checkpoint)
    if any(key.startswith(MODEL_PREFIX) for key in state):
        return {k[len(MODEL_PREFIX) :]: v for k, v in state.items() if k.startswith(MODEL_PREFIX)}
    return dict(state)


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> ProteinPerformer:
    """A `ProteinPerformer` in eval mode with the checkpoint's weights *and* projection buffers,
    so its logits are exactly those of the model that was saved."""
    checkpoint = read_checkpoint(path, map_location)
    model = ProteinPerformer(model_config_of(checkpoint, str(path)))
    model.load_state_dict(model_state_of(checkpoint), strict=True)
    return model.to(map_location).eval()


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


def init_from(path: str | Path, target: ProteinPerformer) -> TransferReport:
    """`--init-from`: load a checkpoint's parameters into `target`, whatever its attention kind.
    The two configs must agree on everything but `attention` and `n_features` (and dropout)."""
    checkpoint = read_checkpoint(path)
    if "hyper_parameters" in checkpoint:
        source = model_config_of(checkpoint, str(path))
        free = {"attention", "n_features", "dropout", "objective"}
        diffs = [
            f"{k}: {v!r} vs {getattr(target.config, k)!r}"
            for k, v in source.to_dict().items()
            if k not in free and getattr(target.config, k) != v
        ]
        if diffs:
            raise ValueError(f"{path}: model shape differs from the target ({'; '.join(diffs)})")
    return transfer_weights(model_state_of(checkpoint), target)
