"""Stream `(header, sequence)` records from `.fasta`, `.fa` or gzip files, one line at a time.

The reader never holds more than one record in memory, so it scales to UniRef50/TrEMBL files
(tens of GB). Compression is detected from the magic bytes, not the file name, so a gzip file
named `.fasta` still reads, and a bzip2/xz/zstd/zip file fails with a message saying what it is.

Tolerated: wrapped sequence lines, CRLF line ends, blank lines, lowercase, and one trailing `*`
(the stop-codon marker some tools append). Errors (`FastaFormatError`) give `file:line`:

- text before the first header;
- binary input (NUL bytes, or a compressed format we cannot read);
- a truncated or corrupt gzip stream;
- invalid residues are reported by `Alphabet.encode`; `FastaRecord.locate` turns the residue
  position it names into `file:line:column`.

An empty record (a header with no residues) is warned about (`FastaWarning`) and skipped.
"""

from __future__ import annotations

import bisect
import gzip
import warnings
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO, NamedTuple

GZIP_MAGIC = b"\x1f\x8b"
# Formats we recognise only to explain why we refuse them.
_OTHER_MAGIC = {
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"PK\x03\x04": "zip",
}
_SNIFF_BYTES = 1 << 16


class FastaFormatError(ValueError):
    """The input is not a FASTA file we can read; the message starts with `file:line:`."""


class FastaWarning(UserWarning):
    """Something in the input was skipped (e.g. an empty record)."""


class FastaRecord(NamedTuple):
    """One record. `sequence` has line breaks, whitespace and a trailing '*' removed."""

    header: str  # without the leading '>'
    sequence: str
    path: str
    line: int  # 1-based line number of the header
    seq_lines: tuple[int, ...]  # line number of each sequence line
    line_ends: tuple[int, ...]  # residues read up to the end of each of those lines

    @property
    def name(self) -> str:
        """The first word of the header, e.g. `sp|P00974|BPT1_BOVIN`."""
        return self.header.split(maxsplit=1)[0] if self.header.strip() else "<no name>"

    def locate(self, position: int) -> str:
        """`file:line:column` of the 1-based residue `position`."""
        i = bisect.bisect_left(self.line_ends, position)
        i = min(i, len(self.seq_lines) - 1)
        start = self.line_ends[i - 1] if i > 0 else 0
        return f"{self.path}:{self.seq_lines[i]}:{position - start}"


def _open_binary(path: Path, stack: ExitStack) -> tuple[BinaryIO, BinaryIO]:
    """Open `path` for reading bytes, decompressing gzip; refuse other binary formats.
    Returns `(lines, raw)`: the stream to read lines from and the file under it (whose position
    says how far through the input the reader is)."""
    raw = stack.enter_context(open(path, "rb", buffering=1 << 20))
    head = raw.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
    if head.startswith(GZIP_MAGIC):
        return stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb")), raw
    for magic, kind in _OTHER_MAGIC.items():
        if head.startswith(magic):
            raise FastaFormatError(
                f"{path}:1: binary input: this looks like a {kind} file; only plain text and "
                f"gzip are read, so decompress it first"
            )
    if b"\x00" in head:
        # Checked up front so that a binary file without newlines is never read as one "line".
        raise _binary_error(path, head[: head.index(b"\x00")].count(b"\n") + 1, "NUL byte")
    return raw, raw


def _binary_error(path: Path, line_no: int, why: str) -> FastaFormatError:
    return FastaFormatError(f"{path}:{line_no}: binary input ({why}); expected FASTA text")


def iter_fasta(
    path: str | Path,
    *,
    on_empty: Callable[[str], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[FastaRecord]:
    """Yield the records of `path` in file order, streaming.

    Empty records are skipped with a `FastaWarning`; `on_empty(message)` is called as well, so a
    caller can count them without intercepting warnings. `on_progress(bytes)` is called every
    few thousand lines with how many bytes of the file (compressed, for gzip) were read.
    """
    path = Path(path)
    stack = ExitStack()
    header: str | None = None
    header_line = 0
    chunks: list[bytes] = []
    seq_lines: list[int] = []
    line_ends: list[int] = []
    n_residues = 0
    line_no = 0

    def finish() -> FastaRecord | None:
        sequence = b"".join(chunks)
        if sequence.endswith(b"*"):
            sequence = sequence[:-1]
            line_ends[-1] -= 1
        record = FastaRecord(
            header,  # type: ignore[arg-type]
            sequence.decode("latin-1"),
            str(path),
            header_line,
            tuple(seq_lines),
            tuple(line_ends),
        )
        if not sequence:
            message = f"{path}:{header_line}: record {record.name!r} has no residues; skipped"
            warnings.warn(message, FastaWarning, stacklevel=3)
            if on_empty is not None:
                on_empty(message)
            return None
        return record

    try:
        fh, raw = _open_binary(path, stack)
        for line_no, raw_line in enumerate(fh, start=1):  # noqa: B007 - line_no used after loop
            if on_progress is not None and not line_no & 0x3FFF:
                on_progress(raw.tell())
            if b"\x00" in raw_line:
                raise _binary_error(path, line_no, "NUL byte")
            line = raw_line.strip()
            if not line:
                continue
            if line.startswith(b">"):
                if header is not None and (record := finish()) is not None:
                    yield record
                try:
                    header = line[1:].decode("utf-8")
                except UnicodeDecodeError as err:
                    raise _binary_error(path, line_no, "header is not UTF-8 text") from err
                header_line = line_no
                chunks, seq_lines, line_ends, n_residues = [], [], [], 0
                continue
            if header is None:
                shown = line[:40].decode("latin-1")
                raise FastaFormatError(
                    f"{path}:{line_no}: text before the first header: expected a line starting "
                    f"with '>' but got {shown!r}"
                )
            chunks.append(line)
            n_residues += len(line)
            seq_lines.append(line_no)
            line_ends.append(n_residues)
    except EOFError as err:
        raise FastaFormatError(
            f"{path}:{line_no}: truncated gzip file: the compressed stream ends without its "
            f"end-of-stream marker after line {line_no}; the file is incomplete"
        ) from err
    except (gzip.BadGzipFile, zlib.error) as err:
        raise FastaFormatError(
            f"{path}:{line_no}: corrupt gzip data after line {line_no}: {err}"
        ) from err
    finally:
        stack.close()
    if header is not None and (record := finish()) is not None:
        yield record
