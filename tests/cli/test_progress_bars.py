"""The inference commands draw a progress bar when stderr is a terminal and nothing when it is
piped: each command runs in a subprocess whose stderr is a pseudo-terminal (`pty`), so a
command that stops asking for its bar, or asks with stderr redirected, fails here."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BAR = re.compile(r"\d+/\d+ \[")  # tqdm's "n/total [elapsed<left, rate]"


def _argv(command: str, mlm: Path, causal: Path, tmp: Path) -> tuple[list[str], str]:
    """(arguments, the bar's label) of a small run of `command`."""
    fasta = tmp / "in.fasta"
    fasta.write_text(">a\nMKTAYIAKQR\n>b\nMVLSPADKTN\n")
    return {
        "embed": (["--fasta", str(fasta), "--out", str(tmp / "e.npz"), "--checkpoint", str(mlm)],
                  "embed"),
        # Pseudo-likelihood scores one pass per variant, which is what the bar counts.
        "mutations": (["--sequence", "MKTAYIAKQR", "--mutations", "K2A", "T3G", "--method",
                       "pll", "--checkpoint", str(mlm), "--out", str(tmp / "m.tsv")],
                      "mutations"),
        "score": (["--fasta", str(fasta), "--checkpoint", str(causal), "--out",
                   str(tmp / "s.tsv")], "score"),
        "analyze": (["--checkpoint", str(mlm), "--out", str(tmp / "a"), "--run-name", "t",
                     "--n-sequences", "2", "--ts50-jacobian", "false"], "attention similarity"),
    }[command]  # fmt: skip


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def _run_on_a_terminal(argv: list[str], cwd: Path) -> tuple[int, str]:
    """(exit code, what the command drew on its terminal stderr); stdout goes to a file."""
    leader, follower = pty.openpty()
    # 24 rows of 80 columns, as a terminal window has (a fresh pty is 0 × 0: no room for a bar).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    with (cwd / "stdout.txt").open("wb") as stdout:
        proc = subprocess.Popen([sys.executable, "-m", "protein_performer.cli", *argv],
                                cwd=cwd, env=_env(), stdin=subprocess.DEVNULL, stdout=stdout,
                                stderr=follower)  # fmt: skip
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # EIO: the command closed its side of the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=600)
    os.close(leader)
    return code, b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["embed", "mutations", "score", "analyze"])
def test_progress_bars_draw_on_a_terminal(command, tiny_checkpoint, tiny_causal_checkpoint,
                                          tmp_path):  # fmt: skip
    """embed, mutations, score and analyze draw a bar on a terminal (and nothing when piped)."""
    args, label = _argv(command, tiny_checkpoint, tiny_causal_checkpoint, tmp_path)
    code, screen = _run_on_a_terminal([command, *args], tmp_path)
    assert code == 0, screen[-2000:]
    assert f"{label}:" in screen and BAR.search(screen), screen[-2000:]
    if command == "analyze":
        return  # a second analyze run would only repeat the piped case of the others
    piped = subprocess.run([sys.executable, "-m", "protein_performer.cli", command, *args],
                           cwd=tmp_path, env=_env(), capture_output=True, text=True,
                           timeout=600, check=False)  # fmt: skip
    assert piped.returncode == 0, piped.stderr[-2000:]
    assert not BAR.search(piped.stderr), piped.stderr[-2000:]
