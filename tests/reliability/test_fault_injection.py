"""Fault injection: kill `prepare --force` and training at seeded random points, then check the
next run either rebuilds / resumes correctly or refuses clearly, never loading partial data or
older progress silently.

Each iteration draws, from its seed, a kill point (a function inside the write path and which
call of it) and runs the command in a child process that `os._exit`s there, like SIGKILL: no
`finally`, no cleanup. `make test` runs a few seeds; `make soak` runs many more
(`PP_FAULT_ITERATIONS`) and adds kills by wall-clock timer (`PP_FAULT_TIMED=1`); the hook and
the child runner are `kill_points`.
"""

from __future__ import annotations

import json
import random
import textwrap
from pathlib import Path

import pytest

from protein_performer.data.prepare import PrepareConfig, load_prepared, prepare
from protein_performer.model.checkpoint_files import read_step
from tests.reliability.kill_points import ROOT, TIMED, N, kill_hook, report, run_child

# Where a kill can land while preparing: (module attribute to wrap, calls it may reach).
PREPARE_POINTS = [
    ("protein_performer.data.shards.ShardWriter.write", 12),
    ("protein_performer.data.shards.BucketSpill.add", 300),
    ("protein_performer.data.atomic_dir.fsync_path", 40),
    ("os.rename", 2),
    ("shutil.rmtree", 3),
    ("pathlib.Path.write_text", 14),
]
TRAIN_POINTS = [
    ("protein_performer.training.lit_module.ProteinLM.training_step", 10),
    ("torch.save", 6),  # inside a checkpoint write: half the bytes, then death
    ("os.replace", 6),
]


def _hook(rng: random.Random, points) -> tuple[str, str]:
    target, reach = rng.choice(points)
    nth = rng.randint(1, reach)
    return f"{target}#{nth}", kill_hook(target, nth, partial=target == "torch.save")


def _snapshot(result) -> dict[str, list[str]]:
    return {name: sorted(split["accession"]) for name, split in result.load().items()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_fasta):
    """The preparation every killed-and-rerun cache must end up equal to."""
    cache = tmp_path_factory.mktemp("fault_reference")
    config = PrepareConfig(fasta=str(tiny_fasta), cache_dir=str(cache), bucket_bytes=16 << 10)
    return config, _snapshot(prepare(config))


@pytest.mark.parametrize("seed", range(N), ids=[f"seed{s}" for s in range(N)])
def test_killed_prepare_force_never_leaves_trusted_partial_data(seed, tmp_path, reference):
    base, expected = reference
    rng = random.Random(f"prepare-{seed}")
    cache = tmp_path / "cache"
    config = PrepareConfig(
        fasta=base.fasta, cache_dir=str(cache), bucket_bytes=base.bucket_bytes, shard_bytes=4096
    )
    assert _snapshot(prepare(config)) == expected  # a complete result to be replaced
    timed = TIMED and rng.random() < 0.5
    where, hook = ("timer", "") if timed else _hook(rng, PREPARE_POINTS)
    code = textwrap.dedent(
        f"""
        from protein_performer.data.prepare import PrepareConfig, prepare
        prepare(PrepareConfig(fasta={config.fasta!r}, cache_dir={str(cache)!r},
                bucket_bytes={config.bucket_bytes}, shard_bytes=4096), force=True)
        """
    )
    status = run_child(code, hook, timed_kill_s=rng.uniform(0.5, 4.0) if timed else None)
    logged: list[str] = []
    again = prepare(config, log=logged.append)
    survived = _snapshot(again) == expected and load_prepared(again.path) is not None
    leftovers = [p.name for p in cache.iterdir() if p.name.startswith((".tmp-", ".old-"))]
    report("prepare", seed=seed, where=where, killed=status != 0, survived=survived)
    assert survived, f"kill at {where}: the next run served other data ({logged})"
    assert not leftovers, f"kill at {where}: leftovers {leftovers}"


def _train_argv(fasta: Path, cache: Path, runs: Path, max_steps: int) -> list[str]:
    return [
        "--config", str(ROOT / "configs" / "tiny.yaml"), f"--data.fasta={fasta}",
        f"--data.cache_dir={cache}", f"--runs-dir={runs}", "--name=f", "--data.max_len=32",
        "--data.eval_max_sequences=8", f"--trainer.max_steps={max_steps}",
        "--trainer.val_check_interval=4", "--trainer.checkpoint_every_n_steps=2",
        "--trainer.enable_progress_bar=false", "--resume=true",
    ]  # fmt: skip


_PROGRESS_LOG = """
from protein_performer.training import resume_io as _io
_save = _io.AtomicCheckpointIO.save_checkpoint
def _logged(self, checkpoint, path, storage_options=None):
    with open({log!r}, "a") as fh:
        fh.write(f"start {{checkpoint['global_step']}}\\n")
    _save(self, checkpoint, path, storage_options)
    with open({log!r}, "a") as fh:
        fh.write(f"done {{checkpoint['global_step']}}\\n")
_io.AtomicCheckpointIO.save_checkpoint = _logged
"""


@pytest.mark.parametrize("seed", range(max(1, N - 1)), ids=[f"seed{s}" for s in range(N - 1 or 1)])
def test_killed_training_resumes_from_its_newest_checkpoint(
    seed, tmp_path, tiny_fasta, tiny_cache_dir, capsys
):
    from protein_performer.training.train_cli import main as train_main

    rng = random.Random(f"train-{seed}")
    runs, log = tmp_path / "runs", tmp_path / "saves.log"
    max_steps = 10
    argv = _train_argv(tiny_fasta, tiny_cache_dir, runs, max_steps)
    timed = TIMED and rng.random() < 0.5
    where, hook = ("timer", "") if timed else _hook(rng, TRAIN_POINTS)
    code = _PROGRESS_LOG.format(log=str(log)) + textwrap.dedent(
        f"""
        from protein_performer.training.train_cli import main
        raise SystemExit(main({argv!r}))
        """
    )
    status = run_child(code, hook, timed_kill_s=rng.uniform(4.0, 15.0) if timed else None)
    entries = log.read_text().split() if log.exists() else []
    done = [int(s) for kind, s in zip(entries[::2], entries[1::2], strict=True) if kind == "done"]
    started = [int(s) for kind, s in zip(entries[::2], entries[1::2], strict=True)]
    assert train_main(argv) == 0
    out = capsys.readouterr().out
    resumed = int(out.split("(step ")[1].split(")")[0]) if "resuming from" in out else 0
    metrics = json.loads((runs / "f" / "metrics.json").read_text())
    checkpoints = runs / "f" / "checkpoints"
    names = sorted(p.name for p in checkpoints.iterdir())
    lost = not (max(done, default=0) <= resumed <= max(started, default=0))
    report("train", seed=seed, where=where, killed=status != 0, lost=lost, resumed=resumed)
    assert not lost, f"kill at {where}: resumed at step {resumed}, saves {entries}"
    assert metrics["global_step"] == max_steps
    assert names == ["best.ckpt", "last.ckpt"], names  # no last-v1, no temporaries
    assert read_step(checkpoints / "last.ckpt") == max_steps
