"""`protein-performer msa`: build a family alignment for one protein, ready for `family`.

    protein-performer msa --query wt.fasta --db sequences.fasta.gz --out family.a2m
    protein-performer family --data.msa family.a2m --eval.query <query>/1-<L> ...

jackhmmer (pyhmmer) iterations over `--db`, bit-score thresholds per query residue, and the
EVcouplings coverage and column filters (see `data.msa_search`). The A2M's first row is the
query; its columns are the query residues that enough rows cover.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from protein_performer import cli_support as cs
from protein_performer import command_line
from protein_performer.data.msa_search import SearchConfig
from protein_performer.errors import UserError

PROG = "protein-performer msa"


def build_parser() -> argparse.ArgumentParser:
    defaults = SearchConfig()
    parser = command_line.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--query", type=Path, required=True, help="FASTA: the protein (first record)"
    )
    parser.add_argument(
        "--db", type=Path, required=True, help="FASTA (.gz) of sequences to search"
    )
    parser.add_argument("--out", type=Path, required=True, help="the A2M file to write")
    parser.add_argument(
        "--iterations",
        type=int,
        default=defaults.iterations,
        help=f"jackhmmer rounds (default {defaults.iterations})",
    )
    parser.add_argument(
        "--bitscore",
        type=float,
        default=defaults.bitscore,
        help=f"inclusion threshold, bits per query residue (default {defaults.bitscore})",
    )
    parser.add_argument(
        "--min-coverage",
        type=float,
        default=defaults.min_coverage,
        help="drop hits with residues in fewer of the query's columns "
        f"(default {defaults.min_coverage})",
    )
    parser.add_argument(
        "--min-column-coverage",
        type=float,
        default=defaults.min_column_coverage,
        help="columns with residues in fewer rows become insertions "
        f"(default {defaults.min_column_coverage})",
    )
    parser.add_argument(
        "--cpus", type=int, default=defaults.cpus, help="search threads (default 0: all cores)"
    )
    parser.add_argument("--force", **command_line.SWITCH, help="replace an existing --out")
    return parser  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from pyhmmer import easel

    from protein_performer.data.msa_search import focus_columns, read_database, search_family

    cfg = SearchConfig(
        iterations=args.iterations, bitscore=args.bitscore, min_coverage=args.min_coverage,
        min_column_coverage=args.min_column_coverage, cpus=args.cpus,
    )  # fmt: skip
    if args.out.exists() and not args.force:
        raise UserError(f"--out {args.out}: exists already (--force replaces it)")
    if args.out.is_dir():
        raise UserError(f"--out {args.out}: is a directory; give a file name")
    query = cs.read_fasta(args.query, "--query")[0]
    if not args.db.is_file():
        raise UserError(f"--db {args.db}: no such file")
    alphabet = easel.Alphabet.amino()
    database = read_database(args.db, alphabet)
    family = search_family(query.name, query.sequence.upper(), database, cfg, alphabet)
    focus_C = focus_columns(family, cfg.min_column_coverage)
    if not focus_C.any():
        raise UserError(
            f"no column of {query.name} is covered by {cfg.min_column_coverage:.0%} of the "
            f"{len(family.names)} rows; lower --min-column-coverage"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(family.to_a2m(focus_C))
    tmp.replace(args.out)
    print(
        f"{args.out}: {len(family.names)} rows ({family.hits} domains included, "
        f"{family.hits - len(family.names) + 1} below --min-coverage or the query itself) over "
        f"{int(focus_C.sum())} of the query's {len(focus_C)} residues; "
        f"`--eval.query {family.names[0]}` names the query's row",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return command_line.run(PROG, lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
