"""Fault injection on `save_pretrained`, on shard contents, on two launches of one run and on
readers of a cache that `prepare --force` rebuilds.

- A child process overwrites a save_pretrained directory and is killed (`os._exit`, no cleanup)
  at a seeded step of the write; the directory must then load as exactly the old save or exactly
  the new one.
- Bytes flipped in the middle of a prepared shard must be caught (rebuilt, or refused in one
  line), and never reach Arrow: the check runs in a child, so an abort would show as a signal.

`make soak` runs more seeds (`PP_FAULT_ITERATIONS`) and appends one JSON line per fault to
`PP_FAULT_REPORT`.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import torch

from tests.reliability.kill_points import ROOT, N, kill_hook, report, run_child

# Where a kill can land inside save_pretrained: (attribute to wrap, calls it may reach).
SAVE_POINTS = [
    ("pathlib.Path.write_text", 1),  # config.json
    ("safetensors.torch.save_model", 1),  # the weights
    ("protein_performer.data.atomic_dir.fsync_path", 4),
    ("protein_performer.data.atomic_dir.exchange", 1),
    ("os.rename", 1),
    ("shutil.rmtree", 1),
]

_SAVE_CODE = """
import torch
from protein_performer.model.config import preset
from protein_performer.model.io import save_pretrained
from protein_performer.model.performer import ProteinPerformer
torch.manual_seed(2)
save_pretrained(ProteinPerformer(preset("tiny_l2_d64", objective="causal")), {directory!r})
"""


@torch.no_grad()
def _fingerprint(model) -> tuple[str, float]:
    return model.config.objective, float(sum(p.double().sum() for p in model.parameters()))


@pytest.mark.parametrize("seed", range(N), ids=[f"seed{s}" for s in range(N)])
def test_killed_save_pretrained_leaves_the_old_save_or_the_new_one(seed, tmp_path):
    from protein_performer.model.config import preset
    from protein_performer.model.io import from_pretrained, save_pretrained
    from protein_performer.model.performer import ProteinPerformer

    rng = random.Random(f"save-{seed}")
    directory = tmp_path / "model"
    torch.manual_seed(1)
    old = _fingerprint(save_pretrained_and_load(directory))
    target, reach = rng.choice(SAVE_POINTS)
    nth, after = rng.randint(1, reach), rng.random() < 0.5
    hook = kill_hook(target, nth, after=after)
    status = run_child(textwrap.dedent(_SAVE_CODE.format(directory=str(directory))), hook)
    torch.manual_seed(2)
    new = _fingerprint(ProteinPerformer(preset("tiny_l2_d64", objective="causal")))
    found = _fingerprint(from_pretrained(directory))
    where = f"{target}#{nth}{' after' if after else ''}"
    survived = found in (old, new)
    report("save_pretrained", seed=seed, where=where, killed=status != 0, survived=survived)
    assert survived, f"kill at {where}: the directory loads as neither save ({found})"
    save_pretrained(ProteinPerformer(preset("tiny_l2_d64")), directory)  # and the next save
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith((".tmp-", ".old-"))]
    assert not leftovers, f"kill at {where}: leftovers {leftovers} after the next save"


def save_pretrained_and_load(directory: Path):
    from protein_performer.model.config import preset
    from protein_performer.model.io import from_pretrained, save_pretrained
    from protein_performer.model.performer import ProteinPerformer

    save_pretrained(ProteinPerformer(preset("tiny_l2_d64")), directory)
    return from_pretrained(directory)


_LOAD_CODE = """
import sys
from protein_performer.data.prepare import PreparedDataError, load_prepared
try:
    splits = load_prepared(__import__("pathlib").Path({path!r}))
    total = sum(int(sum(len(t) for t in split["tokens"])) for split in splits.values())
except PreparedDataError as error:
    print(str(error).splitlines()[0], file=sys.stderr)
    sys.exit(3)
