"""Directories that appear whole or not at all, safe under kills and concurrent builders.

A result is built in `parent/.tmp-<key>-<pid>-<random>/` and moved to `parent/<key>/` by
`swap_in`: the old result (if any) is renamed aside to `.old-<key>-...`, the new one renamed in,
and the old one deleted last. Each step is one `rename(2)` on one filesystem, so a kill at any
moment leaves `<key>/` either the complete old result, the complete new one, or absent (between
the two renames, with the old one kept aside); never a half-deleted mixture.

Builders of the same key serialise on an advisory `flock(2)` on `parent/.lock-<key>`, held
while building: the second builder waits, then finds the first one's result (or, when forced,
replaces it atomically). The kernel releases the lock when its holder dies, however it dies,
so a killed build never blocks the next one. Leftover `.tmp-*` and `.old-*` directories are
removed by any later builder, whatever key they belong to, once no live process holds that
key's lock. (`flock` serialises the processes of one host; across hosts sharing a network
filesystem it is only as good as that filesystem's lock support.)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

_LEFTOVER_PREFIXES = (".tmp-", ".old-")


def _lock_path(parent: Path, key: str) -> Path:
    return parent / f".lock-{key}"


@contextlib.contextmanager
def build_lock(parent: Path, key: str) -> Iterator[None]:
    """Hold the exclusive build lock of `key` (blocking until it is free)."""
    fd = os.open(_lock_path(parent, key), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _key_is_idle(parent: Path, key: str) -> bool:
    fd = os.open(_lock_path(parent, key), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def remove_leftovers(parent: Path, held_key: str | None = None) -> list[Path]:
    """Delete `.tmp-*` / `.old-*` directories that no live builder owns; returns them.

    `held_key` is the key whose lock the caller holds: its leftovers are all stale. Best
    effort: in a directory this process may not write to, nothing is removed.
    """
    removed = []
    for path in parent.iterdir():
        if not path.name.startswith(_LEFTOVER_PREFIXES) or not path.is_dir():
            continue
        key = path.name[5:].split("-", 1)[0]
        try:
            stale = key == held_key or _key_is_idle(parent, key)
        except OSError:
            continue
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def new_tmp(parent: Path, key: str) -> Path:
    return parent / f".tmp-{key}-{os.getpid()}-{os.urandom(4).hex()}"


def fsync_tree(root: Path) -> None:
    """Flush every file and directory under `root` (and `root` itself) to disk."""
    for path in sorted(root.rglob("*")) + [root]:
        fsync_path(path)


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def swap_in(tmp: Path, final: Path) -> None:
    """Make `tmp` become `final`: old aside, new in, old deleted last (caller holds the lock)."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}-{os.urandom(4).hex()}")
        os.rename(final, old)
    os.rename(tmp, final)
    fsync_path(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
