"""Lightning checkpoint files on disk: which one holds the most progress, and which are intact.

A run directory can hold several files of one kind: Lightning writes `last-v1.ckpt`,
`last-v2.ckpt` (and `best-v1.ckpt`) when a file of that name already exists, and a kill can
leave a truncated or empty file behind. Names and modification times therefore say nothing
reliable about progress; the global step recorded inside each file does. Reading it costs one
memory-mapped `torch.load` (tensors are not read), so choosing among a few files is cheap even
for large models.

Plain torch only, beside `model.io`: `--resume` chooses through here, and so can any layer
that must pick among a run's checkpoints without importing Lightning.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import torch


class CheckpointFileError(ValueError):
    """A file that should be a Lightning checkpoint is not one (or is damaged)."""


@dataclass(frozen=True)
class CheckpointFile:
    path: Path
    global_step: int


def read_step(path: Path) -> int:
    """The `global_step` recorded in a Lightning checkpoint; `CheckpointFileError` if the file is
    empty, truncated, not a checkpoint, or not one written by Lightning."""
    if path.stat().st_size == 0:
        raise CheckpointFileError(f"{path}: empty file")
    try:
        raw = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except Exception as error:  # zip reader, unpickler and EOF errors alike
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointFileError(f"{path}: unreadable checkpoint ({first})") from error
    if not isinstance(raw, dict) or "pytorch-lightning_version" not in raw:
        raise CheckpointFileError(f"{path}: not a Lightning checkpoint (no version record)")
    if not isinstance(raw.get("global_step"), int):
        raise CheckpointFileError(f"{path}: no global_step recorded")
    return int(raw["global_step"])


def intact_checkpoints(paths: list[Path], *, warn: bool = True) -> list[CheckpointFile]:
    """The readable ones among `paths`, newest progress first (ties: newest file first).
    A damaged file is skipped with a `UserWarning` naming it."""
    found = []
    for path in paths:
        try:
            found.append(CheckpointFile(path, read_step(path)))
        except CheckpointFileError as error:
            if warn:
                warnings.warn(f"skipping {error}", UserWarning, stacklevel=2)
    return sorted(
        found, key=lambda c: (c.global_step, c.path.stat().st_mtime_ns, c.path.name), reverse=True
    )


def newest_checkpoint(
    directory: Path, pattern: str = "*.ckpt", *, warn: bool = True
) -> CheckpointFile | None:
    """The intact checkpoint matching `pattern` in `directory` with the highest global step."""
    if not directory.is_dir():
        return None
    found = intact_checkpoints(sorted(directory.glob(pattern)), warn=warn)
    return found[0] if found else None
