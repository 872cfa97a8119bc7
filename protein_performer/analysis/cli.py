"""`protein-performer analyze` / `make analyze`: attention maps, BLOSUM62 similarity and
contacts of a trained model, written to `reports/analyze/<run>/`.

Exit codes: 0 on success, 2 when there is no checkpoint to analyse (the message says how to
get one) or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from protein_performer.analysis.checkpoint_choice import checkpoint_or_report


def run_name(checkpoint: Path) -> str:
    """`<run>-<stem>` for `runs/<run>/checkpoints/<stem>.ckpt`, else the file's stem."""
    if checkpoint.parent.name == "checkpoints" and checkpoint.parent.parent.name:
        return f"{checkpoint.parent.parent.name}-{checkpoint.stem}"
    return checkpoint.stem


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="protein-performer analyze",
        description="Attention maps of BPT1_BOVIN, amino-acid similarity vs BLOSUM62 "
        "(Vig et al. 2021) and contact precision on TS50 and BPTI (Rao et al. 2021).",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="Lightning checkpoint (default: newest of `make train` under "
        "runs/, else checkpoints/protein_performer_default.ckpt)",
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
    parser.add_argument(
        "--n-sequences",
        type=int,
        default=800,
        help="held-out sequences for the attention similarity (default: 800)",
    )
    parser.add_argument(
        "--n-train-structures",
        type=int,
        default=20,
        help="TS50 chains (first ids in sorted order) used for fitting",
    )
    parser.add_argument(
        "--l1-c",
        type=float,
        default=0.15,
        help="inverse L1 strength of the contact regression (default: 0.15)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.n_sequences < 1:
        print("protein-performer analyze: --n-sequences must be >= 1", file=sys.stderr)
        return 2
    checkpoint = checkpoint_or_report(args.checkpoint, "protein-performer analyze")
    if checkpoint is None:
        return 2
    # Heavy imports only once there is something to analyse.
    import torch

    from protein_performer.analysis.pipeline import AnalyzeOptions, run_analysis
    from protein_performer.training.checkpoint import load_model

    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_model(checkpoint)
    out_dir = args.out / (args.run_name or run_name(checkpoint))
    print(f"analysing {checkpoint} -> {out_dir}")
    options = AnalyzeOptions(
        n_sequences=args.n_sequences, n_train_structures=args.n_train_structures, l1_c=args.l1_c
    )
    metrics = run_analysis(model, out_dir, options, checkpoint=str(checkpoint))
    print(summary_lines(metrics))
    print(f"wrote {out_dir / 'metrics.json'} and {out_dir / 'report.md'}")
    return 0


def summary_lines(metrics: dict) -> str:
    """The headline numbers, for the terminal."""

    def fmt(value) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    lines = [
        f"BLOSUM62 Pearson r: attention {fmt(metrics['blosum62_pearson_attention'])}, "
        f"embedding {fmt(metrics['blosum62_pearson_embedding'])}  (Spearman: "
        f"{fmt(metrics['blosum62_spearman_attention'])}, "
        f"{fmt(metrics['blosum62_spearman_embedding'])})",
    ]
    for key in ("ts50_test", "bpti", "bpti_mature"):
        for method, ranges in metrics["contacts"][key].items():
            long = ranges["long"]
            lines.append(
                f"{key:11s} {method:24s} long P@L {fmt(long['P@L'])}  "
                f"P@L/5 {fmt(long['P@L/5'])}  (random {fmt(long['random'])})"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
