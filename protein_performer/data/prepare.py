"""FASTA → tokenised Arrow splits (`train`, `valid`, `test`, `ood`), cached and written atomically.

`prepare(config)` returns the directory of a complete preparation, building it only when no
complete one exists for the same fingerprint. The fingerprint covers the input's *content*
(BLAKE2b of its bytes; see `content_digest`) and every option that changes the result, so editing
the FASTA or an option rebuilds, while renaming or touching the file does not.

Atomicity (see `atomic_dir`): everything is built in `cache_dir/.tmp-<fingerprint>-...`, flushed
to disk, and swapped in as `cache_dir/<fingerprint>/` (old result renamed aside, new renamed in,
old deleted last), under a per-fingerprint lock so concurrent builders never undo each other. A
kill at any point leaves the old result, the new one, or none, plus leftovers that the next run
removes. A cached directory is trusted only if its `meta.json` records the same fingerprint,
`complete: true`, and shard lists that the files on disk still match (`manifest`); otherwise it
is rebuilt, and `load_prepared` refuses it with a message saying how to rebuild.

Memory stays bounded by two streaming passes (see `splits` for the duplicate-resolution
argument): pass 1 reads the FASTA once, tokenises and spills records into digest buckets; pass 2
resolves one bucket at a time and appends the kept records to per-split Arrow shards.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import DatasetDict

from protein_performer.constants import VOCAB_SIZE
from protein_performer.data.atomic_dir import (
    build_lock,
    fsync_tree,
    new_tmp,
    remove_leftovers,
    swap_in,
)
from protein_performer.data.fasta import FastaFormatError
from protein_performer.data.fingerprint import content_digest, fingerprint_of
from protein_performer.data.manifest import (
    content_problems,
    needs_content_check,
    split_manifest,
    split_problems,
    write_hf_metadata,
)
from protein_performer.data.prepare_pass1 import encode_records
from protein_performer.data.shards import FEATURES, BucketSpill, ShardWriter, load_split
from protein_performer.data.splits import SPLITS, resolve_duplicates
from protein_performer.data.stats import LengthSummary, SplitStats
from protein_performer.data.tokenizer import UnknownPolicy

# The shard contents define the format. A cache written before meta.json listed its shards has
# the same fingerprint and is rebuilt in place, because `problems` finds no shard list in it.
FORMAT_VERSION = 1
# Plasmodium knowlesi (strain H) and Synechococcus elongatus PCC 7942: two whole proteomes of the
# shipped sample (5,096 and 2,658 records) whose genera also have other members in training, so
# the OOD split measures transfer to an unseen organism, not to an unseen kingdom.
DEFAULT_OOD_TAXA: tuple[int, ...] = (5851, 1140)
# Uncompressed bytes per compressed byte assumed when sizing buckets; protein FASTA compresses
# about 1.8x with gzip, so 3 errs towards more, smaller buckets.
_GZIP_RATIO_GUESS = 3
MAX_BUCKETS = 256  # one open spill file each
_ROWS_PER_SLICE = 8192


def _token_counts(part: pa.Table) -> np.ndarray:
    """Token-id counts of a table's `tokens` column, without widening the values to int64."""
    counted = pc.value_counts(pc.list_flatten(part.column("tokens")))
    counts = np.zeros(VOCAB_SIZE, dtype=np.int64)
    ids = counted.field("values").to_numpy().astype(np.int64)
    counts[ids] = counted.field("counts").to_numpy()
    return counts


