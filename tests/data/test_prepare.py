import os
import subprocess
import sys
import textwrap

import pytest

from protein_performer.data import prepare as prepare_module
from protein_performer.data.prepare import PrepareConfig, find_prepared, is_complete, prepare
from protein_performer.data.shards import ShardWriter


def _config(path, cache, **kw):
    return PrepareConfig(fasta=str(path), cache_dir=str(cache), **kw)


def test_cache_is_keyed_on_content_and_options(tmp_path, fasta_factory, make_records):
    path = fasta_factory(records=make_records(100))
    cache = tmp_path / "cache"
    assert find_prepared(_config(path, cache)) is None
    first = prepare(_config(path, cache))
    assert find_prepared(_config(path, cache)).path == first.path
    assert first.built and is_complete(first.path)
    again = prepare(_config(path, cache))
    assert not again.built and again.path == first.path
    os.utime(path, (1, 1))  # new mtime, same bytes: same fingerprint
    assert prepare(_config(path, cache)).path == first.path
    assert prepare(_config(path, cache, valid_fraction=0.2)).path != first.path
    fasta_factory(records=make_records(101))  # same file name, new content
    changed = prepare(_config(path, cache))
    assert changed.built and changed.path != first.path
    assert changed.meta["records_read"] == 101


def test_interrupted_build_leaves_nothing_trusted(
    tmp_path, fasta_factory, make_records, monkeypatch
):
    path = fasta_factory(records=make_records(200))
    cache = tmp_path / "cache"
    original = ShardWriter.write
    calls = {"n": 0}

    def interrupt_midway(self, table):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        original(self, table)

    monkeypatch.setattr(ShardWriter, "write", interrupt_midway)
    with pytest.raises(KeyboardInterrupt):
        prepare(_config(path, cache))
    assert calls["n"] == 3
    assert [p.name for p in cache.iterdir() if p.is_dir()] == []  # tmp dir removed, no result
    monkeypatch.setattr(ShardWriter, "write", original)
    result = prepare(_config(path, cache))
    assert result.built and sum(len(s) for s in result.load().values()) == 200


def test_killed_build_is_rebuilt(tmp_path, fasta_factory, make_records):
    """A hard kill (no cleanup runs) leaves a .tmp-* directory that is ignored and removed."""
    path = fasta_factory(records=make_records(200))
    cache = tmp_path / "cache"
    script = textwrap.dedent(
        f"""
        import os
        from protein_performer.data.prepare import PrepareConfig, prepare
        from protein_performer.data.shards import ShardWriter
        original = ShardWriter.write
        def die(self, table):
            original(self, table)
            os._exit(9)  # like SIGKILL: no finally blocks, no cleanup
        ShardWriter.write = die
        prepare(PrepareConfig(fasta={str(path)!r}, cache_dir={str(cache)!r}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    leftovers = [p for p in cache.iterdir() if p.is_dir()]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".tmp-")
    assert not is_complete(leftovers[0])
    result = prepare(_config(path, cache))
    assert result.built
    assert [p.name for p in cache.iterdir() if p.is_dir()] == [result.path.name]


def test_final_directory_without_meta_is_not_trusted(tmp_path, fasta_factory, make_records):
    path = fasta_factory(records=make_records(50))
    cache = tmp_path / "cache"
    first = prepare(_config(path, cache))
    (first.path / "meta.json").unlink()  # e.g. a copy that stopped halfway
    assert not is_complete(first.path)
    second = prepare(_config(path, cache))
    assert second.built and second.path == first.path and is_complete(second.path)


def test_meta_records_counts_and_unigram_counts(tmp_path, fasta_factory, make_records):
    records = make_records(120)
    result = prepare(_config(fasta_factory(records=records), tmp_path / "c"))
    meta = result.meta
    assert meta["records_read"] == 120
    assert meta["residues_read"] == sum(len(s) for _, s in records)
    train = result.load()["train"]
    counts = meta["stats"]["train"]["token_counts"]
    assert sum(counts) == sum(train["length"])
    assert counts[:5] == [0, 0, 0, 0, 0]
    assert prepare_module.FORMAT_VERSION == meta["format_version"]
