"""Reading and writing models: Lightning checkpoints and Hugging Face style directories.

Loading a model for inference is not training, so this lives beside the model (as fair-esm's
`esm/pretrained.py` sits beside `esm/model/`): analysis, generation and the front door import
it without importing Lightning.

Two formats, the same weights:

- a Lightning `.ckpt` written by `ProteinLM`, holding only plain Python types and tensors, so
  it is always read with `torch.load(..., weights_only=True)`: loading never runs pickled code;
- a directory written by `save_pretrained`, with the Hugging Face layout `config.json` (the
  `PerformerConfig`) and `model.safetensors` (every tensor of the state dict, the FAVOR
  projection buffers included), read back by `from_pretrained`. safetensors holds no code at
  all, and the Hub is never contacted.

A family model also carries its `FamilyInfo` (`model.family_info`, None for a general model):
`checkpoint["family"]` in a `.ckpt`, `config.json["family"]` plus `family.hmm` in a directory.

Every failure is a `CheckpointError` whose message is one line: the file and what is wrong.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from protein_performer.model import family_info as family
from protein_performer.model.config import PerformerConfig
from protein_performer.model.performer import ProteinPerformer

MODEL_PREFIX = "model."  # ProteinLM keeps the ProteinPerformer under `self.model`
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
MODEL_TYPE = "protein_performer"
# Lines of torch's weights_only error that explain torch, not the file.
_TORCH_BOILERPLATE = ("Weights only load failed", "Check the documentation of torch.load")


class CheckpointError(ValueError):
    """A checkpoint cannot be loaded; the message names the file and says why, in one line."""


def _one_line_unpickling_error(error: BaseException) -> str:
    """The part of torch's multi-paragraph `weights_only` message that is about the file."""
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    kept = [ln for ln in lines if not ln.startswith(_TORCH_BOILERPLATE)]
    text = " ".join(kept).replace(
        "Please file an issue with the following so that we can make "
        "`weights_only=True` compatible with your use case: ",
        "",
    )
    return text.replace("WeightsUnpickler error: ", "").strip() or type(error).__name__


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The raw checkpoint dict, loaded with `weights_only=True`."""
    path = Path(path)
    if is_pretrained_dir(path):
        return _pretrained_as_checkpoint(path, map_location)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory without {CONFIG_NAME}, not a checkpoint")
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: empty file, not a checkpoint")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # the unpickler names the offending global or opcode
        raise CheckpointError(
            f"{path}: not a weights-only loadable checkpoint ({_one_line_unpickling_error(error)})"
        ) from None
    if not isinstance(checkpoint, dict):
        kind = type(checkpoint).__name__
        raise CheckpointError(f"{path}: holds a {kind}, not a checkpoint dict")
    return checkpoint


def model_config_of(checkpoint: dict[str, Any], where: str = "<checkpoint>") -> PerformerConfig:
    """The `PerformerConfig` saved in a `ProteinLM` checkpoint's hyper-parameters."""
    hparams = checkpoint.get("hyper_parameters") or {}
    if not isinstance(hparams, dict) or "model" not in hparams:
        raise CheckpointError(
            f"{where}: no hyper_parameters['model']; was it written by `protein-performer train`?"
        )
    values = hparams["model"]
    if not isinstance(values, dict):
        raise CheckpointError(f"{where}: hyper_parameters['model'] is not a mapping")
    check_config_types(values, where)
    try:
        return PerformerConfig.from_dict(dict(values))
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{where}: bad model config ({error})") from None


def model_state_of(
    checkpoint: dict[str, Any], where: str = "<checkpoint>"
) -> dict[str, torch.Tensor]:
    """The `ProteinPerformer` state dict inside a Lightning checkpoint (prefix removed); a bare
    model state dict is returned unchanged."""
    state = checkpoint.get("state_dict", checkpoint)
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise CheckpointError(f"{where}: state_dict is not a mapping of names to tensors")
    if any(key.startswith(MODEL_PREFIX) for key in state):
        return {k[len(MODEL_PREFIX) :]: v for k, v in state.items() if k.startswith(MODEL_PREFIX)}
    return dict(state)


