"""`protein-performer analyze` / `make analyze`: attention maps, BLOSUM62 similarity and
contacts of a trained model, written to `reports/analyze/<run>/`.

Without `--checkpoint` it analyses the shipped default model and says so. Every option is
checked before any work starts. Exit codes: 0 on success, 2 on a user error (one line on
stderr naming the flag or file).

With no `--checkpoint`, the shipped Kunitz family model (Pfam PF00014) is analysed beside it on
BPT1_BOVIN (`analysis.bpti_report`): attention maps of every layer and head with 5PTI's contacts
overlaid, attention and Jacobian contacts, one precision table, in `reports/analyze/bpti/`.
An aligned family model reads alignment columns, not free sequences: BPT1_BOVIN is placed on
its columns (`analysis.placement`; a model whose profile cannot place it is refused in one
line) and only the residues on the columns are scored.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from protein_performer import cli_support as cs
from protein_performer import command_line
from protein_performer.errors import UserError

PROG = "protein-performer analyze"


def run_name(checkpoint: Path) -> str:
    """`<run>-<stem>` for `runs/<run>/checkpoints/<stem>.ckpt`, else the file's stem (so the
    shipped model's report is `reports/analyze/protein_performer_default/`)."""
    from protein_performer.paths import CHECKPOINTS_DIR

    if checkpoint.resolve().parent == CHECKPOINTS_DIR:
        return checkpoint.stem
    if checkpoint.parent.name == "checkpoints" and checkpoint.parent.parent.name:
        return f"{checkpoint.parent.parent.name}-{checkpoint.stem}"
    return checkpoint.stem


