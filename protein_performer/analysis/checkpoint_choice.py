"""Which checkpoint to analyse when none is named: shared by `make analyze`, the embedding and
mutation CLIs, and the notebook, so all of them pick the same model.

Order: an explicit path; else the newest run of `make train` (`runs/<name>/checkpoints/`, its
`best*.ckpt` with the highest recorded step, else its newest intact `.ckpt`); else the shipped
`checkpoints/protein_performer_default.ckpt`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from protein_performer.model.checkpoint_files import newest_checkpoint

SHIPPED = Path("checkpoints") / "protein_performer_default.ckpt"
ENV_VAR = "PROTEIN_PERFORMER_CHECKPOINT"
HOW_TO_GET_ONE = (
    "no checkpoint to analyse: none under runs/*/checkpoints/ and no shipped "
    f"{SHIPPED}.\nTrain one with `make train` (a few minutes on CPU), or pass "
    "--checkpoint PATH to a Lightning checkpoint written by `protein-performer train`."
)


class NoCheckpointError(FileNotFoundError):
    """No checkpoint was given and none could be found; the message says how to get one."""


def newest_run_checkpoint(runs_dir: Path) -> Path | None:
    """The run whose checkpoints changed last: its intact `best*.ckpt` with the highest recorded
    step (a `best-v1.ckpt` beside a stale `best.ckpt` is the newer one), else its intact
    checkpoint with the highest step."""
    candidates = list(runs_dir.glob("*/checkpoints/*.ckpt"))
    if not candidates:
        return None
    newest = max(candidates, key=lambda p: (p.stat().st_mtime_ns, str(p)))
    found = newest_checkpoint(newest.parent, "best*.ckpt") or newest_checkpoint(newest.parent)
    return found.path if found is not None else newest  # damaged: loading it says so


def resolve_checkpoint(
    path: str | Path | None = None, *, root: str | Path = ".", use_env: bool = False
) -> Path:
    """The checkpoint to load. `use_env` lets `$PROTEIN_PERFORMER_CHECKPOINT` name it (the
    notebook's way of being told); relative defaults are looked up under `root`."""
    if path is None and use_env and os.environ.get(ENV_VAR):
        path = os.environ[ENV_VAR]
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise NoCheckpointError(f"{path}: no such checkpoint file")
        return path
    root = Path(root)
    found = newest_run_checkpoint(root / "runs")
    if found is not None:
        return found
    if (root / SHIPPED).is_file():
        return root / SHIPPED
    raise NoCheckpointError(HOW_TO_GET_ONE)


def checkpoint_or_report(path: str | Path | None, prog: str) -> Path | None:
    """`resolve_checkpoint` for a CLI: on failure, print `prog: <how to get one>` to stderr and
    return None (the caller exits with status 2)."""
    try:
        return resolve_checkpoint(path)
    except NoCheckpointError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return None
