"""`protein-performer mutations`: zero-shot scores of substitutions in one protein, as TSV.

    protein-performer mutations --sequence MKT... --mutations A12G K15R:A12G --out scores.tsv
    protein-performer mutations --fasta wt.fasta --scan --out scan.tsv   # every single mutant

Methods: `masked-marginals` (default) and `pll` for masked-LM models; causal models are
scored by sequence log-likelihood whatever the method (see `analysis.mutations`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from protein_performer.analysis.checkpoint_choice import checkpoint_or_report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="protein-performer mutations", description="Zero-shot mutation effect scores"
    )
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
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None, help="TSV (default: stdout)")
    return parser


def score_variants(
    model, wild_type: str, variants: list[str], method: str, offset: int = 1
) -> list[tuple[str, float]]:
    """(variant, score) pairs; higher means the model finds the variant more plausible."""
    from protein_performer.analysis import mutations as mut

    parsed = [(v, mut.parse_mutations(v, wild_type, offset=offset)) for v in variants]
    if model.config.objective == "causal":
        base = mut.sequence_log_likelihood(model, wild_type)
        return [
            (v, mut.sequence_log_likelihood(model, mut.apply_mutations(wild_type, m)) - base)
            for v, m in parsed
        ]
    if method == "pll":
        base = mut.pseudo_log_likelihood(model, wild_type)
        return [
            (v, mut.pseudo_log_likelihood(model, mut.apply_mutations(wild_type, m)) - base)
            for v, m in parsed
        ]
    positions = sorted({x.position for _, m in parsed for x in m})
    logp_LV = mut.masked_log_probs(model, wild_type, positions)
    return [(v, mut.masked_marginal_score(logp_LV, m)) for v, m in parsed]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    checkpoint = checkpoint_or_report(args.checkpoint, "protein-performer mutations")
    if checkpoint is None:
        return 2
    from protein_performer.constants import STANDARD_AMINO_ACIDS
    from protein_performer.data.fasta import iter_fasta
    from protein_performer.training.checkpoint import load_model

    wild_type = args.sequence or next(iter(iter_fasta(args.fasta))).sequence
    wild_type = wild_type.upper()
    variants = list(args.mutations)
    if args.mutations_file:
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
        print(
            "protein-performer mutations: give --mutations, --mutations-file or --scan",
            file=sys.stderr,
        )
        return 2
    model = load_model(checkpoint)
    if len(wild_type) > model.config.max_len - 2:
        print(
            f"protein-performer mutations: sequence of {len(wild_type)} residues exceeds the "
            f"model's max_len - 2 = {model.config.max_len - 2}",
            file=sys.stderr,
        )
        return 2
    try:
        scores = score_variants(model, wild_type, variants, args.method, args.offset)
    except ValueError as error:
        print(f"protein-performer mutations: {error}", file=sys.stderr)
        return 2
    method = "log-likelihood" if model.config.objective == "causal" else args.method
    text = f"variant\t{method}\n" + "".join(f"{v}\t{s:.6f}\n" for v, s in scores)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"wrote {len(scores)} scores to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
