import numpy as np

from protein_performer.data.prepare import PrepareConfig, prepare
from protein_performer.data.splits import (
    OOD,
    TEST,
    TRAIN,
    VALID,
    bucket_of,
    key_hash,
    resolve_duplicates,
    split_from_hash,
)


def test_key_hash_is_stable_across_runs_and_salted():
    # A regression value: changing the hash silently reshuffles every published split.
    assert key_hash("P00974", "pp-split-v1") == 0xD4489863CDE8EEFE
    assert key_hash("P00974", "other-salt") != key_hash("P00974", "pp-split-v1")


def test_split_fractions_follow_the_hash():
    hashes = np.array([key_hash(f"K{i}", "s") for i in range(20000)], dtype=np.uint64)
    codes = split_from_hash(hashes, valid_fraction=0.1, test_fraction=0.05)
    assert abs((codes == VALID).mean() - 0.1) < 0.01
    assert abs((codes == TEST).mean() - 0.05) < 0.01
    assert set(np.unique(codes)) == {TRAIN, VALID, TEST}


def test_buckets_are_contiguous_digest_ranges():
    hi = np.array([0, 1 << 62, 1 << 63, (1 << 64) - 1], dtype=np.uint64)
    assert bucket_of(hi, 4).tolist() == [0, 1, 2, 3]
    assert bucket_of(hi, 1).tolist() == [0, 0, 0, 0]


def test_resolve_duplicates_prefers_ood_then_smallest_key_and_ignores_order():
    hi = np.array([7, 7, 7, 3, 3], dtype=np.uint64)
    lo = np.array([1, 1, 1, 2, 2], dtype=np.uint64)
    keys = np.array([50, 10, 90, 5, 1], dtype=np.uint64)
    ood = np.array([False, False, True, False, False])
    for perm in ([0, 1, 2, 3, 4], [4, 2, 0, 3, 1]):
        p = np.array(perm)
        reps, split, size = resolve_duplicates(
            hi[p], lo[p], keys[p], ood[p], valid_fraction=0.0, test_fraction=0.0
        )
        assert keys[p][reps].tolist() == [1, 90]  # sorted by digest: group 3 first
        assert split.tolist() == [TRAIN, OOD]
        assert size.tolist() == [2, 3]


def _rows(result):
    return {
        name: [(r["accession"], tuple(r["tokens"])) for r in split]
        for name, split in result.load().items()
    }


def test_splits_are_disjoint_and_duplicates_count_once(tmp_path, fasta_factory, make_records):
    records = make_records(400, seed=1)
    # Identical sequences under new accessions (one in lowercase) must not straddle splits.
    dups = [
        (f"tr|D{i:07d}|D{i:07d}_DUP dup OS=Org OX=9606", seq.lower() if i % 2 else seq)
        for i, (_, seq) in enumerate(records[:60])
    ]
    # A duplicate of a held-out (OX=5851) sequence filed under a training taxon.
    ood_seq = next(seq for header, seq in records if "OX=5851" in header)
    dups.append(("tr|E0000001|E0000001_DUP dup OS=Org OX=562", ood_seq))
    path = fasta_factory(records=records + dups)
    result = prepare(PrepareConfig(fasta=str(path), cache_dir=str(tmp_path / "c")))
    rows = _rows(result)
    seen: dict[tuple, str] = {}
    for name, split_rows in rows.items():
        for _, tokens in split_rows:
            assert tokens not in seen, f"sequence in both {seen[tokens]} and {name}"
            seen[tokens] = name
    assert len(seen) == 400
    assert result.meta["duplicates_removed"] == 61
    ood_tokens = {tokens for _, tokens in rows["ood"]}
    assert len(ood_tokens) == sum("OX=5851" in h for h, _ in records)
    assert all(len(split_rows) > 0 for split_rows in rows.values())


def test_splits_do_not_depend_on_input_order_or_bucket_count(
    tmp_path, fasta_factory, make_records
):
    records = make_records(300, seed=2)
    shuffled = [records[i] for i in np.random.default_rng(0).permutation(len(records))]
    a = prepare(
        PrepareConfig(fasta=str(fasta_factory("a.fa", records)), cache_dir=str(tmp_path / "a"))
    )
    b = prepare(
        PrepareConfig(
            fasta=str(fasta_factory("b.fa", shuffled, wrap=17)),
            cache_dir=str(tmp_path / "b"),
            bucket_bytes=4096,  # forces many buckets, as a TrEMBL-sized input would
        )
    )
    assert b.meta["n_buckets"] > 1
    assert _rows(a) == _rows(b)  # same rows, same (digest) order


def test_ood_accessions_and_isoforms(tmp_path, fasta_factory, make_records):
    records = make_records(50, seed=3, taxa=(9606,))
    records.append(("sp|A0000007-2|ISO_TEST isoform OS=Org OX=9606", "MKVLLAWQ"))
    path = fasta_factory(records=records)
    result = prepare(
        PrepareConfig(
            fasta=str(path),
            cache_dir=str(tmp_path / "c"),
            ood_taxa=(),
            ood_accessions=("A0000003", "A0000007"),
        )
    )
    ood = sorted(r["accession"] for r in result.load()["ood"])
    assert ood == ["A0000003", "A0000007", "A0000007-2"]
