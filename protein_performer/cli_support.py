"""What every inference command (analyze, embed, mutations, generate, score) shares: the
checkpoint flag and its provenance, the FASTA and `--unknown` flags, `--out` (with `-` for
stdout), and one way to end on a user error: `prog: message`, one line, exit status 2.

The flags are declared here once so that every command spells them the same way.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from protein_performer.debug import DEBUG_ENV
from protein_performer.paths import SHIPPED_CHECKPOINT

STDOUT = "-"


class UsageError(Exception):
    """A user error: printed as one line `prog: message`, exit status 2, no traceback."""


def add_checkpoint_flag(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    parser.add_argument(
        "--checkpoint",
        type=Path,
        required=required,
        default=None,
        help="Lightning .ckpt file or save_pretrained directory"
        + ("" if required else f" (default: the shipped {SHIPPED_CHECKPOINT.name})"),
    )


def add_unknown_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--unknown",
        choices=("error", "x"),
        default="error",
        help="letters outside the amino-acid alphabet: stop naming the record and position "
        "(default), or read them as X",
    )


def add_fasta_flag(parser: argparse.ArgumentParser, *, required: bool = True, help: str) -> None:
    parser.add_argument("--fasta", type=Path, required=required, default=None, help=help)


def add_out_flag(parser: argparse.ArgumentParser, *, what: str, required: bool = False) -> None:
    default = "" if required else " (default: stdout)"
    parser.add_argument(
        "--out", required=required, default=None, help=f"{what}; - for stdout{default}"
    )


def checkpoint_path(path: Path | None, prog: str) -> Path:
    """The checkpoint to load: the one named, else the shipped default (said on stderr). The
    newest run under ./runs is never picked behind the user's back."""
    if path is not None:
        return path
    if not SHIPPED_CHECKPOINT.is_file():
        raise UsageError(
            f"no --checkpoint given and the shipped {SHIPPED_CHECKPOINT} is missing; "
            "pass --checkpoint PATH (a .ckpt from `protein-performer train`)"
        )
    print(f"{prog}: no --checkpoint given; using the shipped {SHIPPED_CHECKPOINT}",
          file=sys.stderr)  # fmt: skip
    return SHIPPED_CHECKPOINT


def load_checkpoint(path: Path | None, prog: str, device: str = "cpu"):
    """(model, provenance) of `checkpoint_path(path)`; errors are one-line `CheckpointError`s."""
    from protein_performer.model.io import load_model, provenance

    path = checkpoint_path(path, prog)
    model = load_model(path, map_location=device)
    return model, provenance(path)


def read_fasta(path: Path, flag: str = "--fasta") -> list:
    """Every record of a FASTA file; a missing, directory or empty file is a `UsageError`."""
    from protein_performer.data.fasta import iter_fasta

    if path.is_dir():
        raise UsageError(f"{flag} {path}: is a directory, not a FASTA file")
    if not path.is_file():
        raise UsageError(f"{flag} {path}: no such file")
    records = list(iter_fasta(path))
    if not records:
        raise UsageError(f"{flag} {path}: no sequences in the file")
    return records


def check_out(out: str | None, *, suffixes: Sequence[str] = ()) -> Path | None:
    """`--out` as a path to write (None for stdout); refuses a directory or a wrong suffix
    before any work is done."""
    if out is None or out == STDOUT:
        return None
    path = Path(out)
    if path.is_dir():
        raise UsageError(f"--out {out}: is a directory; give a file name")
    if suffixes and path.suffix not in suffixes:
        raise UsageError(f"--out {out}: this command writes {' or '.join(suffixes)} files")
    return path


def write_text(path: Path | None, text: str) -> str:
    """Write `text` to `path`, or to stdout when None; returns where it went, for messages."""
    if path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return "stdout"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def provenance_comments(provenance) -> str:
    """`# checkpoint: …` and `# checkpoint_sha256: …` lines that head every TSV output."""
    return "".join(f"# {key}: {value}\n" for key, value in provenance.as_dict().items())


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input, not a bug: reported in one line."""
    from protein_performer.data.fasta import FastaFormatError
    from protein_performer.data.tokenizer import InvalidResidueError
    from protein_performer.model.io import CheckpointError

    return (UsageError, CheckpointError, FastaFormatError, InvalidResidueError, ValueError,
            OSError)  # fmt: skip


# Loggers whose records (e.g. Lightning's "GPU available: ...") are held with the warnings.
_HELD_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")


class HeldOutput:
    """Python warnings and Lightning's start-up log lines, held back while a command checks its
    input: `replay()` shows them once it got past that point; after a user error they are
    dropped, so the one-line error stands alone (`PROTEIN_PERFORMER_DEBUG=1` shows them)."""

    def __init__(self) -> None:
        self._warnings = warnings.catch_warnings(record=True)
        self._records: list[logging.LogRecord] = []
        self._handler = _ListHandler(self._records)
        self._caught: list[warnings.WarningMessage] = []

    def __enter__(self) -> HeldOutput:
        self._caught = self._warnings.__enter__()  # keeps the filters in force (ignored stay so)
        for name in _HELD_LOGGERS:
            logger = logging.getLogger(name)
            logger.addHandler(self._handler)
            logger.propagate = False
        return self

    def __exit__(self, *exc) -> None:
        self._warnings.__exit__(*exc)
        for name in _HELD_LOGGERS:
            logger = logging.getLogger(name)
            logger.removeHandler(self._handler)
            logger.propagate = True

    def replay(self) -> None:
        """Show what was held, in order, as it would have been shown."""
        for record in self._records:
            logging.getLogger(record.name).handle(record)
        for w in self._caught:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)
        self._records.clear()
        self._caught.clear()


class _ListHandler(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split("\n")[0].split()) or type(error).__name__


def run(prog: str, body: Callable[[], int]) -> int:
    """Run a command's body; a user error ends as one line on stderr and exit status 2, with no
    warning printed before it. Warnings of a successful run are shown when it ends.
    `PROTEIN_PERFORMER_DEBUG=1` holds nothing back and lets the error raise, traceback and all."""
    if os.environ.get(DEBUG_ENV) == "1":
        return body()
    held = HeldOutput()
    with held:
        try:
            code = body()
        except user_errors() as error:
            print(f"{prog}: {one_line(error)}", file=sys.stderr)
            return 2
    held.replay()
    return code
