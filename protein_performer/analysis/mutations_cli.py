"""`protein-performer mutations`: zero-shot scores of substitutions in one protein, as TSV.

    protein-performer mutations --sequence MKT... --mutations A12G K15R:A12G --out scores.tsv
    protein-performer mutations --fasta wt.fasta --scan --out scan.tsv   # every single mutant

The TSV starts with `# checkpoint:` and `# checkpoint_sha256:` comment lines naming the model.

Methods: `masked-marginals` (default) and `pll` for masked-LM models; causal models are
scored by sequence log-likelihood whatever the method (see `analysis.mutations`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from protein_performer import cli_support as cs

PROG = "protein-performer mutations"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Zero-shot mutation effect scores")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--sequence", help="wild-type sequence")
    source.add_argument("--fasta", type=Path, help="FASTA whose first record is the wild type")
    parser.add_argument(
        "--mutations",
        nargs="*",
        default=[],
        help="variants like A12G or A12G:K15R (1-based positions)",
    )
    parser.add_argument("--mutations-file", type=Path, help="file with one variant per line")
    parser.add_argument("--scan", action="store_true", help="score every single substitution")
    parser.add_argument(
        "--method", choices=("masked-marginals", "pll"), default="masked-marginals"
    )
    parser.add_argument(
        "--offset",
        type=int,
        default=1,
        help="number of the first residue in the variant names (default: 1)",
    )
    cs.add_checkpoint_flag(parser)
    cs.add_unknown_flag(parser)
    cs.add_out_flag(parser, what="TSV")
    return parser


def score_variants(
    model,
    wild_type: str,
    variants: list[str],
    method: str,
    offset: int = 1,
    *,
    progress: bool = False,
) -> list[tuple[str, float]]:
    """(variant, score) pairs; higher means the model finds the variant more plausible.
    `progress` draws a bar over the variants scored one forward pass (or L passes) each."""
    from protein_performer.analysis import mutations as mut
    from protein_performer.progress import progress_bar

    # Synonymous rows (`I2I`, common in scans) change nothing and score 0.
    parsed = [
        (v, mut.parse_mutations(v, wild_type, offset=offset, allow_synonymous=True))
        for v in variants
    ]
    per_variant = model.config.objective == "causal" or method == "pll"
    bar = progress_bar(len(parsed), "mutations", enabled=progress and per_variant)

    def each():  # the variants, advancing the bar as each one is scored
        for item in parsed:
            yield item
            bar.update(1)

    if model.config.objective == "causal":
        base = mut.sequence_log_likelihood(model, wild_type)
        return [
            (v, mut.sequence_log_likelihood(model, mut.apply_mutations(wild_type, m)) - base)
            for v, m in each()
        ]
    if method == "pll":
        base = mut.pseudo_log_likelihood(model, wild_type)
        return [
            (v, mut.pseudo_log_likelihood(model, mut.apply_mutations(wild_type, m)) - base)
            for v, m in each()
        ]
    positions = sorted({x.position for _, m in parsed for x in m})
    logp_LV = mut.masked_log_probs(model, wild_type, positions)
    return [(v, mut.masked_marginal_score(logp_LV, m)) for v, m in parsed]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return cs.run(PROG, lambda: _mutations(args))


def _wild_type(args: argparse.Namespace) -> tuple[str, str]:
    """(sequence, where) from --sequence or the first record of --fasta."""
    if args.fasta is not None:
        record = cs.read_fasta(args.fasta)[0]
        return record.sequence, f"{record.path}:{record.line}: record {record.name!r}"
    if not args.sequence or not args.sequence.strip():
        raise cs.UsageError("--sequence: empty sequence")
    return args.sequence, "--sequence"


def _variants(args: argparse.Namespace, wild_type: str) -> list[str]:
    from protein_performer.constants import STANDARD_AMINO_ACIDS

    variants = list(args.mutations)
    if args.mutations_file:
        if not args.mutations_file.is_file():
            raise cs.UsageError(f"--mutations-file {args.mutations_file}: no such file")
        variants += [
            ln.strip()
            for ln in args.mutations_file.read_text().splitlines()
            if ln.strip() and not ln.startswith("#")
        ]
    if args.scan:
        variants += [
            f"{wt}{i + args.offset}{aa}"
            for i, wt in enumerate(wild_type)
            for aa in STANDARD_AMINO_ACIDS
            if aa != wt and wt in STANDARD_AMINO_ACIDS
        ]
    if not variants:
        raise cs.UsageError("give --mutations, --mutations-file or --scan")
    return variants


def _mutations(args: argparse.Namespace) -> int:
    from protein_performer.data.inputs import check_sequences

    out = cs.check_out(args.out)
    raw, where = _wild_type(args)
    # Letters are checked before anything is scored: an invalid letter is an error unless
    # --unknown x, and the wild type must fit the model (a crop would move the positions).
    wild_type = check_sequences([raw], max_residues=None, unknown=args.unknown, names=[where])
    wild_type = wild_type.sequences[0]
    variants = _variants(args, wild_type)
    model, provenance = cs.load_checkpoint(args.checkpoint, PROG)
    if len(wild_type) > model.config.max_len - 2:
        raise cs.UsageError(
            f"{where}: {len(wild_type)} residues exceed the model's max_len - 2 = "
            f"{model.config.max_len - 2}; mutation positions would not survive a crop"
        )
    scores = score_variants(model, wild_type, variants, args.method, args.offset, progress=True)
    method = "log-likelihood" if model.config.objective == "causal" else args.method
    text = (
        cs.provenance_comments(provenance)
        + f"variant\t{method}\n"
        + "".join(f"{v}\t{s:.6f}\n" for v, s in scores)
    )
    where_to = cs.write_text(out, text)
    print(f"wrote {len(scores)} scores from {provenance} to {where_to}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
