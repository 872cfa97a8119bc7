"""What a prepared directory must hold, and whether it still holds it.

`meta.json` records, per split, the shard files in order with their byte size, row count and a
cheap checksum. A cached preparation is trusted only if every listed shard is there with the
same size, checksum and rows, and nothing else claims to be a shard: a deleted shard would
otherwise silently drop a share of the training rows, and a truncated one would fail deep inside
Arrow.

Two checksums per shard:
- `checksum`, BLAKE2b over the size and the first and last `CHECK_BYTES`: checked at every
  use, in milliseconds whatever the size, it catches what kills and partial copies leave behind
  (missing, short or foreign files) together with the row count;
- `xxh3_128`, xxHash3 over the whole file, written at build time: it catches a change anywhere
  (a flipped byte mid-shard would otherwise train on other tokens, or make Arrow abort on a
  broken offset). Reading every byte costs about a third of one pass over the tokens with a
  warm page cache (0.7 s for 379 MiB of shards, README), so it runs on the first use after a
  build, whenever a shard's size or modification time differs from the ones recorded at its
  last full check (`verified.json`: any rewrite of a shard, a copy, a restore), and on demand
  (`prepare --verify`). Decay that leaves the modification time alone
  is caught only by `--verify`.

Each split directory also gets the `state.json` / `dataset_info.json` that `datasets` writes
with `save_to_disk`, and the root a `dataset_dict.json`, so `datasets.load_from_disk(path)` opens
a preparation as a `DatasetDict` without going through this package.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import xxhash

CHECK_BYTES = 1 << 16
SHARD_GLOB = "data-*.arrow"


def file_checksum(path: Path) -> str:
    """BLAKE2b-128 of the size and the first and last `CHECK_BYTES` bytes of `path`."""
    size = path.stat().st_size
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    with open(path, "rb") as fh:
        digest.update(fh.read(CHECK_BYTES))
        if size > CHECK_BYTES:
            fh.seek(max(CHECK_BYTES, size - CHECK_BYTES))
            digest.update(fh.read(CHECK_BYTES))
    return digest.hexdigest()


def content_checksum(path: Path) -> str:
    """xxHash3-128 of every byte of `path`, read in 8 MiB blocks."""
    digest = xxhash.xxh3_128()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(8 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def arrow_rows(path: Path) -> int:
    """Rows of an Arrow stream file, reading only batch headers (memory-mapped)."""
    with pa.memory_map(str(path)) as source:
        reader = pa.ipc.open_stream(source)
        return sum(batch.num_rows for batch in reader)


def split_manifest(directory: Path) -> dict:
    """`{"rows": N, "shards": [{"file", "bytes", "rows", "checksum"}, ...]}` of one split."""
    shards = []
    for path in sorted(directory.glob(SHARD_GLOB)):
        shards.append(
            {
                "file": path.name,
                "bytes": path.stat().st_size,
                "rows": arrow_rows(path),
                "checksum": file_checksum(path),
                "xxh3_128": content_checksum(path),
            }
        )
    return {"rows": sum(s["rows"] for s in shards), "shards": shards}


def split_problems(directory: Path, manifest: dict) -> list[str]:
    """What differs between a split directory and its manifest (empty when it matches)."""
    listed = [s["file"] for s in manifest.get("shards", [])]
    if not listed:
        return [f"{directory}: meta.json lists no shards"]
    problems = []
    extra = sorted({p.name for p in directory.glob(SHARD_GLOB)} - set(listed))
    if extra:
        problems.append(f"{directory}: shards not in meta.json: {', '.join(extra)}")
    for shard in manifest["shards"]:
        path = directory / shard["file"]
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        size = path.stat().st_size
        if size != shard["bytes"]:
            problems.append(f"{path}: {size:,} bytes, meta.json says {shard['bytes']:,}")
            continue
        if file_checksum(path) != shard["checksum"]:
            problems.append(f"{path}: checksum differs from meta.json")
            continue
        try:
            rows = arrow_rows(path)
        except (OSError, pa.ArrowException) as error:
            problems.append(f"{path}: unreadable Arrow stream ({error})")
            continue
        if rows != shard["rows"]:
            problems.append(f"{path}: {rows:,} rows, meta.json says {shard['rows']:,}")
    return problems


VERIFIED_NAME = "verified.json"


def shard_stamps(root: Path, splits: dict[str, dict]) -> dict[str, list[int]]:
    """`{"<split>/<file>": [bytes, mtime_ns]}` of every listed shard that exists."""
    stamps = {}
    for name, manifest in splits.items():
        for shard in manifest.get("shards", []):
            path = root / name / shard["file"]
            if path.is_file():
                stat = path.stat()
                stamps[f"{name}/{shard['file']}"] = [stat.st_size, stat.st_mtime_ns]
    return stamps


def needs_content_check(root: Path, splits: dict[str, dict]) -> bool:
    """True unless `verified.json` records the shards' current sizes and modification times."""
    try:
        recorded = json.loads((root / VERIFIED_NAME).read_text())
    except (OSError, ValueError):
        return True
    return recorded != shard_stamps(root, splits)


def content_problems(root: Path, splits: dict[str, dict]) -> list[str]:
    """Shards whose whole-file checksum differs from the manifest's (shards of a manifest that
    predates the checksum are not checked). On success `verified.json` is (re)written, where
    the directory can be written: a read-only shared cache is checked at every use instead."""
    problems = []
    for name, manifest in splits.items():
        for shard in manifest.get("shards", []):
            expected = shard.get("xxh3_128")
            path = root / name / shard["file"]
            if expected is not None and content_checksum(path) != expected:
                problems.append(
                    f"{path}: content checksum differs from meta.json (the shard was changed "
                    f"after it was built)"
                )
    if not problems:
        tmp = root / f".{VERIFIED_NAME}.{os.getpid()}"
        try:
            tmp.write_text(json.dumps(shard_stamps(root, splits)))
            os.replace(tmp, root / VERIFIED_NAME)
        except OSError:
            pass
    return problems


def write_hf_metadata(root: Path, splits: dict[str, dict], features: dict, fingerprint: str):
    """The files `datasets.load_from_disk` reads: `dataset_dict.json` at the root, and
    `state.json` + `dataset_info.json` in each split directory."""
    for name, manifest in splits.items():
        state = {
            "_data_files": [{"filename": s["file"]} for s in manifest["shards"]],
            "_fingerprint": f"{fingerprint}-{name}",
            "_format_columns": None,
            "_format_kwargs": {},
            "_format_type": None,
            "_output_all_columns": False,
            "_split": name,
        }
        (root / name / "state.json").write_text(json.dumps(state, indent=1))
        (root / name / "dataset_info.json").write_text(json.dumps({"features": features}))
    (root / "dataset_dict.json").write_text(json.dumps({"splits": list(splits)}))