@dataclass(frozen=True)
class PrepareConfig:
    """Options of a preparation.

    The fingerprint takes the FASTA's content (not its path) and every option that changes the
    result; `cache_dir`, the three sizes and `workers` change only how the work is done.
    """

    fasta: str = "data/uniprot_sample.fasta.gz"
    cache_dir: str = "cache"
    valid_fraction: float = 0.05
    test_fraction: float = 0.05
    ood_taxa: tuple[int, ...] = DEFAULT_OOD_TAXA  # OX=/TaxID= values held out whole
    ood_accessions: tuple[str, ...] = ()  # accessions (or UniRef cluster ids) held out
    unknown: UnknownPolicy = "error"  # invalid residues: raise, or map to X
    split_salt: str = "pp-split-v1"  # change to draw a different, equally stable, split
    # Not fingerprinted: they change how the work is done, not the result.
    bucket_bytes: int = 64 << 20  # target size of one pass-2 bucket (bounds peak memory)
    spill_buffer_bytes: int = 32 << 20  # total pass-1 write buffers across buckets
    shard_bytes: int = 512 << 20  # roll output shards at about this size
    workers: int = 1  # pass-1 tokenising processes; the result is the same for any count

    def __post_init__(self) -> None:
        # Checked here, not in pass 2, so a bad option fails before reading a 60 GB file.
        if not (0 <= self.valid_fraction and 0 <= self.test_fraction):
            raise ValueError("valid_fraction and test_fraction must be >= 0")
        if self.valid_fraction + self.test_fraction >= 1:
            raise ValueError("valid_fraction + test_fraction must be < 1 (train needs a share)")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.unknown not in ("error", "x"):
            raise ValueError(f"unknown must be 'error' or 'x', got {self.unknown!r}")

    def fingerprinted(self) -> dict:
        options = asdict(self)
        for name in (
            "fasta",
            "cache_dir",
            "bucket_bytes",
            "spill_buffer_bytes",
            "shard_bytes",
            "workers",
        ):
            options.pop(name)
        options["ood_taxa"] = sorted(set(self.ood_taxa))
        options["ood_accessions"] = sorted(set(self.ood_accessions))
        return options


def parse_taxa(text: str) -> tuple[int, ...]:
    """'5851,1140' → (5851, 1140); '' → ()."""
    items = [t for t in text.replace(" ", "").split(",") if t]
    bad = [t for t in items if not t.isdigit()]
    if bad:
        raise ValueError(f"ood taxa must be NCBI taxon ids (OX= values), got {bad}")
    return tuple(int(t) for t in items)


def parse_accessions(text: str | None) -> tuple[str, ...]:
    """A file with one accession per line if `text` names one, else a comma-separated list."""
    if not text:
        return ()
    path = Path(text)
    if path.is_file():
        return tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
    return tuple(t.strip() for t in text.split(",") if t.strip())


@dataclass(frozen=True)
class PrepareResult:
    """A complete preparation on disk and what `meta.json` says about it."""

    path: Path
    meta: dict
    built: bool  # False when it came from the cache

    def load(self) -> DatasetDict:
        return load_prepared(self.path)

    def summaries(self) -> dict[str, LengthSummary]:
        return {name: SplitStats.from_json(self.meta["stats"][name]).summary() for name in SPLITS}


class PreparedDataError(FileNotFoundError):
    """A prepared directory is missing, incomplete, or differs from what its meta.json lists."""


def load_prepared(path: Path) -> DatasetDict:
    """The four splits of a complete, verified preparation, memory-mapped.

    A concurrent `prepare --force` may swap the directory while it is being opened (the files
    of the old one vanish); the reader then waits on the builders' lock of that directory and
    tries once more, which finds the new, complete one."""
    try:
        return _load_verified(path)
    except FileNotFoundError:
        try:
            with build_lock(path.parent, path.name):
                pass
        except OSError:  # a read-only cache has no lock to wait on
            pass
        return _load_verified(path)


def _load_verified(path: Path) -> DatasetDict:
    found = problems(path)
    if found:
        raise PreparedDataError(
            f"{path}: damaged preparation ({'; '.join(found[:3])}); rebuild it with "
            f"`protein-performer prepare --force` (or delete the directory)"
        )
    return DatasetDict({name: load_split(path / name) for name in SPLITS})


def read_meta(path: Path) -> dict | None:
    try:
        return json.loads((path / "meta.json").read_text())
    except (OSError, ValueError):
        return None


