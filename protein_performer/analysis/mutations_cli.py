"""`protein-performer mutations`: zero-shot scores of substitutions in one protein, as TSV.

    protein-performer mutations --sequence MKT... --mutations A12G K15R:A12G --out scores.tsv
    protein-performer mutations --fasta wt.fasta --scan --out scan.tsv   # every single mutant

The TSV starts with `# checkpoint:` and `# checkpoint_sha256:` comment lines naming the model.

Methods: `masked-marginals` (default), `wt-marginals` and `pll` for masked-LM models; causal
models are scored by the log-likelihood ratio (`causal-llr`) whatever the method. The scores are
those of `protein-performer dms` (`analysis.variant_scores`, which says how a multi-mutant is
scored).

An aligned family model reads the wild type placed on its columns (`analysis.placement`: given
aligned with `-`, or by its profile HMM; a wild type that does not fit is an error): a variant
whose mutated residue falls on no column scores `nan`, and the count is reported.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from protein_performer import cli_support as cs
from protein_performer import command_line
from protein_performer.errors import UserError

PROG = "protein-performer mutations"


def build_parser() -> argparse.ArgumentParser:
    parser = command_line.ArgumentParser(prog=PROG, description="Zero-shot mutation effect scores")
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
    parser.add_argument("--scan", **command_line.SWITCH, help="score every single substitution")
    parser.add_argument(
        "--method", choices=("masked-marginals", "wt-marginals", "pll"),
        default="masked-marginals", help="masked-LM score (causal models: causal-llr)",
    )  # fmt: skip
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


def scoring_frame(
    model, wild_type: str, offset: int = 1, where: str = "wild type", given: str | None = None
):
    """What the model reads for the wild type: its residues, or for an aligned family model
    the wild type placed on the columns (`given`: the wild type as the user wrote it, perhaps
    already aligned with `-`)."""
    from protein_performer.analysis.placement import is_aligned_model, place
    from protein_performer.analysis.variant_scores import aligned_frame, unaligned_frame

    if is_aligned_model(model):
        placement = place(model, given or wild_type, name=where)
        if placement.sequence != wild_type:
            raise ValueError(f"{where}: its residues differ from the wild type's")
        return aligned_frame(placement.column_map(offset), placement.direction)
    return unaligned_frame(wild_type)


def score_variants(
    model,
    wild_type: str,
    variants: list[str],
    method: str,
    offset: int = 1,
    *,
    where: str = "wild type",
    given: str | None = None,
    progress: bool = False,
    chunk: int = 16,
) -> list[tuple[str, float]]:
    """(variant, score) pairs; higher means the model finds the variant more plausible; NaN
    where a mutated residue has no position in the model's input. `given`: the wild type as
    written (for an aligned model, perhaps aligned with `-`); positions count its residues."""
    from protein_performer.analysis import variant_scores as vs
    from protein_performer.analysis.dms import Variant
    from protein_performer.analysis.mutations import parse_mutations

    # Synonymous rows (`I2I`, common in scans) change nothing and score 0.
    parsed = [
        Variant(v, float("nan"),
                parse_mutations(v, wild_type, offset=offset, allow_synonymous=True), 0)
        for v in variants
    ]  # fmt: skip
    frame = scoring_frame(model, wild_type, offset, where, given)
    method = "causal-llr" if model.config.causal else method
    from protein_performer.progress import progress_bar

    # Scored in chunks (each variant's score is independent of the others) so that a bar can
    # follow a long scan.
    scores = []
    bar = progress_bar(len(parsed), "mutations", enabled=progress)
    for start in range(0, len(parsed), chunk):
        part = parsed[start : start + chunk]
        scores.extend(float(s) for s in vs.score_variants(model, frame, part, method))
        bar.update(len(part))
    bar.close()
    return list(zip(variants, scores, strict=True))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return command_line.run(PROG, lambda: _mutations(args))


def _wild_type(args: argparse.Namespace) -> tuple[str, str]:
    """(sequence, where) from --sequence or the first record of --fasta."""
    if args.fasta is not None:
        record = cs.read_fasta(args.fasta)[0]
        return record.sequence, f"{record.path}:{record.line}: record {record.name!r}"
    if not args.sequence or not args.sequence.strip():
        raise UserError("--sequence: empty sequence")
    return args.sequence, "--sequence"


def _variants(args: argparse.Namespace, wild_type: str) -> list[str]:
    from protein_performer.constants import STANDARD_AMINO_ACIDS

    variants = list(args.mutations)
    if args.mutations_file:
        if not args.mutations_file.is_file():
            raise UserError(f"--mutations-file {args.mutations_file}: no such file")
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
        raise UserError("give --mutations, --mutations-file or --scan")
    return variants


def _mutations(args: argparse.Namespace) -> int:
    from protein_performer.data.inputs import check_sequences

    out = cs.check_out(args.out)
    raw, where = _wild_type(args)
    # Letters are checked before anything is scored: an invalid letter is an error unless
    # --unknown x, and the wild type must fit the model (a crop would move the positions).
    # A wild type aligned with `-` (for an aligned family model) is checked by its residues.
    gapped = "-" in raw or "." in raw
    residues = "".join(c for c in raw if c not in "-.") if gapped else raw
    if gapped and any(c.islower() for c in residues):
        residues = residues.upper()  # A2M insertions are residues of the wild type too
    checked = check_sequences([residues], max_residues=None, unknown=args.unknown, names=[where])
    wild_type = checked.sequences[0]
    variants = _variants(args, wild_type)
    model, provenance = cs.load_checkpoint(args.checkpoint, PROG)
    from protein_performer.analysis.placement import is_aligned_model

    if gapped and not is_aligned_model(model):
        raise UserError(f"{where}: holds '-', but the model reads unaligned sequences")
    if not is_aligned_model(model) and len(wild_type) > model.config.max_len - 2:
        raise UserError(
            f"{where}: {len(wild_type)} residues exceed the model's max_len - 2 = "
            f"{model.config.max_len - 2}; mutation positions would not survive a crop"
        )
    scores = score_variants(model, wild_type, variants, args.method, args.offset, progress=True,
                            where=where,
                            given=raw if gapped else None)  # fmt: skip
    method = "causal-llr" if model.config.causal else args.method
    off_columns = sum(s != s for _, s in scores)
    if off_columns:
        print(f"{PROG}: warning: {off_columns} variant(s) mutate residues on no column of the "
              f"aligned model; they score nan", file=sys.stderr)  # fmt: skip
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
