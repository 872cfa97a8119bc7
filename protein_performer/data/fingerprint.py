"""Cache keys: a digest of the input's bytes and of the options that shape the result."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

_MEMO_NAME = "content-digests.json"


def _hash_file(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def content_digest(path: Path, memo_dir: Path | None = None) -> str:
    """BLAKE2b-128 of the file's bytes (hex).

    Hashing a 60 GB TrEMBL file takes about a minute, so the digest is memoised in
    `memo_dir/content-digests.json` under the file's resolved path, inode, size, mtime and
    *ctime*. What is assumed: a file for which all five are unchanged holds the same bytes. The
    kernel sets ctime on every write and `touch`/`os.utime` cannot set it back, so an edit of
    the same size with its mtime restored still re-hashes; only a changed system clock or an
    edit below the filesystem (a raw block device) could get past it. The memo only saves time:
    the cache key is always the content digest.
    """
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_ino}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ctime_ns}"
    memo_path = memo_dir / _MEMO_NAME if memo_dir is not None else None
    memo: dict[str, str] = {}
    if memo_path is not None:
        try:
            memo = json.loads(memo_path.read_text())
        except (OSError, ValueError):
            memo = {}
        if key in memo:
            return memo[key]
    value = _hash_file(path)
    if memo_path is not None:
        memo[key] = value
        # Write-then-rename so that concurrent runs never read a half-written memo.
        tmp = memo_path.with_name(f".{_MEMO_NAME}.{os.getpid()}")
        try:
            tmp.write_text(json.dumps(memo, indent=1))
            os.replace(tmp, memo_path)
        except OSError:
            pass  # a read-only cache: the memo only saves time
    return value


def fingerprint_of(content: str, options: dict, format_version: int) -> str:
    """Directory name of a preparation: a hash of input content, options and format version."""
    blob = json.dumps(
        {"content": content, "options": options, "format": format_version}, sort_keys=True
    )
    return hashlib.blake2b(blob.encode("utf-8"), digest_size=10).hexdigest()
