"""The attention notebook runs top to bottom (through nbmake) against the tiny checkpoint."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "attention_maps.ipynb"


def test_attention_notebook_executes(tiny_checkpoint):
    env = {
        **os.environ,
        "PROTEIN_PERFORMER_CHECKPOINT": str(tiny_checkpoint),
        "MPLBACKEND": "Agg",
        "WANDB_MODE": "disabled",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbmake",
            str(NOTEBOOK),
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


def test_notebook_outputs_are_cleared():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells and all(not c.outputs and c.execution_count is None for c in code_cells)
