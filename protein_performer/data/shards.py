"""Arrow files: the on-disk record schema, bucket spill files (pass 1) and split shards (pass 2).

Split shards are written with Hugging Face `datasets`' `ArrowWriter`, so each shard is a plain
Arrow stream file carrying its `Features`, and `Dataset.from_file` memory-maps it: a prepared
TrEMBL split costs address space, not RAM. Spill files are private scratch and use pyarrow IPC
directly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
from datasets import Dataset, Features, Sequence, Value, concatenate_datasets
from datasets.arrow_writer import ArrowWriter

# What a prepared split holds per sequence. Tokens are residues only (no <cls>/<eos>): framing
# depends on the sequence mode and is added when batches are built.
FEATURES = Features(
    {
        "accession": Value("string"),
        "taxon_id": Value("int64"),  # -1 when the header has no OX=/TaxID=
        "length": Value("int32"),
        "tokens": Sequence(Value("int8")),
    }
)
# Pass-1 scratch columns: the output columns plus what pass 2 needs to resolve duplicates.
SPILL_SCHEMA = pa.schema(
    [
        ("digest_hi", pa.uint64()),
        ("digest_lo", pa.uint64()),
        ("key_hash", pa.uint64()),
        ("is_ood", pa.bool_()),
        ("accession", pa.string()),
        ("taxon_id", pa.int64()),
        ("length", pa.int32()),
        ("tokens", pa.list_(pa.int8())),
    ]
)


def tokens_array(token_arrays: list[np.ndarray]) -> pa.ListArray:
    """A list<int8> Arrow array from per-record int8 arrays, without Python-level loops."""
    lengths = np.fromiter((len(a) for a in token_arrays), dtype=np.int64, count=len(token_arrays))
    offsets = np.zeros(len(token_arrays) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    values = np.concatenate(token_arrays) if token_arrays else np.zeros(0, dtype=np.int8)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, type=pa.int8()))


class BucketSpill:
    """Pass 1: append records to K bucket files, buffering about `flush_bytes` per bucket."""

    def __init__(self, directory: Path, n_buckets: int, flush_bytes: int) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.n_buckets = n_buckets
        self.flush_bytes = flush_bytes
        self._buffers: list[dict[str, list]] = [self._empty() for _ in range(n_buckets)]
        self._buffered = [0] * n_buckets
        self._writers: dict[int, pa.ipc.RecordBatchStreamWriter] = {}

    @staticmethod
    def _empty() -> dict[str, list]:
        return {name: [] for name in SPILL_SCHEMA.names}

    def path(self, bucket: int) -> Path:
        return self.directory / f"bucket-{bucket:05d}.arrow"

    def add(self, bucket: int, row: dict) -> None:
        buffer = self._buffers[bucket]
        for name in SPILL_SCHEMA.names:
            buffer[name].append(row[name])
        self._buffered[bucket] += len(row["tokens"]) + 64
        if self._buffered[bucket] >= self.flush_bytes:
            self._flush(bucket)

    def _flush(self, bucket: int) -> None:
        buffer = self._buffers[bucket]
        if not buffer["tokens"]:
            return
        columns = [
            tokens_array(buffer[name]) if name == "tokens" else pa.array(buffer[name], field.type)
            for name, field in zip(SPILL_SCHEMA.names, SPILL_SCHEMA, strict=True)
        ]
        batch = pa.record_batch(columns, schema=SPILL_SCHEMA)
        if bucket not in self._writers:
            self._writers[bucket] = pa.ipc.new_stream(str(self.path(bucket)), SPILL_SCHEMA)
        self._writers[bucket].write_batch(batch)
        self._buffers[bucket] = self._empty()
        self._buffered[bucket] = 0

    def close(self) -> None:
        for bucket in range(self.n_buckets):
            self._flush(bucket)
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def read(self, bucket: int) -> pa.Table:
        """One bucket's records (memory-mapped), or an empty table."""
        path = self.path(bucket)
        if not path.exists():
            return SPILL_SCHEMA.empty_table()
        with pa.memory_map(str(path)) as source:
            return pa.ipc.open_stream(source).read_all()


class ShardWriter:
    """Pass 2: write one split as `data-00000.arrow`, `data-00001.arrow`, ... rolling at about
    `shard_bytes`, so no single file grows without limit on TrEMBL-sized inputs."""

    def __init__(self, directory: Path, shard_bytes: int) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.shard_bytes = shard_bytes
        self._index = 0
        self._bytes = 0
        self._writer: ArrowWriter | None = None

    def _open(self) -> ArrowWriter:
        path = self.directory / f"data-{self._index:05d}.arrow"
        return ArrowWriter(features=FEATURES, path=str(path))

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if self._writer is not None and self._bytes >= self.shard_bytes:
            self._writer.finalize()
            self._index += 1
            self._bytes = 0
            self._writer = None
        if self._writer is None:
            self._writer = self._open()
        self._writer.write_table(table.select(list(FEATURES)))
        self._bytes += table.nbytes

    def close(self) -> None:
        # An empty split still gets one (empty) shard so that loading needs no special case.
        writer = self._writer if self._writer is not None else self._open()
        writer.finalize()
        self._writer = None


def load_split(directory: Path) -> Dataset:
    """A split written by `ShardWriter`, memory-mapped."""
    shards = sorted(directory.glob("data-*.arrow"))
    if not shards:
        raise FileNotFoundError(f"{directory}: no data-*.arrow shards")
    datasets = [Dataset.from_file(str(path)) for path in shards]
    return datasets[0] if len(datasets) == 1 else concatenate_datasets(datasets)
