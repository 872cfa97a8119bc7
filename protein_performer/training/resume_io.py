"""What a resumable run writes: checkpoint files replaced atomically beside their final name, and a
CSV log that a resumed run continues.

Lightning's default `TorchCheckpointIO` stages each checkpoint in a `tempfile.mkstemp()` file in
`$TMPDIR` and moves it into place afterwards: across filesystems that move is a copy, so a kill
during it leaves a truncated `last.ckpt`, and a kill before it leaves the temporary file in
`$TMPDIR` forever. `AtomicCheckpointIO` writes `.<name>.tmp-<pid>` in the checkpoint's own
directory, fsyncs it and `os.replace`s it over the target: the target is always either the old
complete file or the new complete file. Leftover temporaries of dead processes are removed by
`remove_stale_temporaries`.
"""

from __future__ import annotations

import csv
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.pytorch.loggers import CSVLogger

_TMP_MARK = ".tmp-"


class AtomicCheckpointIO(TorchCheckpointIO):
    """`torch.save` into a temporary file on the same filesystem, then one atomic rename."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any = None
    ) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO takes no storage_options")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}{_TMP_MARK}{os.getpid()}")
        try:
            with open(tmp, "wb") as fh:
                torch.save(checkpoint, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)  # the rename itself survives a power cut
        finally:
            os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Delete `.<name>.tmp-<pid>` files of processes that no longer run; returns them."""
    removed = []
    if not directory.is_dir():
        return removed
    for path in directory.glob(f".*{_TMP_MARK}*"):
        pid = path.name.rsplit(_TMP_MARK, 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


class ContinuedCSVLogger(CSVLogger):
    """A `CSVLogger` that, on resume, keeps the rows of the existing `metrics.csv` logged before
    the resumed step instead of deleting the file: a resumed run is one curve in one file.

    Rows at or after `resume_step` came from progress the checkpoint does not hold; the resumed
    run logs those steps again.
    """

    def __init__(self, *args: Any, resume_step: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resume_step = resume_step

    @property
    def experiment(self):  # noqa: ANN201 - Lightning's writer type is private
        if self._experiment is not None or self.resume_step is None:
            return super().experiment
        path = Path(self.log_dir) / "metrics.csv"
        kept: list[dict[str, Any]] = []
        if path.is_file():
            with path.open(newline="") as fh:
                for row in csv.DictReader(fh):
                    step = row.get("step") or ""
                    if step.isdigit() and int(step) < self.resume_step:
                        kept.append({k: v for k, v in row.items() if v not in ("", None)})
        with warnings.catch_warnings():
            # "...will be deleted": true of Lightning's writer, which we refill just below.
            warnings.filterwarnings("ignore", message=".*exists and is not empty")
            writer = super().experiment
        # Ranks other than 0 get Lightning's dummy experiment, which keeps no rows.
        if kept and isinstance(getattr(writer, "metrics", None), list):
            writer.metrics = kept + writer.metrics
            writer.save()
        return writer


def latest_log_version(logs_dir: Path) -> int | None:
    """The highest `version_<k>` under `logs_dir` that holds a metrics.csv, or None."""
    versions = [
        int(p.parent.name.split("_")[-1])
        for p in logs_dir.glob("version_*/metrics.csv")
        if p.parent.name.split("_")[-1].isdigit()
    ]
    return max(versions) if versions else None
