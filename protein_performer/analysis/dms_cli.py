"""`protein-performer dms`: score a deep mutational scan with any checkpoint, beside baselines.

    protein-performer dms --checkpoint CKPT --scan scan.csv --score-column CRIPT \\
        --wild-type wt.fasta --offset 311 [--msa family.fasta.gz --query NAME] --out DIR

With `--msa` the wild type is placed on the alignment's columns (its row `--query`, or
hmmalign), variants outside them are counted as unscorable, and the site-independent PSSM and
the pseudo-likelihood Potts model of the weighted alignment are scored in the same table (and
the Potts model's contacts beside the model's); an aligned family model needs it. Without
it, every residue is scored by the model alone. Writes `scores.tsv`, `evaluation.json`,
`report.md` and `dms.png` to `--out`.

Its flags are those of `protein-performer family --eval.*` (kebab-case there too):
`--score-column` is `--eval.score-column`, `--methods` is `--eval.methods`, `--n-boot` is
`--eval.n-boot`, and so on; the old spellings `--score` and `--method` still parse.

The model's scores are those of `protein-performer mutations` and `pp.score`
(`analysis.variant_scores`). Reading the alignment needs no Lightning (`data.family_alignment`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from protein_performer import command_line
from protein_performer.analysis.variant_scores import SCORE_METHODS


def build_parser() -> argparse.ArgumentParser:
    parser = command_line.ArgumentParser(
        prog="protein-performer dms", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--checkpoint", type=Path, required=True, help="model to score with")
    parser.add_argument("--scan", type=Path, required=True, help="CSV with a mutant column")
    parser.add_argument(
        "--score-column", "--score", dest="score_column", required=True,
        help="the scan's measured-score column (family: --eval.score-column)",
    )  # fmt: skip
    parser.add_argument("--mutant-column", default="mutant", help="the scan's variant column")
    parser.add_argument("--wild-type", type=Path, required=True, help="FASTA of the wild type")
    parser.add_argument("--offset", type=int, default=1, help="number of the first residue")
    parser.add_argument("--msa", type=Path, default=None, help="the family alignment")
    parser.add_argument("--query", default=None, help="the wild type's row in --msa")
    parser.add_argument("--contacts", type=Path, default=None, help="column contact map")
    parser.add_argument(
        "--methods", "--method", dest="methods", action="extend", nargs="+",
        choices=SCORE_METHODS, default=None, metavar="METHOD",
        help=f"scores to compute, one or more of {', '.join(SCORE_METHODS)} (family: "
        "--eval.methods); default: the model's usual ones",
    )  # fmt: skip
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument(
        "--potts-iterations", type=int, default=100,
        help="L-BFGS iterations of the Potts baseline with --msa (0 skips it)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("reports/dms"), help="output folder")
    return parser


def run(args: argparse.Namespace) -> int:
    from protein_performer.analysis.family_evaluation import FamilyEvalConfig
    from protein_performer.analysis.family_pipeline import evaluate_and_report
    from protein_performer.data.family_alignment import FamilyAlignment, FamilyDataConfig
    from protein_performer.model.io import load_model

    if not args.checkpoint.exists():
        raise FileNotFoundError(f"--checkpoint {args.checkpoint}: no such file or directory")
    for path, flag in ((args.scan, "--scan"),
                       (args.wild_type, "--wild-type"), (args.msa, "--msa"),
                       (args.contacts, "--contacts")):  # fmt: skip
        if path is not None and not path.is_file():
            raise FileNotFoundError(f"{flag} {path}: no such file")
    if args.n_boot < 1:
        raise ValueError(f"--n-boot must be >= 1, got {args.n_boot}")
    if args.contacts is not None and args.msa is None:
        raise ValueError("--contacts needs --msa: a column contact map is over its columns")
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out {args.out}: is a file; give a folder for the reports")
    if args.potts_iterations < 0:
        raise ValueError(f"--potts-iterations must be >= 0, got {args.potts_iterations}")
    model = load_model(args.checkpoint)
    datamodule = None
    if args.msa is not None:
        datamodule = FamilyAlignment(FamilyDataConfig(msa=str(args.msa)))
    cfg = FamilyEvalConfig(
        scan=str(args.scan), score_column=args.score_column, wild_type=str(args.wild_type),
        offset=args.offset, query=args.query,
        contacts=str(args.contacts) if args.contacts else None,
        methods=tuple(args.methods) if args.methods else None, n_boot=args.n_boot,
        mutant_column=args.mutant_column,
        potts_iterations=args.potts_iterations,
    )  # fmt: skip
    evaluate_and_report(model, datamodule, cfg, args.out, name=args.checkpoint.stem,
                        extra={"checkpoint": str(args.checkpoint)})  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return command_line.run("protein-performer dms", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
