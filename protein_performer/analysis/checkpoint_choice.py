"""Which checkpoint the notebooks analyse: `$PROTEIN_PERFORMER_CHECKPOINT` when set (how a test
or `make notebooks CHECKPOINT=…` tells them), else the shipped default. The newest run under
`runs/` is never picked behind the user's back; the commands take `--checkpoint` the same way
(`cli_support.checkpoint_path`).
"""

from __future__ import annotations

import os
from pathlib import Path

from protein_performer.paths import SHIPPED_CHECKPOINT

ENV_VAR = "PROTEIN_PERFORMER_CHECKPOINT"


class NoCheckpointError(FileNotFoundError):
    """The named checkpoint does not exist."""


def resolve_checkpoint(path: str | Path | None = None, *, use_env: bool = False) -> Path:
    """`path` if given, else `$PROTEIN_PERFORMER_CHECKPOINT` (only with `use_env`), else the
    shipped `checkpoints/protein_performer_default.ckpt`."""
    if path is None and use_env and os.environ.get(ENV_VAR):
        path = os.environ[ENV_VAR]
    path = Path(path) if path is not None else SHIPPED_CHECKPOINT
    if not path.exists():
        raise NoCheckpointError(f"{path}: no such checkpoint")
    return path
