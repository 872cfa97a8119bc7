"""`protein-performer embed`: export embeddings of the sequences of a FASTA file.

Writes one `.npz` file: `names` and `sequences` (as analysed, cropped to the model's
`max_len`), `layer`, and either `mean` `[N, C]` (default) or, with `--per-token`, also one
`[L, C]` array per sequence named `tokens_<i>` (residues only, no special tokens).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from protein_performer.analysis.checkpoint_choice import checkpoint_or_report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="protein-performer embed",
        description="Per-sequence (mean) or per-residue embeddings of any layer, as .npz",
    )
    parser.add_argument("fasta", type=Path, help="input FASTA (.gz accepted)")
    parser.add_argument("--out", type=Path, required=True, help="output .npz file")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="checkpoint (default: as `protein-performer analyze`)",
    )
    parser.add_argument(
        "--layer",
        type=int,
        default=-1,
        help="0 = embedding output, i = block i, -1 = final representation",
    )
    parser.add_argument(
        "--per-token", action="store_true", help="also store the per-residue embeddings"
    )
    parser.add_argument("--batch-size", type=int, default=8)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    checkpoint = checkpoint_or_report(args.checkpoint, "protein-performer embed")
    if checkpoint is None:
        return 2
    from protein_performer.analysis.embeddings import embed_sequences
    from protein_performer.data.fasta import iter_fasta
    from protein_performer.training.checkpoint import load_model

    records = list(iter_fasta(args.fasta))
    if not records:
        print(f"protein-performer embed: {args.fasta}: no sequences", file=sys.stderr)
        return 2
    model = load_model(checkpoint)
    try:
        embeddings = embed_sequences(
            model,
            [r.sequence for r in records],
            layer=args.layer,
            pooling="per-token" if args.per_token else "mean",
            batch_size=args.batch_size,
        )
    except ValueError as error:
        print(f"protein-performer embed: {error}", file=sys.stderr)
        return 2
    arrays = {
        "names": np.array([r.name for r in records]),
        "sequences": np.array([e.sequence for e in embeddings]),
        "layer": np.array(embeddings[0].layer),
        "mean": np.stack([e.mean_C for e in embeddings]),
    }
    if args.per_token:
        arrays |= {f"tokens_{i}": e.per_token_LC for i, e in enumerate(embeddings)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, **arrays)
    print(
        f"wrote {len(embeddings)} embeddings (layer {embeddings[0].layer}, width "
        f"{arrays['mean'].shape[1]}) to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
