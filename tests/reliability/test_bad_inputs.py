"""Bad-input battery: every user error of `prepare` and `train` ends in a clean error
(`tests.helpers.clean_error_problem`: exit status 2 and one stderr line naming the flag or file,
no traceback) and nothing is written under runs/<name>/.

Each case runs the real CLI entry point in-process: an exception escaping `main` is exactly
what would have been a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from protein_performer.data.prepare_cli import main as prepare_main
from protein_performer.training.train_cli import main as train_main
from tests.helpers import assert_clean_error, run_command

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "configs" / "tiny.yaml")


def _files(tmp: Path) -> dict[str, Path]:
    """The bad input files the cases refer to, made once per test."""
    bad_residue = tmp / "bad_residue.fasta"
    bad_residue.write_text(">sp|P1|X_HUMAN one OX=9606\nMKV\nMK1V\n")
    empty = tmp / "empty.fasta"
    empty.write_text(">only_a_header\n")
    two = tmp / "two.fasta"
    two.write_text(">sp|P1|A_HUMAN a OX=9606\nMKVLA\n>sp|P2|B_HUMAN b OX=9606\nMKVLW\n")
    a_file = tmp / "a_file"
    a_file.write_text("not a directory\n")
    plain = tmp / "plain_dict.ckpt"
    torch.save({"state_dict": {}}, plain)
    truncated = tmp / "truncated.ckpt"
    torch.save({"pytorch-lightning_version": "2.6", "global_step": 3}, truncated)
    truncated.write_bytes(truncated.read_bytes()[:40])
    (tmp / "a_dir").mkdir()
    return {
        "bad_residue": bad_residue,
        "empty": empty,
        "two": two,
        "a_file": a_file,
        "plain": plain,
        "truncated": truncated,
        "a_dir": tmp / "a_dir",
    }


# (id, argv with {placeholders}, text the one-line message must contain)
PREPARE_CASES = [
    ("fasta-missing", ["--fasta", "{tmp}/nope.fasta"], "nope.fasta: FASTA file not found"),
    ("fasta-is-dir", ["--fasta", "{a_dir}"], "a_dir: is a directory"),
    ("cache-dir-is-file", ["--cache-dir", "{a_file}"], "a_file: cache directory"),
    ("invalid-residue", ["--fasta", "{bad_residue}"], "bad_residue.fasta:3:3: invalid residue"),
    ("no-records", ["--fasta", "{empty}"], "empty.fasta: no FASTA records"),
    ("fractions", ["--valid-fraction", "0.6", "--test-fraction", "0.5"], "valid_fraction"),
    ("ood-taxa", ["--ood-taxa", "human"], "ood taxa"),
    ("bad-fraction-type", ["--valid-fraction", "lots"], "--valid-fraction"),
    ("workers-0", ["--workers", "0"], "workers must be >= 1"),
]

TRAIN_CASES = [
    ("fasta-missing", ["--data.fasta", "{tmp}/nope.fasta"], "nope.fasta: FASTA file not found"),
    ("fasta-is-dir", ["--data.fasta", "{a_dir}"], "a_dir: is a directory"),
    ("invalid-residue", ["--data.fasta", "{bad_residue}"], "bad_residue.fasta:3:3"),
    ("no-records", ["--data.fasta", "{empty}"], "no FASTA records"),
    ("empty-splits", ["--data.fasta", "{two}"], "split(s) came out empty"),
    ("cache-dir-is-file", ["--data.cache_dir", "{a_file}"], "a_file: cache directory"),
    ("batch-size-0", ["--data.batch_size", "0"], "data.batch_size must be >= 1"),
    ("batch-size-neg", ["--data.batch_size", "-1"], "data.batch_size must be >= 1"),
    ("tokens-per-batch", ["--data.tokens_per_batch", "0"], "data.tokens_per_batch"),
    ("model-max-len-0", ["--model.max_len", "0"], "model.max_len must be >= 1"),
    ("data-over-model-len", ["--data.max_len", "4096"], "data.max_len=4096 exceeds"),
    ("val-interval-0", ["--trainer.val_check_interval", "0"], "trainer.val_check_interval"),
    ("ckpt-every-0", ["--trainer.checkpoint_every_n_steps", "0"], "checkpoint_every_n_steps"),
    ("max-steps-0", ["--trainer.max_steps", "0"], "trainer.max_steps"),
    ("precision", ["--trainer.precision", "bogus"], "trainer.precision"),
    ("accelerator-gpu", ["--trainer.accelerator", "gpu"], "trainer.accelerator"),
    ("accelerator-bogus", ["--trainer.accelerator", "bogus"], "trainer.accelerator"),
    ("strategy", ["--trainer.strategy", "bogus"], "trainer.strategy"),
    ("ckpt-missing", ["--ckpt-path", "{tmp}/nope.ckpt"], "--ckpt-path"),
    ("ckpt-plain-dict", ["--ckpt-path", "{plain}"], "not a Lightning checkpoint"),
    ("ckpt-truncated", ["--ckpt_path", "{truncated}"], "truncated.ckpt: unreadable"),
    ("ckpt-other-shape", ["--ckpt-path", "{tiny_ckpt}"], "cannot resume with another model"),
    ("init-from-missing", ["--init-from", "{tmp}/nope.ckpt"], "--init-from"),
    ("init-from-plain", ["--init-from", "{plain}"], "--init-from"),
    ("init-from-shape", ["--init-from", "{tiny_ckpt}"], "model shape differs"),
    ("preset", ["--model-preset", "bogus"], "--model-preset"),
    ("unknown-flag", ["--trainer.bogus", "1"], "trainer.bogus"),
    ("attention", ["--model.attention", "softmax"], "model.attention"),
]


def _fill(argv: list[str], values: dict[str, Path]) -> list[str]:
    return [arg.format(**{k: str(v) for k, v in values.items()}) for arg in argv]


@pytest.mark.parametrize("case", PREPARE_CASES, ids=[c[0] for c in PREPARE_CASES])
def test_prepare_bad_input(case, tmp_path, capsys):
    _, argv, expected = case
    values = {"tmp": tmp_path, **_files(tmp_path)}
    argv = ["--cache-dir", str(tmp_path / "cache")] + _fill(argv, values)
    assert_clean_error(run_command(prepare_main, argv, capsys), expected)


@pytest.mark.parametrize("case", TRAIN_CASES, ids=[c[0] for c in TRAIN_CASES])
def test_train_bad_input(case, tmp_path, capsys, tiny_fasta, tiny_cache_dir, tiny_checkpoint):
    _, argv, expected = case
    values = {"tmp": tmp_path, "tiny_ckpt": tiny_checkpoint, **_files(tmp_path)}
    runs = tmp_path / "runs"
    argv = [
        "--config", TINY, f"--data.fasta={tiny_fasta}", f"--data.cache_dir={tiny_cache_dir}",
        f"--runs-dir={runs}", "--name=bad", "--trainer.enable_progress_bar=false",
        "--model.d_model=32", "--model.n_heads=2",  # another shape than tiny_checkpoint's
    ] + _fill(argv, values)  # fmt: skip
    assert_clean_error(run_command(train_main, argv, capsys), expected)
    assert not (runs / "bad").exists(), "a failed launch wrote into its run directory"


def test_failed_launch_keeps_the_existing_run_record(tmp_path, capsys, tiny_fasta, tiny_cache_dir):
    """`train --name tk1 --data.batch_size 0 --model.attention exact` next to a favor-relu run
    must not touch its config.yaml or add a logs/version_k."""
    from tests.helpers import train_tiny

    run = tmp_path / "runs" / "tk1"
    train_tiny(run, tiny_fasta, tiny_cache_dir)
    (run / "config.yaml").write_text("model:\n  attention: favor-relu\n")
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    argv = [
        "--config", TINY, f"--data.fasta={tiny_fasta}", f"--data.cache_dir={tiny_cache_dir}",
        f"--runs-dir={tmp_path / 'runs'}", "--name=tk1", "--data.batch_size", "0",
        "--model.attention", "exact",
    ]  # fmt: skip
    assert_clean_error(run_command(train_main, argv, capsys), "data.batch_size")
    assert (run / "config.yaml").read_text() == "model:\n  attention: favor-relu\n"
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before
