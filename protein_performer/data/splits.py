"""Split assignment: stable hashes, held-out (OOD) groups and exact-duplicate resolution.

**Which split.** A record's split comes from a stable hash (BLAKE2b, never Python's salted
`hash()`) of its split key: the UniRef cluster id when there is one, else the UniProt accession
without isoform suffix (`HeaderInfo.split_key`). The hash maps to u in [0, 1): u < test → test,
u < test + valid → valid, else train. The same key gets the same split on every machine, run
and input order, and adding records never moves existing ones. Records whose taxon (OX=/TaxID=)
or accession is held out go to `ood` whatever their hash, as the Performer paper held out whole
Pfam families (Choromanski et al. 2021, Sec. 4.4 / App. C).

**Identical sequences under different accessions count as one.** Each sequence is identified by
a 128-bit BLAKE2b digest of its token ids (so case does not matter). All records sharing a digest
form a group that is resolved as one: one representative is kept and the rest are dropped as
duplicates. The representative is an OOD member if there is one (a held-out sequence must not
be trained on under another name), else the member with the smallest key hash; the group's split
is the representative's. The choice depends only on the group, never on file order.

**Bounded memory at TrEMBL scale.** A global "seen digests" set would need ~16 bytes x 250 M
records, so preparation instead partitions records on disk (external hash partitioning, as in a
grace hash join): pass 1 streams the FASTA and appends each record to one of K bucket files
chosen by the top bits of its digest; identical sequences always share a bucket. Pass 2 loads
one bucket at a time (about input size / K), sorts it by digest and resolves groups with
`resolve_duplicates`. K grows with the input so that a bucket stays near a fixed size; memory is
that bucket plus small write buffers, independent of the total. Because buckets are contiguous
digest ranges, the output is ordered by digest whatever K is: deterministic and uncorrelated
with length, taxon or input order.
"""

from __future__ import annotations

import hashlib

import numpy as np

SPLITS: tuple[str, ...] = ("train", "valid", "test", "ood")
TRAIN, VALID, TEST, OOD = range(len(SPLITS))
_TWO_64 = 1 << 64


def key_hash(key: str, salt: str) -> int:
    """Stable 64-bit hash of a split key, as an unsigned int."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8, person=_person(salt)).digest()
    return int.from_bytes(digest, "big")


def _person(salt: str) -> bytes:
    # BLAKE2b's personalisation string is at most 16 bytes; longer salts are hashed down.
    raw = salt.encode("utf-8")
    return raw if len(raw) <= 16 else hashlib.blake2b(raw, digest_size=16).digest()


def sequence_digest(token_ids: np.ndarray) -> tuple[int, int]:
    """128-bit digest of a tokenised sequence, as (high, low) unsigned 64-bit ints."""
    digest = hashlib.blake2b(np.ascontiguousarray(token_ids).tobytes(), digest_size=16).digest()
    return int.from_bytes(digest[:8], "big"), int.from_bytes(digest[8:], "big")


def bucket_of(digest_hi: np.ndarray, n_buckets: int) -> np.ndarray:
    """Bucket of each digest: contiguous ranges of its top 32 bits, floor(hi * K / 2^64)."""
    top32 = (np.asarray(digest_hi, dtype=np.uint64) >> np.uint64(32)).astype(np.int64)
    return (top32 * n_buckets) >> 32


def split_from_hash(
    hash_u64: np.ndarray, valid_fraction: float, test_fraction: float
) -> np.ndarray:
    """Split codes (TRAIN/VALID/TEST) of keys with the given 64-bit hashes."""
    if not (0 <= valid_fraction and 0 <= test_fraction and valid_fraction + test_fraction < 1):
        raise ValueError(
            f"need 0 <= valid_fraction, test_fraction and their sum < 1; got "
            f"{valid_fraction} and {test_fraction}"
        )
    hash_u64 = np.asarray(hash_u64, dtype=np.uint64)
    test_end = np.uint64(min(int(test_fraction * _TWO_64), _TWO_64 - 1))
    valid_end = np.uint64(min(int((test_fraction + valid_fraction) * _TWO_64), _TWO_64 - 1))
    codes = np.full(hash_u64.shape, TRAIN, dtype=np.int8)
    codes[hash_u64 < valid_end] = VALID
    codes[hash_u64 < test_end] = TEST
    return codes


def resolve_duplicates(
    digest_hi: np.ndarray,
    digest_lo: np.ndarray,
    key_hash_u64: np.ndarray,
    is_ood: np.ndarray,
    *,
    valid_fraction: float,
    test_fraction: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resolve the records of one bucket into kept representatives and their splits.

    Returns `(order, split, group_size)`: row indices of the kept records sorted by digest, the
    split code of each, and how many records (itself included) each one stands for.
    """
    n = len(digest_hi)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.astype(np.int8), empty
    # Last key sorts first: digest, then OOD members first, then smallest key hash, then row.
    order = np.lexsort(
        (
            np.arange(n),
            np.asarray(key_hash_u64, dtype=np.uint64),
            ~np.asarray(is_ood, dtype=bool),
            np.asarray(digest_lo, dtype=np.uint64),
            np.asarray(digest_hi, dtype=np.uint64),
        )
    )
    hi, lo = np.asarray(digest_hi)[order], np.asarray(digest_lo)[order]
    starts = np.flatnonzero(np.r_[True, (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])])
    group_size = np.diff(np.r_[starts, n])
    reps = order[starts]
    split = split_from_hash(np.asarray(key_hash_u64)[reps], valid_fraction, test_fraction)
    split[np.asarray(is_ood, dtype=bool)[reps]] = OOD
    return reps, split, group_size
