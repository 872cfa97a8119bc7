"""The family notebook runs top to bottom against a tiny family model and shows its figures."""

import gzip
from pathlib import Path

from protein_performer.family import family_cli as family_cli
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


def test_family_notebook_executes_and_shows_its_figures(tmp_path, execute_notebook):
    msa = small_family(tmp_path / "pdz200.fasta")
    code = family_cli.main([
        "--config", str(REPO / "configs" / "family.yaml"), "--runs-dir", str(tmp_path),
        "--name", "nb", "--data.msa", str(msa), "--data.cache_dir", str(tmp_path / "cache"),
        "--model-preset", "tiny_l2_d64", "--trainer.max_steps", "2",
        "--trainer.val_check_interval", "2", "--trainer.enable_progress_bar", "false",
        "--eval.n_boot", "10", "--eval.contacts", "null",
    ])  # fmt: skip
    assert code == 0
    checkpoint = tmp_path / "nb" / "checkpoints" / "last.ckpt"
    executed = execute_notebook(
        NOTEBOOK, tmp_path,
        {"PROTEIN_PERFORMER_FAMILY_CHECKPOINT": str(checkpoint),
         "PROTEIN_PERFORMER_FAMILY_MSA": str(msa)},
    )  # fmt: skip
    assert count_images(executed) >= 2