def problems(path: Path, fingerprint: str | None = None, *, verify: bool = False) -> list[str]:
    """Why `path` is not a trustworthy preparation (empty when it is one): meta.json missing or
    incomplete, another fingerprint, or any split's shards differing from their manifest. The
    whole-file checksums are read when `verify`, or when a shard changed since they last were
    (`manifest.needs_content_check`)."""
    meta = read_meta(path)
    if meta is None or meta.get("complete") is not True:
        return [f"{path}/meta.json: missing or not complete"]
    if fingerprint is not None and meta.get("fingerprint") != fingerprint:
        return [f"{path}/meta.json: fingerprint {meta.get('fingerprint')} is not {fingerprint}"]
    manifests = meta.get("splits")
    if not isinstance(manifests, dict) or set(manifests) != set(SPLITS):
        return [f"{path}/meta.json: no shard list for the splits {', '.join(SPLITS)}"]
    found = [p for name in SPLITS for p in split_problems(path / name, manifests[name])]
    if not found and (verify or needs_content_check(path, manifests)):
        found = content_problems(path, manifests)
    return found


def is_complete(path: Path, fingerprint: str | None = None) -> bool:
    return not problems(path, fingerprint)


def _n_buckets(fasta: Path, config: PrepareConfig) -> int:
    size = fasta.stat().st_size
    with open(fasta, "rb") as fh:
        if fh.read(2) == b"\x1f\x8b":
            size *= _GZIP_RATIO_GUESS
    return int(np.clip(-(-size // config.bucket_bytes), 1, MAX_BUCKETS))


def fingerprint_for(config: PrepareConfig) -> str:
    """The cache directory name `prepare(config)` uses (hashes the FASTA, memoised)."""
    content = content_digest(Path(config.fasta), Path(config.cache_dir))
    return fingerprint_of(content, config.fingerprinted(), FORMAT_VERSION)


def _check_paths(config: PrepareConfig) -> tuple[Path, Path]:
    fasta, cache_dir = Path(config.fasta), Path(config.cache_dir)
    if fasta.is_dir():
        raise FileNotFoundError(f"{fasta}: is a directory, expected a FASTA file")
    if not fasta.is_file():
        raise FileNotFoundError(f"{fasta}: FASTA file not found")
    if cache_dir.exists() and not cache_dir.is_dir():
        raise NotADirectoryError(f"{cache_dir}: cache directory is an existing file")
    return fasta, cache_dir


def find_prepared(config: PrepareConfig) -> PrepareResult | None:
    """The complete cached preparation for `config`, or None; never builds anything."""
    if not Path(config.fasta).is_file() or not Path(config.cache_dir).is_dir():
        return None
    fingerprint = fingerprint_for(config)
    path = Path(config.cache_dir) / fingerprint
    if not is_complete(path, fingerprint):
        return None
    return PrepareResult(path, read_meta(path) or {}, built=False)


def empty_splits(meta: dict) -> list[str]:
    """Names of the splits with no rows."""
    return [name for name in SPLITS if meta["splits"][name]["rows"] == 0]


def prepare(
    config: PrepareConfig,
    *,
    force: bool = False,
    verify: bool = False,
    log: Callable[[str], None] = lambda _: None,
    progress: Callable[[int, int], None] | None = None,
) -> PrepareResult:
    """Prepare `config.fasta` into `config.cache_dir/<fingerprint>/`, or reuse a cached result.

    A cached result is verified against its manifest first (every byte of it with `verify`, see
    `data.manifest`); a damaged one is rebuilt (and said so through `log`).
    `progress(bytes_read, bytes_total)` follows pass 1 through the input.
    """
    fasta, cache_dir = _check_paths(config)
    cache_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = fingerprint_for(config)
    final = cache_dir / fingerprint
    # A verified hit needs no lock (swaps are atomic), so a read-only shared cache still serves.
    if not force and final.exists() and not problems(final, fingerprint, verify=verify):
        remove_leftovers(cache_dir)
        log(f"cached: {final}")
        return PrepareResult(final, read_meta(final) or {}, built=False)
    with build_lock(cache_dir, fingerprint):
        remove_leftovers(cache_dir, fingerprint)
        if not force and final.exists():  # again: another builder may have finished meanwhile
            found = problems(final, fingerprint, verify=verify)
            if not found:
                log(f"cached: {final}")
                return PrepareResult(final, read_meta(final) or {}, built=False)
            log(f"rebuilding {final}: {'; '.join(found[:3])}")
        tmp = new_tmp(cache_dir, fingerprint)
        try:
            meta = _build(fasta, tmp, config, log, progress)
            content = content_digest(fasta, cache_dir)  # memoised: no second read
            meta.update(fingerprint=fingerprint, content_blake2b=content, complete=True)
            write_hf_metadata(tmp, meta["splits"], FEATURES.to_dict(), fingerprint)
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
            fsync_tree(tmp)
            swap_in(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return PrepareResult(final, meta, built=True)


def _build(
    fasta: Path,
    out: Path,
    config: PrepareConfig,
    log: Callable[[str], None],
    progress: Callable[[int, int], None] | None,
) -> dict:
    start = time.perf_counter()
    n_buckets = _n_buckets(fasta, config)
    spill = BucketSpill(
        out / "spill", n_buckets, max(1 << 20, config.spill_buffer_bytes // n_buckets)
    )
    log(f"pass 1: reading {fasta} into {n_buckets} bucket(s)")
    counts = encode_records(fasta, config, spill, progress)
    spill.close()
    if counts.records == 0:
        raise FastaFormatError(
            f"{fasta}: no FASTA records with residues ({counts.empty:,} empty records); "
            f"nothing to prepare"
        )
    pass1_s = time.perf_counter() - start

    log("pass 2: removing duplicates and writing splits")
    writers = {name: ShardWriter(out / name, config.shard_bytes) for name in SPLITS}
    stats = {name: SplitStats() for name in SPLITS}
    duplicates = 0
    for bucket in range(n_buckets):
        table = spill.read(bucket)
        reps, split, group_size = resolve_duplicates(
            table.column("digest_hi").to_numpy(),
            table.column("digest_lo").to_numpy(),
            table.column("key_hash").to_numpy(),
            table.column("is_ood").to_numpy(zero_copy_only=False),
            valid_fraction=config.valid_fraction,
            test_fraction=config.test_fraction,
        )
        duplicates += int((group_size - 1).sum())
        # Gather the kept rows a slice at a time so pass 2 copies at most one slice of tokens.
        for lo in range(0, len(reps), _ROWS_PER_SLICE):
            rows, codes = reps[lo : lo + _ROWS_PER_SLICE], split[lo : lo + _ROWS_PER_SLICE]
            for code, name in enumerate(SPLITS):
                part = table.take(pa.array(rows[codes == code]))
                writers[name].write(part)
                stats[name].update(part.column("length").to_numpy(), _token_counts(part))
        del table
        spill.path(bucket).unlink(missing_ok=True)
    for writer in writers.values():
        writer.close()
    shutil.rmtree(out / "spill", ignore_errors=True)
    manifests = {name: split_manifest(out / name) for name in SPLITS}
    seconds = time.perf_counter() - start
    return {
        "format_version": FORMAT_VERSION,
        "fasta": str(fasta),
        "options": config.fingerprinted(),
        "records_read": counts.records,
        "residues_read": counts.residues,
        "empty_skipped": counts.empty,
        "duplicates_removed": duplicates,
        "ood_taxa_found": counts.ood_taxa_found,
        "n_buckets": n_buckets,
        "seconds": seconds,
        "pass1_seconds": pass1_s,
        "residues_per_second": counts.residues / seconds if seconds > 0 else float("nan"),
        "stats": {name: stats[name].to_json() for name in SPLITS},
        "splits": manifests,
    }
