"""`protein-performer <command> --help` answers without importing torch, from a snapshot that is
the command's own parser's page (`help_snapshot`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from protein_performer.cli import COMMANDS

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "lightning", "datasets", "jsonargparse")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_imports_no_torch(command):
    code = (
        "import contextlib, io, sys\n"
        "from protein_performer.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    assert main([{command!r}, '--help']) == 0\n"
        f"assert out.getvalue().startswith('usage: protein-performer {command}'), out.getvalue()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_snapshot_is_the_parsers_page(command):
    """Fails when a parser changed and `python -m protein_performer.help_snapshot` was not run."""
    from protein_performer.help_snapshot import live_help
    from protein_performer.help_text import page

    assert page(command) == live_help(command)


def test_help_with_other_arguments_builds_the_parser(capsys):
    """Only a bare `--help` is answered from the snapshot: with a config the page shows its
    values, so the parser is built for real."""
    from protein_performer.cli import main

    with pytest.raises(SystemExit) as done:
        main(["dms", "--n-boot", "7", "--help"])
    assert done.value.code == 0
    assert "usage: protein-performer dms" in capsys.readouterr().out
