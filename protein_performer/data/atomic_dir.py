"""Directories that appear whole or not at all, safe under kills and concurrent builders.

A result is built in `parent/.tmp-<key>-<pid>-<random>/` and moved to `parent/<key>/` by
`swap_in`: on Linux the two names are exchanged in one `renameat2(RENAME_EXCHANGE)`, so
`<key>/` is at every moment the complete old result or the complete new one. Elsewhere the old
result is renamed aside to `.old-<key>-...` and the new one renamed in: `<key>/` is then absent
between the two renames (the old one kept aside), never a half-deleted mixture. The old result
is deleted last.

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
import ctypes
import errno
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


_RENAME_EXCHANGE = 2  # linux/fs.h: swap the two names in one step
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap the names `a` and `b` in one `renameat2(RENAME_EXCHANGE)` (Linux >= 3.15); False
    where the system or filesystem cannot, and nothing was changed."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]  # fmt: skip
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    errno_ = ctypes.get_errno()
    if errno_ in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(errno_, f"renameat2({a}, {b}): {os.strerror(errno_)}")


def swap_in(tmp: Path, final: Path) -> None:
    """Make `tmp` become `final` (caller holds the lock). Where the kernel can exchange two
    names, old and new trade places in one step, so `final` is never absent; elsewhere the old
    one is renamed aside first. The old result is deleted last."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}-{os.urandom(4).hex()}")
        if exchange(tmp, final):
            os.rename(tmp, old)  # the old result, under a name any later builder removes
            fsync_path(final.parent)
            shutil.rmtree(old, ignore_errors=True)
            return
        os.rename(final, old)
    os.rename(tmp, final)
    fsync_path(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
