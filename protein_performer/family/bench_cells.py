"""What the two family benches (`family.bench`, `family.ensemble_bench`) share: the two dev
families, the contact truth each is read against, one timed run, and the cells of their tables."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from protein_performer.errors import UserError

# family -> its `family` config (PDZ with the DLG4_RAT scan, Kunitz with 5PTI).
FAMILIES = {"pdz": "configs/family.yaml", "kunitz": "configs/family_pf00014.yaml"}
# The contact truth each family is read against: PF00595's column map at 4.5 Å, 5PTI at Cβ 8 Å.
THRESHOLD = {"pdz": "4.5", "kunitz": "8"}
# The Performer's contact read-outs the tables show.
READOUTS = ("jacobian", "position_attention")
# One torch thread per run: runs share the cores with each other.
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def check_jobs(jobs: int) -> None:
    """`--jobs` is the number of runs at once: at least one."""
    if jobs < 1:
        raise UserError(f"--jobs must be >= 1, got {jobs}")


def timed(cmd: list[str], log: Path) -> dict:
    """Run `cmd` (output into `log`) with one thread; its exit code, wall seconds and command."""
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(log, "w") as handle:
        code = subprocess.call(cmd, stdout=handle, stderr=subprocess.STDOUT,
                               env={**os.environ, **ENV})  # fmt: skip
    wall_s = time.perf_counter() - start
    print(f"{log.stem}: exit {code}, {wall_s / 60:.1f} min", flush=True)
    return {"exit": code, "wall_s": wall_s, "command": " ".join(cmd[2:])}


def long_range(data: dict, key: str, family: str) -> dict | None:
    """The long-range precisions of contact map `key` in an evaluation, against the family's
    truth; None where the evaluation has no such map."""
    scores = data.get("contacts", {}).get(key)
    return scores[THRESHOLD[family]]["long"] if scores else None


def contacts_cell(long: dict | None) -> str:
    return f"{long['P@L']:.3f} / {long['P@L/5']:.3f}" if long else "—"


def mean_p_at_l_cell(pdz: dict | None, kunitz: dict | None) -> str:
    return f"{(pdz['P@L'] + kunitz['P@L']) / 2:.3f}" if pdz and kunitz else "—"


def interval_cell(row: dict, value: str, low: str, high: str, spec: str) -> str:
    return f"{row[value]:{spec}} [{row[low]:{spec}}, {row[high]:{spec}}]"
