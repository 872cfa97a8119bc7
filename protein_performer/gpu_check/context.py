"""What a stage gets (device, sizes, time left) and where its rows go (JSON, rewritten per row).

Timing itself is `bench.timing.median_ms` (the CPU benchmark's, synchronised on CUDA). A stage
checks `ctx.left()` before each measurement and records what it could not fit as a
skipped row; the parent kills a stage that overruns its budget anyway, and the JSON file holds
every row written before that.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any


@dataclass
class StageContext:
    """One stage's inputs. `budget_s` counts from `started` (the worker's start)."""

    name: str
    device: str
    quick: bool
    out_dir: Path
    budget_s: float
    fasta: Path | None = None
    started: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        """Seconds left of this stage's budget."""
        return self.budget_s - (time.monotonic() - self.started)

    @property
    def cuda(self) -> bool:
        return self.device.startswith("cuda")


class Sink:
    """The stage's JSON document `{stage, status, rows, ...}`, rewritten atomically after every
    row so that a kill at any moment leaves a valid file with everything measured so far."""

    def __init__(self, ctx: StageContext, **meta: Any) -> None:
        self.path = ctx.out_dir / f"{ctx.name}.json"
        self.doc: dict[str, Any] = {
            "stage": ctx.name,
            "status": "running",
            "device": ctx.device,
            "quick": ctx.quick,
            "budget_s": round(ctx.budget_s, 1),
            "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            **meta,
            "rows": [],
        }
        self._ctx = ctx
        self.flush()

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.doc["rows"]

    def add(self, **row: Any) -> dict[str, Any]:
        row.setdefault("status", "ok")
        self.rows.append(row)
        self.flush()
        return row

    def skip(self, reason: str, **row: Any) -> dict[str, Any]:
        return self.add(**row, status="skipped", reason=reason)

    def set(self, **meta: Any) -> None:
        self.doc.update(meta)
        self.flush()

    def finish(self, status: str = "done", **meta: Any) -> None:
        elapsed = time.monotonic() - self._ctx.started
        self.set(status=status, elapsed_s=round(elapsed, 2), **meta)

    def flush(self) -> None:
        write_json(self.path, self.doc)


def write_json(path: Path, doc: Any) -> None:
    """Write through a temporary file and rename: a reader never sees half a document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def optional(module: str) -> ModuleType | None:
    """The module if it imports, else None: a missing optional package becomes a row that says
    "not installed", never a crash of the whole check. Any import-time error counts as missing
    (a package can be present yet broken, e.g. Triton without a GPU)."""
    try:
        return importlib.import_module(module)
    except Exception:  # noqa: BLE001 - any failure to import means "not usable here"
        return None


def peak_memory_reset(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_memory_mb(device: str) -> float:
    """Peak allocated CUDA memory since the last reset; on CPU the process's peak RSS."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    from protein_performer.memory import peak_rss_mb

    return peak_rss_mb()


def is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, MemoryError) or "out of memory" in str(error).lower()