def _load_state(model: ProteinPerformer, state: dict[str, Any], where: str) -> None:
    """`load_state_dict(strict=True)` with torch's multi-line mismatch report cut to one line."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [
        f"{k} {tuple(getattr(state[k], 'shape', ()))} vs {tuple(expected[k].shape)}"
        for k in expected
        if k in state and getattr(state[k], "shape", None) != expected[k].shape
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {missing[0]})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
    if shapes:
        problems.append(f"shape mismatch {shapes[0]}")
    if problems:
        raise CheckpointError(f"{where}: weights do not fit the model: {'; '.join(problems)}")
    check_finite(state, where)
    model.load_state_dict(state, strict=True)


def load_checkpoint_model(
    path: str | Path, map_location: str | torch.device = "cpu"
) -> ProteinPerformer:
    """A `ProteinPerformer` in eval mode from a Lightning checkpoint, with its weights *and*
    projection buffers, so its logits are exactly those of the model that was saved."""
    checkpoint = read_checkpoint(path, map_location)
    model = ProteinPerformer(model_config_of(checkpoint, str(path)))
    _load_state(model, model_state_of(checkpoint, str(path)), str(path))
    model.family_info = family_info_of(checkpoint, str(path))
    return model.to(map_location).eval()


def family_info_of(checkpoint: dict[str, Any], where: str = "<checkpoint>"):
    """The `FamilyInfo` stored under `checkpoint["family"]`, or None for a general model."""
    values = checkpoint.get(family.CHECKPOINT_KEY)
    if values is None:
        return None
    if not isinstance(values, dict):
        raise CheckpointError(f"{where}: {family.CHECKPOINT_KEY!r} entry is not a mapping")
    try:
        return family.FamilyInfo.from_dict(dict(values))
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{where}: bad {family.CHECKPOINT_KEY!r} entry ({error})") from None


def _write_family_info(model: ProteinPerformer, directory: Path, config: dict[str, Any]) -> None:
    """Add the model's `FamilyInfo` to `config` (without the HMM) and write `family.hmm`."""
    info = getattr(model, "family_info", None)
    if info is None:
        return
    config[family.CHECKPOINT_KEY] = info.to_dict(with_hmm=False)
    if info.hmm is not None:
        (directory / family.HMM_NAME).write_text(info.hmm)


def _read_family_info(values: dict[str, Any], directory: Path):
    """The `FamilyInfo` of a `save_pretrained` directory (its config entry popped from
    `values`), with the text of `family.hmm` when that file is there; None if absent."""
    entry = values.pop(family.CHECKPOINT_KEY, None)
    if entry is None:
        return None
    config_path, hmm_path = directory / CONFIG_NAME, directory / family.HMM_NAME
    hmm = hmm_path.read_text() if hmm_path.is_file() else None
    if not isinstance(entry, dict):
        raise CheckpointError(f"{config_path}: {family.CHECKPOINT_KEY!r} is not a mapping")
    try:
        return family.FamilyInfo.from_dict(entry, hmm=hmm)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{config_path}: bad {family.CHECKPOINT_KEY!r} ({error})") from None


def save_pretrained(model: ProteinPerformer, directory: str | Path) -> Path:
    """Write `config.json` and `model.safetensors` (and `family.hmm` for a family model with a
    profile) into `directory`; returns it.

    The files are written into a temporary directory beside `directory`, flushed to disk, and
    swapped in by `write_dir_atomically`: a kill at any moment leaves the previous save or the
    new one, never a config of one over the weights of the other.

    The tied LM head shares its tensor with the token embedding; safetensors stores a shared
    tensor once (`save_model` drops the alias), and `from_pretrained` ties it again.
    """
    directory = Path(directory)
    write_dir_atomically(directory, lambda tmp: _write_pretrained_files(model, tmp))
    return directory


