"""Resident memory of this process (or a waited-for child), in MiB, for the benchmarks, the
throughput probe and the experiment runner: measured one way everywhere.

Linux only, like the rest of the measurement code: `ru_maxrss` is in KiB there, and the current
resident size comes from `/proc/self/statm`.
"""

from __future__ import annotations

import os
import resource


def peak_rss_mb(usage: resource.struct_rusage | None = None) -> float:
    """High-water mark of resident memory: this process's, or that of `usage` (e.g. the rusage
    `os.wait4` returns for one child)."""
    usage = usage or resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_maxrss / 1024


def rss_mb() -> float:
    """Resident memory now."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
