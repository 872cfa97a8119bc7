"""A prepared dataset is verified before it is trusted, replaced atomically, and safe under
concurrent builders; the content fingerprint follows the bytes; the splits open with
`datasets.load_from_disk`."""

from __future__ import annotations

import os
import threading
import time

import datasets
import pytest

from protein_performer.data import prepare as prepare_module
from protein_performer.data.fasta import FastaFormatError
from protein_performer.data.fingerprint import content_digest
from protein_performer.data.prepare import (
    PrepareConfig,
    PreparedDataError,
    load_prepared,
    prepare,
)
from protein_performer.data.prepare_cli import main as prepare_main


def _config(path, cache, **kw):
    # Small buckets and shards so that every split has several shards.
    return PrepareConfig(
        fasta=str(path), cache_dir=str(cache), shard_bytes=4096, bucket_bytes=8192, **kw
    )


@pytest.fixture
def built(tmp_path, fasta_factory, make_records):
    config = _config(fasta_factory(records=make_records(400)), tmp_path / "cache")
    return config, prepare(config)


def test_deleted_shard_is_detected_and_rebuilt(built):
    config, first = built
    shards = sorted((first.path / "train").glob("data-*.arrow"))
    assert len(shards) > 2
    rows = first.meta["splits"]["train"]["rows"]
    shards[1].unlink()
    with pytest.raises(PreparedDataError, match=r"data-00001.arrow: missing.*--force"):
        load_prepared(first.path)
    logged = []
    again = prepare(config, log=logged.append)
    assert again.built and any("rebuilding" in line for line in logged)
    assert again.load()["train"].num_rows == rows


def test_truncated_shard_is_detected_and_rebuilt(built):
    config, first = built
    shard = sorted((first.path / "valid").glob("data-*.arrow"))[0]
    shard.write_bytes(shard.read_bytes()[:-100])
    with pytest.raises(PreparedDataError, match="bytes, meta.json says"):
        load_prepared(first.path)
    again = prepare(config)
    assert again.built
    assert again.load()["valid"].num_rows == first.meta["splits"]["valid"]["rows"]


def test_deleted_split_directory_with_meta_still_complete(built):
    """The state a kill inside the old split-by-split delete could leave behind."""
    import shutil

    config, first = built
    shutil.rmtree(first.path / "valid")
    assert prepare(config).built


def test_kill_between_the_two_renames_keeps_a_rebuildable_cache(built, monkeypatch):
    """Where the kernel cannot exchange two names, the old result is renamed aside first."""
    from protein_performer.data import atomic_dir

    config, first = built
    monkeypatch.setattr(atomic_dir, "exchange", lambda a, b: False)
    real_rename = os.rename
    calls = []

    def die_after_first(src, dst):
        real_rename(src, dst)
        calls.append(dst)
        if len(calls) == 1:
            raise KeyboardInterrupt  # old result renamed aside, new one not yet in

    monkeypatch.setattr(prepare_module, "swap_in", prepare_module.swap_in)
    monkeypatch.setattr(os, "rename", die_after_first)
    with pytest.raises(KeyboardInterrupt):
        prepare(config, force=True)
    monkeypatch.setattr(os, "rename", real_rename)
    cache = first.path.parent
    assert not first.path.exists()
    assert any(p.name.startswith(".old-") for p in cache.iterdir())
    again = prepare(config)
    assert again.built and again.load()["train"].num_rows == first.meta["splits"]["train"]["rows"]
    assert not any(p.name.startswith((".old-", ".tmp-")) for p in cache.iterdir())


def test_concurrent_forced_builds_never_overlap(built, monkeypatch):
    config, _ = built
    real_build = prepare_module._build
    spans, errors = [], []

    def slow_build(*args, **kwargs):
        start = time.monotonic()
        time.sleep(0.3)
        meta = real_build(*args, **kwargs)
        spans.append((start, time.monotonic()))
        return meta

    monkeypatch.setattr(prepare_module, "_build", slow_build)

    def run():
        try:
            prepare(config, force=True)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(spans) == 2
    (a0, a1), (b0, b1) = sorted(spans)
    assert a1 <= b0, "the second builder started while the first one was still building"
    assert load_prepared(prepare(config).path)["train"].num_rows > 0


def test_leftovers_of_other_options_are_removed(built, tmp_path):
    config, first = built
    cache = first.path.parent
    stale = cache / ".tmp-0123456789abcdef0123-999999-deadbeef"
    (stale / "train").mkdir(parents=True)
    aside = cache / ".old-fedcba98765432100123-999999-deadbeef"
    aside.mkdir()
    prepare(_config(config.fasta, cache, valid_fraction=0.2))
    assert not stale.exists() and not aside.exists()


def test_same_size_edit_with_restored_mtime_changes_the_digest(tmp_path):
    path = tmp_path / "a.fasta"
    path.write_text(">x\nMKV\n")
    before = path.stat()
    first = content_digest(path, tmp_path)
    time.sleep(0.01)
    path.write_text(">x\nMKW\n")  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert content_digest(path, tmp_path) != first


def test_splits_open_with_datasets_load_from_disk(built):
    _, first = built
    loaded = datasets.load_from_disk(str(first.path))
    assert isinstance(loaded, datasets.DatasetDict)
    assert set(loaded) == {"train", "valid", "test", "ood"}
    ours = first.load()
    for name in loaded:
        assert loaded[name].num_rows == ours[name].num_rows
        assert loaded[name]["accession"] == ours[name]["accession"]
    row = loaded["train"][0]
    assert row["accession"].startswith("A") and len(row["tokens"]) == row["length"]


@pytest.mark.parametrize("text", ["", "\n\n", ">only_a_header\n>another\n"])
def test_input_without_records_is_an_error(tmp_path, text, capsys):
    path = tmp_path / "empty.fasta"
    path.write_text(text)
    with pytest.raises(FastaFormatError, match="no FASTA records"):
        prepare(_config(path, tmp_path / "cache"))
    assert prepare_main(["--fasta", str(path), "--cache-dir", str(tmp_path / "cache")]) == 2
    assert f"{path}: no FASTA records" in capsys.readouterr().err
    assert not [p for p in (tmp_path / "cache").iterdir() if p.is_dir()]


def test_empty_splits_are_warned_about(tmp_path, fasta_factory, make_records, capsys):
    path = fasta_factory(records=make_records(2, taxa=(9606,)))
    assert prepare_main(["--fasta", str(path), "--cache-dir", str(tmp_path / "c")]) == 0
    err = capsys.readouterr().err
    assert "warning: split 'valid' is empty" in err and "warning: split 'ood' is empty" in err


def test_progress_follows_the_input_to_its_end(tmp_path, fasta_factory, make_records):
    path = fasta_factory(records=make_records(50))
    calls = []
    prepare(_config(path, tmp_path / "cache"), progress=lambda done, total: calls.append(done))
    assert calls and calls[-1] == path.stat().st_size


def test_a_verified_cache_hit_takes_no_lock(built, monkeypatch):
    """So a cache prepared once and mounted read-only still serves every training job."""
    config, first = built

    def no_lock(*args, **kwargs):
        raise AssertionError("a cache hit took the build lock")

    monkeypatch.setattr(prepare_module, "build_lock", no_lock)
    again = prepare(config)
    assert not again.built and again.path == first.path