def _yes_no(text: str) -> bool:
    if text.lower() not in ("true", "false", "yes", "no", "1", "0"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return text.lower() in ("true", "yes", "1")


# flag -> (AnalyzeOptions field, type, help); the defaults are read from AnalyzeOptions.
OPTION_FLAGS = {
    "--n-sequences": ("n_sequences", int, "held-out sequences for the attention similarity"),
    "--n-train-structures": (
        "n_train_structures",
        int,
        "TS50 chains (first ids in sorted order) used for fitting",
    ),
    "--l1-c": ("l1_c", float, "inverse L1 strength of the contact regression"),
    "--ts50-jacobian": (
        "ts50_jacobian",
        _yes_no,
        "categorical-Jacobian contacts of the TS50 test chains too, minutes (true/false)",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    from protein_performer.analysis.pipeline import AnalyzeOptions

    parser = command_line.ArgumentParser(
        prog=PROG,
        description="Attention maps of BPT1_BOVIN, amino-acid similarity vs BLOSUM62 "
        "(Vig et al. 2021) and contact precision on TS50 and BPTI (Rao et al. 2021).",
    )
    cs.add_checkpoint_flag(parser)
    parser.add_argument(
        "--family-checkpoint",
        type=Path,
        default=None,
        help="aligned family model shown beside it on BPT1_BOVIN (default: the shipped "
        "Kunitz model checkpoints/family_pf00014.ckpt when --checkpoint is not given; "
        "none for no side-by-side)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("reports/analyze"),
        help="parent directory of the report (default: reports/analyze)",
    )
    parser.add_argument(
        "--run-name",
        default=None,
        help="report sub-directory (default: derived from the checkpoint path)",
    )
    defaults = {f.name: f.default for f in dataclasses.fields(AnalyzeOptions)}
    for flag, (name, kind, help_) in OPTION_FLAGS.items():
        parser.add_argument(
            flag,
            dest=name,
            type=kind,
            default=defaults[name],
            help=f"{help_} (default: %(default)s)",
        )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    return parser


def options_from(args: argparse.Namespace):
    """`AnalyzeOptions` from the flags; a bad value is a `UserError` naming its flag."""
    from protein_performer.analysis.pipeline import AnalyzeOptions

    values = {name: getattr(args, name) for name, _, _ in OPTION_FLAGS.values()}
    try:
        return AnalyzeOptions(**values)
    except ValueError as error:
        message = str(error)
        for flag, (name, _, _) in OPTION_FLAGS.items():
            message = message.replace(name, flag) if message.startswith(name) else message
        raise UserError(message) from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return command_line.run(PROG, lambda: _analyze(args))


def _analyze(args: argparse.Namespace) -> int:
    options = options_from(args)
    if str(args.out) == cs.STDOUT:
        raise UserError("--out -: analyze writes a directory of figures, not one stream")
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"--out {args.out}: is a file; give the parent directory")
    if args.threads is not None and args.threads < 1:
        raise UserError("--threads must be >= 1")
    # Heavy imports only once the options are known to be good.
    import matplotlib

    matplotlib.use("Agg")  # the command only writes files; the choice is the caller's, here
    import torch

    from protein_performer.analysis.pipeline import run_analysis
    from protein_performer.analysis.placement import is_aligned_model

    if args.threads:
        torch.set_num_threads(args.threads)
    model, provenance = cs.load_checkpoint(args.checkpoint, PROG)
    family = _family_model(args, model)
    checkpoint = Path(provenance.path)
    out_dir = args.out / (args.run_name or run_name(checkpoint))
    side_by_side = [(model, provenance), *([family] if family else [])]
    if is_aligned_model(model):
        print(f"analysing {provenance} (aligned family model) on BPT1_BOVIN -> {out_dir}")
        _compare(side_by_side, out_dir)
        return 0
    print(f"analysing {provenance} -> {out_dir}")
    result = run_analysis(
        model,
        out_dir,
        options,
        checkpoint=provenance.path,
        checkpoint_sha256=provenance.sha256,
        progress=True,
    )
    print(summary_lines(result))
    print(f"wrote {out_dir / 'metrics.json'} and {out_dir / 'report.md'}")
    if family:
        _compare(side_by_side, args.out / "bpti", result.attention_vs_blosum62.pearson)
    return 0


def _family_model(args: argparse.Namespace, model):
    """(model, provenance) of the family model shown beside `model`: `--family-checkpoint`,
    else the shipped Kunitz model when no `--checkpoint` was given; None for none."""
    from protein_performer.analysis.placement import is_aligned_model
    from protein_performer.model.io import load_model, provenance
    from protein_performer.paths import SHIPPED_KUNITZ_CHECKPOINT

    path = args.family_checkpoint
    if path is None and args.checkpoint is None:
        path = SHIPPED_KUNITZ_CHECKPOINT
    if path is None or str(path) == "none":
        return None
    family = load_model(path)
    if not is_aligned_model(family):
        raise UserError(f"--family-checkpoint {path}: not an aligned family model")
    return family, provenance(path)


def _compare(models, out_dir: Path, general_attention_r: float | None = None) -> None:
    """BPT1_BOVIN side by side (`analysis.bpti_report`): printed and written to `out_dir`."""
    from protein_performer.analysis.bpti_report import (
        NamedModel,
        compare_on_bpti,
        markdown_table,
        write_comparison,
    )
    from protein_performer.analysis.similarity import embedding_similarity, score_against_blosum62

    named = [NamedModel(_model_name(p), m, _training_note(m)) for m, p in models]
    comparison = compare_on_bpti(named, out_dir)
    similarity = {}
    for entry in named:
        table = entry.model.token_embedding.weight.detach().float().numpy()
        similarity[entry.name] = {
            "embedding": score_against_blosum62(embedding_similarity(table)).pearson
        }
    if general_attention_r is not None:
        similarity[named[0].name]["attention"] = general_attention_r
    extra = {"checkpoints": {_model_name(p): p.as_dict() for _, p in models}}
    write_comparison(comparison, named, out_dir, similarity, extra)
    print(f"\nBPT1_BOVIN, 5PTI contacts (Cβ 8 Å) on the residues of the family's columns:\n"
          f"{markdown_table(comparison)}\nwrote {out_dir / 'report.md'}")  # fmt: skip


def _model_name(provenance) -> str:
    return Path(provenance.path).name.removesuffix(".ckpt")


def _training_note(model) -> str:
    """What the report says of a family model's training data, from its `FamilyInfo`."""
    info = getattr(model, "family_info", None)
    if info is None:
        return ""
    held = ", ".join(info.holdout)
    order = ", read C→N" if info.direction == "reverse" else ""
    trained = f"Trained on `{info.alignment}` ({info.n_columns} columns{order})"
    return f"{trained}; rows held out of training: {held}." if held else f"{trained}."


def summary_lines(result) -> str:
    """The headline numbers of an `AnalysisResult`, for the terminal."""

    def fmt(value) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    att, emb = result.attention_vs_blosum62, result.embedding_vs_blosum62
    lines = [
        f"BLOSUM62 Pearson r: attention {fmt(att.pearson)}, embedding {fmt(emb.pearson)}  "
        f"(Spearman: {fmt(att.spearman)}, {fmt(emb.spearman)})",
    ]
    for key in ("ts50_test", "bpti", "bpti_mature"):
        for method, ranges in result.contacts[key].items():
            long = ranges["long"]
            lines.append(
                f"{key:11s} {method:24s} long P@L {fmt(long['P@L'])}  "
                f"P@L/5 {fmt(long['P@L/5'])}  (random {fmt(long['random'])})"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
