"""`protein-performer dms`: score a deep mutational scan with any checkpoint, beside baselines.

    protein-performer dms --checkpoint CKPT --scan scan.csv --score-column CRIPT \\
        --wild-type wt.fasta --offset 311 [--msa family.fasta.gz --query NAME] --out DIR
    protein-performer dms --checkpoint CKPT --msa family.fasta.gz --wild-type wt.fasta \\
        --structure 5PTI.pdb --chain A      # contacts alone

With `--msa` the wild type is placed on the alignment's columns (its row `--query`, or
hmmalign), variants outside them are counted as unscorable, and the site-independent PSSM and
the pseudo-likelihood Potts model of the weighted alignment are scored in the same table (and
the Potts model's contacts beside the model's); an aligned family model needs it. Without
it, every residue is scored by the model alone. The baselines are fitted on the rows the
models were trained on: the rows a family model kept out of training (`--data.holdout`, saved
with it) are kept out of theirs. Contacts come from a column contact map (`--contacts`) or a
structure of the wild type (`--structure`, `--chain`); without `--scan` they are all that is
scored. Writes `evaluation.json`, `report.md`, and with a scan `scores.tsv` and `dms.png`, to
`--out`.

`--checkpoint` given more than once scores an ensemble (`analysis.ensemble`): every model's
rows and contact read-outs, named after its file, then the ensemble's: the mean of each model's
first score, and the mean of the models' standardised contact maps, e.g. a causal family model
trained N→C and one trained C→N (`family --data.direction reverse`).

Its flags are those of `protein-performer family --eval.*` (kebab-case there too):
`--score-column` is `--eval.score-column`, `--methods` is `--eval.methods`, `--n-boot` is
`--eval.n-boot`, and so on; the old spellings `--score` and `--method` still parse.

The model's scores are those of `protein-performer mutations` and `pp.score`
(`analysis.variant_scores`). Reading the alignment needs no Lightning (`data.family_alignment`).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from protein_performer import command_line
from protein_performer.analysis.variant_scores import SCORE_METHODS
from protein_performer.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = command_line.ArgumentParser(
        prog="protein-performer dms", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--checkpoint", type=Path, action="append", required=True,
        help="model to score with; give it again for an ensemble of the models",
    )  # fmt: skip
    parser.add_argument("--scan", type=Path, default=None, help="CSV with a mutant column")
    parser.add_argument(
        "--score-column", "--score", dest="score_column", default=None,
        help="the scan's measured-score column, needed with --scan (family: --eval.score-column)",
    )  # fmt: skip
    parser.add_argument("--mutant-column", default="mutant", help="the scan's variant column")
    parser.add_argument(
        "--wild-type", type=Path, default=None,
        help="FASTA of the wild type (default: from the scan's mutated_sequence column, or the "
        "--query row of --msa)",
    )  # fmt: skip
    parser.add_argument("--offset", type=int, default=1, help="number of the first residue")
    parser.add_argument("--msa", type=Path, default=None, help="the family alignment")
    parser.add_argument("--query", default=None, help="the wild type's row in --msa")
    parser.add_argument("--contacts", type=Path, default=None, help="column contact map")
    parser.add_argument(
        "--structure", type=Path, default=None,
        help="PDB / mmCIF of the wild type: contacts through its columns (needs --chain)",
    )  # fmt: skip
    parser.add_argument("--chain", default=None, help="the chain of --structure, e.g. A")
    parser.add_argument(
        "--methods", "--method", dest="methods", action="extend", nargs="+",
        choices=SCORE_METHODS, default=None, metavar="METHOD",
        help=f"scores to compute, one or more of {', '.join(SCORE_METHODS)} (family: "
        "--eval.methods); default: the model's usual ones",
    )  # fmt: skip
    parser.add_argument(
        "--min-coverage", type=float, default=0.5,
        help="refuse a scan with a smaller share of its variants on --msa's columns",
    )  # fmt: skip
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument(
        "--potts-iterations", type=int, default=100,
        help="L-BFGS iterations of the Potts baseline with --msa (0 skips it)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("reports/dms"), help="output folder")
    return parser


def run(args: argparse.Namespace) -> int:
    from protein_performer.analysis.family_evaluation import FamilyEvalConfig, setup_evaluation
    from protein_performer.analysis.family_pipeline import evaluate_and_report
    from protein_performer.data.family_alignment import FamilyAlignment, FamilyDataConfig
    from protein_performer.model.io import load_model

    for path in args.checkpoint:
        if not path.exists():
            raise FileNotFoundError(f"--checkpoint {path}: no such file or directory")
    names = member_names(args.checkpoint)
    inputs = ((args.scan, "--scan"), (args.wild_type, "--wild-type"), (args.msa, "--msa"),
              (args.contacts, "--contacts"), (args.structure, "--structure"))  # fmt: skip
    for path, flag in inputs:
        if path is not None and not path.is_file():
            raise FileNotFoundError(f"{flag} {path}: no such file")
    if args.scan is None and args.contacts is None and args.structure is None:
        raise ValueError("nothing to score: give --scan, --contacts or --structure")
    if args.scan is not None and args.score_column is None:
        raise ValueError("--scan needs --score-column: the scan's measured-score column")
    if args.contacts is not None and args.structure is not None:
        raise ValueError("--contacts and --structure: give one contact source, not both")
    if args.structure is not None and not args.chain:
        raise ValueError("--structure needs --chain (the chain id, e.g. A)")
    if args.n_boot < 1:
        raise ValueError(f"--n-boot must be >= 1, got {args.n_boot}")
    if args.contacts is not None and args.msa is None:
        raise ValueError("--contacts needs --msa: a column contact map is over its columns")
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out {args.out}: is a file; give a folder for the reports")
    if args.potts_iterations < 0:
        raise ValueError(f"--potts-iterations must be >= 0, got {args.potts_iterations}")
    models = [load_model(path) for path in args.checkpoint]
    try:
        datamodule = None
        if args.msa is not None:
            holdout = tuple(sorted({name for model in models for name in held_out_of(model)}))
            datamodule = FamilyAlignment(FamilyDataConfig(msa=str(args.msa), holdout=holdout))
        cfg = FamilyEvalConfig(
            scan=str(args.scan) if args.scan else None, score_column=args.score_column or "",
            wild_type=str(args.wild_type) if args.wild_type else None, offset=args.offset,
            query=args.query,
            contacts=str(args.contacts) if args.contacts else None,
            structure=str(args.structure) if args.structure else None, chain=args.chain,
            methods=tuple(args.methods) if args.methods else None, n_boot=args.n_boot,
            mutant_column=args.mutant_column, min_coverage=args.min_coverage,
            potts_iterations=args.potts_iterations,
        )  # fmt: skip
        evaluation = setup_evaluation(datamodule, cfg)
    except ValueError as error:
        raise UserError(dms_flags(str(error))) from None
    extra: dict[str, object] = {"checkpoint": str(args.checkpoint[0])}
    if datamodule is not None:
        extra["held_out_of_baselines"] = list(datamodule.config.holdout)
    if len(models) > 1:
        extra["ensemble"] = {name: str(path) for name, path in zip(names, args.checkpoint,
                                                                     strict=True)}  # fmt: skip
    evaluate_and_report(models[0], datamodule, cfg, args.out, name=names[0],
                        members=list(zip(names[1:], models[1:], strict=True)), extra=extra,
                        evaluation=evaluation)  # fmt: skip
    return 0


# The family command's evaluation settings (`--eval.*`, `FamilyEvalConfig`) as dms spells them.
DMS_FLAGS = {
    "scan": "--scan", "score_column": "--score-column", "mutant_column": "--mutant-column",
    "wild_type": "--wild-type", "offset": "--offset", "query": "--query",
    "contacts": "--contacts", "structure": "--structure", "chain": "--chain",
    "methods": "--methods", "n_boot": "--n-boot", "potts_iterations": "--potts-iterations",
    "min_coverage": "--min-coverage",
}  # fmt: skip


def dms_flags(message: str) -> str:
    """`message` with the family command's `--eval.*` flags named as dms flags."""
    message = message.replace("(--data.holdout)", "(held out of a --checkpoint's training)")
    return re.sub(r"(?:--)?eval\.([a-z_-]+)",
                  lambda m: DMS_FLAGS.get(m.group(1).replace("-", "_"), m.group(0)),
                  message)  # fmt: skip


def held_out_of(model) -> tuple[str, ...]:
    """The rows a family model was trained without (none for a general model)."""
    from protein_performer.analysis.placement import family_of

    info = family_of(model)
    return tuple(info.holdout) if info is not None else ()


def member_names(paths: list[Path]) -> list[str]:
    """Each checkpoint's name: its file stem or, where two share one, as many trailing parts of
    its path as tell them apart (`a/checkpoints/best`, `b/checkpoints/best`)."""
    seen: dict[Path, Path] = {}
    for path in paths:
        if path.resolve() in seen:
            raise ValueError(f"--checkpoint {path}: given twice (as {seen[path.resolve()]})")
        seen[path.resolve()] = path
    parts = [path.with_suffix("").parts for path in paths]
    for depth in range(1, max(len(p) for p in parts) + 1):
        names = ["/".join(p[-depth:]) for p in parts]
        if len(set(names)) == len(names):
            return names
    return [str(path) for path in paths]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return command_line.run("protein-performer dms", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
