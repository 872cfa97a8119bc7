"""`protein-performer prepare`: FASTA → cached Arrow splits, then the split statistics table.

protein-performer prepare                                   # the shipped sample → cache/
protein-performer prepare --fasta uniref50.fasta.gz --ood-taxa "" --valid-fraction 0.001
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from protein_performer import command_line
from protein_performer.data.prepare import (
    PrepareConfig,
    empty_splits,
    parse_accessions,
    parse_taxa,
    prepare,
)
from protein_performer.data.stats import print_stats

PROG = "protein-performer prepare"


def build_parser() -> argparse.ArgumentParser:
    defaults = PrepareConfig()
    parser = command_line.ArgumentParser(
        prog=PROG,
        description="Tokenise a FASTA file into train/valid/test/ood Arrow splits (cached).",
    )
    parser.add_argument("--fasta", default=defaults.fasta, help="input .fasta/.fa/.gz")
    parser.add_argument("--cache-dir", default=defaults.cache_dir)
    parser.add_argument("--valid-fraction", type=float, default=defaults.valid_fraction)
    parser.add_argument("--test-fraction", type=float, default=defaults.test_fraction)
    parser.add_argument(
        "--ood-taxa",
        default=",".join(map(str, defaults.ood_taxa)),
        help="comma-separated OX=/TaxID= values held out whole as 'ood' ('' for none)",
    )
    parser.add_argument(
        "--ood-accessions",
        default=None,
        help="accessions or UniRef cluster ids to hold out: comma-separated, or a file path",
    )
    parser.add_argument(
        "--unknown",
        choices=("error", "x"),
        default=defaults.unknown,
        help="invalid residues: fail (default) or map to X",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=defaults.workers,
        help="processes tokenising records (pass 1); the result is identical for any count",
    )
    parser.add_argument(
        "--force",
        **command_line.SWITCH,
        help="rebuild even if cached. The cache key hashes the FASTA's bytes; the hash is reused "
        "while the file's path, inode, size, mtime and ctime are all unchanged (ctime changes on "
        "every write and cannot be set back), and a cache is re-verified against its shard "
        "list on every use",
    )
    parser.add_argument(
        "--verify",
        **command_line.SWITCH,
        help="read every byte of a cached preparation against the checksums written when it "
        "was built (rebuilding it if any differ); without it, that full check runs on the "
        "first use after a build and whenever a shard's size or modification time changed",
    )
    return parser


@contextlib.contextmanager
def _progress_bar(console: Console) -> Iterator[Callable[[int, int], None]]:
    """A Rich bar over the input's bytes (compressed bytes for gzip), shown only on a terminal."""
    columns = (
        TextColumn("pass 1"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("read", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return command_line.run(PROG, lambda: _prepare(args))


def _prepare(args: argparse.Namespace) -> int:
    console = Console()
    start = time.perf_counter()
    config = PrepareConfig(
        fasta=args.fasta,
        cache_dir=args.cache_dir,
        valid_fraction=args.valid_fraction,
        test_fraction=args.test_fraction,
        ood_taxa=parse_taxa(args.ood_taxa),
        ood_accessions=parse_accessions(args.ood_accessions),
        unknown=args.unknown,
        workers=args.workers,
    )
    # Warnings of the preparation (skipped records, ...) show as they come; its errors (a
    # `file:line:` of the FASTA, kept clickable) still end in one line.
    command_line.show_held_output()
    with warnings.catch_warnings(), _progress_bar(console) as progress:
        warnings.simplefilter("always")
        result = prepare(
            config, force=args.force, verify=args.verify, log=console.log, progress=progress
        )
    meta = result.meta
    console.print(f"prepared splits: {result.path} ({'built' if result.built else 'cached'})")
    taxa = meta.get("ood_taxa_found", {})
    for taxon in config.ood_taxa:
        found = taxa.get(str(taxon))
        if found:
            console.print(f"held out (ood): OX={taxon} {found['organism']}: {found['records']:,}")
        else:
            console.print(f"held out (ood): OX={taxon}: [yellow]not present in the input[/]")
    if config.ood_accessions:
        console.print(f"held out (ood): {len(config.ood_accessions):,} listed accessions")
    console.print(
        f"read {meta['records_read']:,} records ({meta['residues_read']:,} residues); "
        f"{meta['duplicates_removed']:,} exact duplicates and "
        f"{meta['empty_skipped']:,} empty records removed"
    )
    print_stats(result.summaries(), f"Sequence lengths per split ({config.fasta})", console)
    for name in empty_splits(meta):
        # Not an error here: a small or unusual input is still worth looking at; train and
        # evaluate refuse the empty splits they need.
        print(
            f"{PROG}: warning: split {name!r} is empty "
            f"({meta['records_read']:,} records read; --valid-fraction {config.valid_fraction}, "
            f"--test-fraction {config.test_fraction}, --ood-taxa {args.ood_taxa!r})",
            file=sys.stderr,
        )
    if result.built:
        console.print(
            f"built in {meta['seconds']:.1f} s: {meta['residues_per_second']:,.0f} residues/s"
        )
    else:
        console.print(
            f"loaded from cache in {time.perf_counter() - start:.2f} s (built in "
            f"{meta['seconds']:.1f} s: {meta['residues_per_second']:,.0f} residues/s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