def _write_pretrained_files(model: ProteinPerformer, directory: Path) -> None:
    from safetensors.torch import save_model

    config = {"model_type": MODEL_TYPE, **model.config.to_dict()}
    _write_family_info(model, directory, config)
    (directory / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")
    save_model(model, str(directory / WEIGHTS_NAME), metadata={"format": "pt"})


def write_dir_atomically(directory: Path, write: Callable[[Path], None]) -> None:
    """`write(tmp)` into a fresh directory beside `directory`, fsync it, then swap it in (see
    `data.atomic_dir`); concurrent writers of one directory take turns on its lock file."""
    from protein_performer.data.atomic_dir import (
        build_lock,
        fsync_tree,
        new_tmp,
        remove_leftovers,
        swap_in,
    )

    parent = directory.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    if directory.exists() and not directory.is_dir():
        raise CheckpointError(f"{directory}: is a file, not a save_pretrained directory")
    with build_lock(parent, directory.name):
        remove_leftovers(parent, directory.name)
        tmp = new_tmp(parent, directory.name)
        tmp.mkdir()
        try:
            write(tmp)
            fsync_tree(tmp)
            swap_in(tmp, parent / directory.name)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def is_pretrained_dir(path: str | Path) -> bool:
    return (Path(path) / CONFIG_NAME).is_file()


def from_pretrained(
    directory: str | Path, map_location: str | torch.device = "cpu"
) -> ProteinPerformer:
    """The model `save_pretrained` wrote into `directory`, in eval mode."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    directory = Path(directory)
    config_path, weights_path = directory / CONFIG_NAME, directory / WEIGHTS_NAME
    if not config_path.is_file() or not weights_path.is_file():
        raise CheckpointError(f"{directory}: needs {CONFIG_NAME} and {WEIGHTS_NAME}")
    try:
        values = json.loads(config_path.read_text())
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{config_path}: not JSON ({error})") from None
    if not isinstance(values, dict) or values.pop("model_type", None) != MODEL_TYPE:
        raise CheckpointError(f"{config_path}: not a {MODEL_TYPE} config (model_type)")
    check_config_types(values, str(config_path))
    info = _read_family_info(values, directory)
    try:
        config = PerformerConfig.from_dict(values)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{config_path}: {error}") from None
    try:
        state = load_file(str(weights_path), device=str(map_location))
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"{weights_path}: not a safetensors file ({error})") from None
    model = ProteinPerformer(config)
    tied = ("token_embedding.weight", "lm_head.weight")
    if config.tie_embeddings and sum(name in state for name in tied) == 1:
        # save_model stores the shared tensor under one of its two names.
        present = next(name for name in tied if name in state)
        for name in tied:
            state[name] = state[present]
    _load_state(model, state, str(weights_path))
    model.family_info = info
    return model.to(map_location).eval()


def check_config_types(values: dict[str, Any], where: str) -> None:
    """Each saved `PerformerConfig` value has its field's type (a float field takes an int): a
    wrong one is an error naming the key, before the config's own checks compute with it."""
    for field in dataclasses.fields(PerformerConfig):
        if field.name not in values:
            continue
        value, kind = values[field.name], type(field.default)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise CheckpointError(
                f"{where}: config key {field.name!r} is {value!r}, expected a {kind.__name__}"
            )


def check_finite(state: dict[str, Any], where: str) -> None:
    """Refuse weights holding NaN or infinity: every output computed from them would be too."""
    for name, tensor in state.items():
        if torch.is_tensor(tensor) and tensor.is_floating_point():
            bad = int((~torch.isfinite(tensor)).sum())
            if bad:
                raise CheckpointError(
                    f"{where}: {name} holds {bad:,} non-finite value(s) (NaN or inf) of "
                    f"{tensor.numel():,}; the weights are damaged"
                )


def _pretrained_as_checkpoint(directory: Path, map_location) -> dict[str, Any]:
    """A save_pretrained directory in the shape of a `ProteinLM` checkpoint dict, so every
    reader of checkpoints (`--init-from`, `--reference`, ...) also takes a directory."""
    model = from_pretrained(directory, map_location)
    checkpoint: dict[str, Any] = {
        "hyper_parameters": {"model": model.config.to_dict()},
        "state_dict": {MODEL_PREFIX + k: v for k, v in model.state_dict().items()},
    }
    info = getattr(model, "family_info", None)
    if info is not None:
        checkpoint["family"] = info.to_dict()
    return checkpoint


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> ProteinPerformer:
    """A model from a Lightning `.ckpt` file or a `save_pretrained` directory, in eval mode."""
    if is_pretrained_dir(path):
        return from_pretrained(path, map_location)
    return load_checkpoint_model(path, map_location)


@dataclass(frozen=True)
class Provenance:
    """Which checkpoint an output came from: written into every output file's metadata."""

    path: str
    sha256: str

    def __str__(self) -> str:
        return f"{self.path} (sha256 {self.sha256[:16]})"

    def as_dict(self) -> dict[str, str]:
        return {"checkpoint": self.path, "checkpoint_sha256": self.sha256}


def checkpoint_sha256(path: str | Path) -> str:
    """SHA-256 of a checkpoint file, or of `config.json` + `model.safetensors` (+ `family.hmm`)
    of a directory."""
    path = Path(path)
    files = [path / CONFIG_NAME, path / WEIGHTS_NAME] if path.is_dir() else [path]
    if path.is_dir() and (path / family.HMM_NAME).is_file():
        files.append(path / family.HMM_NAME)  # the profile decides which columns are scored
    digest = hashlib.sha256()
    for file in files:
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def provenance(path: str | Path) -> Provenance:
    return Provenance(str(path), checkpoint_sha256(path))
