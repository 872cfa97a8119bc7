"""`execute_notebook`: run a notebook the way `make notebooks` does, in a fresh process, and
read it back."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]


def _execute(notebook: Path, out_dir: Path, env_extra: dict[str, str]):
    env = {
        **os.environ,
        **env_extra,
        # The Makefile exports Agg for the commands; the notebook must still render inline.
        "MPLBACKEND": "Agg",
        "WANDB_MODE": "disabled",
        "PYTHONPATH": str(REPO),
    }
    result = subprocess.run(
        [sys.executable, "-m", "protein_performer.notebook_check", str(notebook), "--out",
         str(out_dir)],
        cwd=out_dir, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return nbformat.read(out_dir / notebook.name, as_version=4)


@pytest.fixture
def execute_notebook():
    return _execute