print(total)
"""


def _corrupt(path: Path, rng: random.Random, *, keep_mtime: bool) -> str:
    """Overwrite bytes in the middle half of `path` (same size); returns what was done."""
    stat = path.stat()
    data = bytearray(path.read_bytes())
    at = rng.randint(len(data) // 4, 3 * len(data) // 4)
    if rng.random() < 0.5:
        data[at] ^= 0x01
        what = f"flip byte {at}"
    else:
        data[at : at + 64] = b"\x7f" * len(data[at : at + 64])
        what = f"64 x 0x7f at {at}"
    path.write_bytes(bytes(data))
    if keep_mtime:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return what


@pytest.mark.parametrize("seed", range(N), ids=[f"seed{s}" for s in range(N)])
def test_mid_shard_corruption_is_caught_before_arrow_reads_it(seed, tmp_path, tiny_fasta):
    from protein_performer.data.prepare import PrepareConfig, prepare

    rng = random.Random(f"shard-{seed}")
    config = PrepareConfig(fasta=str(tiny_fasta), cache_dir=str(tmp_path / "cache"))
    built = prepare(config)
    expected = sum(int(sum(len(t) for t in s["tokens"])) for s in built.load().values())
    shard = rng.choice(sorted(built.path.glob("*/data-*.arrow"), key=lambda p: -p.stat().st_size))
    keep_mtime = rng.random() < 0.3
    what = _corrupt(shard, rng, keep_mtime=keep_mtime)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = textwrap.dedent(_LOAD_CODE.format(path=str(built.path)))
    if keep_mtime:  # only a full check can see it: `prepare --verify`
        again = prepare(config, verify=True)
    else:
        child = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                               text=True, timeout=300)  # fmt: skip
        assert child.returncode == 3, f"{what}: exit {child.returncode}, {child.stderr[-500:]}"
        # A small shard is all head and tail, so the cheap checksum may be the one that differs.
        assert "checksum differs" in child.stderr.strip().splitlines()[-1]
        again = prepare(config)
    child = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, timeout=300)  # fmt: skip
    survived = again.built and child.returncode == 0 and int(child.stdout) == expected
    report("shard", seed=seed, where=what, killed=False, survived=survived)
    assert survived, f"{what} (mtime kept: {keep_mtime}): not rebuilt to the same data"


def test_a_second_launch_of_one_run_is_refused(tmp_path, capsys, tiny_fasta, tiny_cache_dir):
    from protein_performer.training.launch import RunDirLock
    from protein_performer.training.train_cli import main as train_main

    runs = tmp_path / "runs"
    held = RunDirLock(runs / "same").acquire()  # stands in for a launch still running
    try:
        code = train_main([
            "--config", str(ROOT / "configs" / "tiny.yaml"), f"--data.fasta={tiny_fasta}",
            f"--data.cache_dir={tiny_cache_dir}", f"--runs-dir={runs}", "--name=same",
        ])  # fmt: skip
    finally:
        held.release()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "in use by another launch" in err[-1] and f"pid {os.getpid()}" in err[-1]
    assert not (runs / "same").exists()
    assert RunDirLock(runs / "same").acquire() is not None  # free again once released


def test_readers_survive_concurrent_forced_rebuilds(tmp_path, tiny_fasta):
    from protein_performer.data.prepare import PrepareConfig, load_prepared, prepare

    config = PrepareConfig(fasta=str(tiny_fasta), cache_dir=str(tmp_path / "cache"))
    path = prepare(config).path
    code = textwrap.dedent(f"""
        from protein_performer.data.prepare import PrepareConfig, prepare
        for _ in range(4):
            prepare(PrepareConfig(fasta={str(tiny_fasta)!r}, cache_dir={config.cache_dir!r}),
                    force=True)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    builder = subprocess.Popen([sys.executable, "-c", code], env=env)
    errors, loads = [], [0]

    def read() -> None:
        while builder.poll() is None:
            try:
                load_prepared(path)
                loads[0] += 1
            except Exception as error:  # noqa: BLE001 - counted, then reported
                errors.append(f"{type(error).__name__}: {error}")

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout=600)
    assert builder.wait() == 0
    report("race", seed=0, where=f"{loads[0]} loads", killed=False, survived=not errors)
    assert not errors, f"{len(errors)} of {loads[0] + len(errors)} loads failed: {errors[:2]}"
    assert loads[0] > 0


def test_a_flipped_byte_between_head_and_tail_is_caught_by_the_content_checksum(
    tmp_path, tiny_fasta, monkeypatch
):
    """The cheap checksum reads only a shard's ends; the byte between them is the xxh3's."""
    from protein_performer.data import manifest
    from protein_performer.data.prepare import PrepareConfig, PreparedDataError, prepare

    monkeypatch.setattr(manifest, "CHECK_BYTES", 256)
    config = PrepareConfig(fasta=str(tiny_fasta), cache_dir=str(tmp_path / "cache"))
    built = prepare(config)
    built.load()  # the first use after the build reads every byte, and records it
    assert (built.path / manifest.VERIFIED_NAME).is_file()
    shard = max(built.path.glob("*/data-*.arrow"), key=lambda p: p.stat().st_size)
    data = bytearray(shard.read_bytes())
    assert len(data) > 4 * 256
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))  # a rewrite: a new modification time
    with pytest.raises(PreparedDataError, match="content checksum differs"):
        built.load()
    assert prepare(config).built  # the next prepare rebuilds it
