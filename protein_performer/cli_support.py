"""What every inference command (analyze, embed, mutations, generate, score) shares: the
checkpoint flag and its provenance, the FASTA and `--unknown` flags, and `--out` (with `-` for
stdout). How a command starts and ends on a user error is `command_line`'s.

The flags are declared here once so that every command spells them the same way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from protein_performer.errors import UserError
from protein_performer.paths import SHIPPED_CHECKPOINT

STDOUT = "-"


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
        raise UserError(
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
    """Every record of a FASTA file; a missing, directory or empty file is a `UserError`."""
    from protein_performer.data.fasta import iter_fasta

    if path.is_dir():
        raise UserError(f"{flag} {path}: is a directory, not a FASTA file")
    if not path.is_file():
        raise UserError(f"{flag} {path}: no such file")
    records = list(iter_fasta(path))
    if not records:
        raise UserError(f"{flag} {path}: no sequences in the file")
    return records


def check_out(out: str | None, *, suffixes: Sequence[str] = ()) -> Path | None:
    """`--out` as a path to write (None for stdout); refuses a directory or a wrong suffix
    before any work is done."""
    if out is None or out == STDOUT:
        return None
    path = Path(out)
    if path.is_dir():
        raise UserError(f"--out {out}: is a directory; give a file name")
    if suffixes and path.suffix not in suffixes:
        raise UserError(f"--out {out}: this command writes {' or '.join(suffixes)} files")
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
