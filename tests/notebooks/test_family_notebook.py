"""The family notebook runs top to bottom against a tiny family model and shows its figures."""

import gzip
import os
import subprocess
import sys
from pathlib import Path

import nbformat

from protein_performer.family import cli as family_cli
from protein_performer.notebook_check import count_images

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "family_variant_effects.ipynb"
FAMILY = REPO / "data" / "families" / "PF00595"


def small_family(path: Path) -> Path:
    """The first 200 rows of the shipped alignment plus the wild type's row."""
    with gzip.open(FAMILY / "PF00595_mgap6.fasta.gz", "rt") as handle:
        lines = handle.read().split("\n")
    rows = [(lines[i][1:], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]
    keep = rows[:200] + [r for r in rows if r[0].split()[0] == "DLG4_RAT/313-391"]
    path.write_text("".join(f">{name}\n{seq}\n" for name, seq in keep))
    return path


def test_family_notebook_executes_and_shows_its_figures(tmp_path):
    msa = small_family(tmp_path / "pdz200.fasta")
    code = family_cli.main([
        "--config", str(REPO / "configs" / "family.yaml"), "--runs-dir", str(tmp_path),
        "--name", "nb", "--data.msa", str(msa), "--data.cache_dir", str(tmp_path / "cache"),
        "--model-preset", "tiny_l2_d64", "--trainer.max_steps", "2",
        "--trainer.val_check_interval", "2", "--trainer.enable_progress_bar", "false",
        "--eval.n_boot", "10", "--eval.contacts", "null",
    ])  # fmt: skip
    assert code == 0
    env = {
        **os.environ,
        "PROTEIN_PERFORMER_FAMILY_CHECKPOINT": str(tmp_path / "nb" / "checkpoints" / "last.ckpt"),
        "PROTEIN_PERFORMER_FAMILY_MSA": str(msa),
        "MPLBACKEND": "Agg",
        "WANDB_MODE": "disabled",
        "PYTHONPATH": str(REPO),
    }
    result = subprocess.run(
        [sys.executable, "-m", "protein_performer.notebook_check", str(NOTEBOOK), "--out",
         str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    executed = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    assert count_images(executed) >= 2
